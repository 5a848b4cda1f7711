// The physical floor for durable ingest: frame the batch exactly as mnemo's WAL does (msgpack
// payload, checksummed header), write it, fdatasync, and nothing else: no validation, no
// projections, no group commit. Nothing durable can be faster on this disk with these bytes.
import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';

import { encodeFrame, encodePayload } from '../../wal/record.js';

export class RawFdatasyncLog {
  private readonly fd: number;
  private position = 0;
  private nextSeq = 1;

  constructor(path: string) {
    this.fd = openSync(path, 'w');
  }

  append(events: readonly unknown[]): void {
    const frame = encodeFrame(this.nextSeq, events.length, encodePayload(events));
    this.position += writeSync(this.fd, frame, 0, frame.length, this.position);
    fdatasyncSync(this.fd);
    this.nextSeq += events.length;
  }

  get bytes(): number {
    return this.position;
  }

  close(): void {
    closeSync(this.fd);
  }
}
