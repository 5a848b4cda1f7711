// Request bodies: read in chunks with a size cap, then decoded as JSON or msgpack.
//
// uWebSockets.js hands each chunk as an ArrayBuffer that is neutered when the callback
// returns, so every chunk is copied. A body over its cap is refused with 413: its bytes are read and
// dropped up to httpRefusedBodyDrainBytesMax first (a lingering close), so the client, which may be
// writing the whole body before it reads, gets to read the answer; past that bound, at once.

import { isUtf8 } from 'node:buffer';
import type { HttpResponse } from 'uWebSockets.js';
import { Unpackr } from 'msgpackr';
import { MnemoError, limits } from '../index.js';
import { invalid } from '../kernel/requests.js';
import type { Refusal } from './exposure.js';

export type BodyResult = { ok: true; bytes: Buffer } | { ok: false; refusal: Refusal };

/**
 * Calls `done` once: with the whole body, or with a 413 refusal. Must be called inside the
 * route handler (before any await), after onAborted is registered.
 */
export function readBody(res: HttpResponse, contentLength: string, capBytes: number, done: (result: BodyResult) => void): void {
  const announced = contentLength === '' ? Number.NaN : Number(contentLength);
  if (announced > limits.httpRefusedBodyDrainBytesMax) {
    done({ ok: false, refusal: tooLarge(announced, capBytes) });
    return;
  }
  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  let refusal: Refusal | null = null;
  let idle: NodeJS.Timeout | undefined;
  const refuse = (): void => {
    clearTimeout(idle);
    if (finished || refusal === null) return;
    finished = true;
    done({ ok: false, refusal });
  };
  const startDraining = (why: Refusal): void => {
    refusal ??= why;
    clearTimeout(idle);
    idle = setTimeout(refuse, limits.httpRefusedBodyDrainIdleMs);
    idle.unref();
  };
  if (announced > capBytes) startDraining(tooLarge(announced, capBytes));
  res.onData((chunk, isLast) => {
    if (finished) return;
    received += chunk.byteLength;
    if (received > capBytes) startDraining(tooLarge(received, capBytes));
    if (refusal !== null) {
      // Drain: drop the bytes, answer once the body has ended (or the drain bound is passed).
      if (isLast || received > limits.httpRefusedBodyDrainBytesMax) refuse();
      else startDraining(refusal);
      return;
    }
    // Buffer.from(ArrayBuffer) would share the memory uWS is about to neuter; copy it.
    if (chunk.byteLength > 0) chunks.push(Buffer.from(new Uint8Array(chunk)));
    if (isLast) {
      finished = true;
      done({ ok: true, bytes: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received) });
    }
  });
}

function tooLarge(bytes: number, capBytes: number): Refusal {
  return new MnemoError('BODY_TOO_LARGE', { bytes, max: capBytes });
}

// ---- decoding ----

// Bad UTF-8 is refused rather than silently replaced with U+FFFD, which would store text the client never sent.
// isUtf8 checks (natively, vectorised) what a fatal TextDecoder would refuse, and Buffer's decoding is then
// lossless; together they cost a third of TextDecoder's time on a search body. A leading BOM is skipped, as
// TextDecoder skips it.
const byteOrderMark = Buffer.from([0xef, 0xbb, 0xbf]);

// Explicit options: plain objects for maps (no records/structures, no Map instances), and
// 64-bit integers as numbers so they reach the engine's number checks.
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number', moreTypes: false, structuredClone: false });

export type BodyFormat = 'json' | 'msgpack';

/** Which decoder a Content-Type asks for; JSON when absent (curl -d sends form-urlencoded by default). */
export function bodyFormatOf(contentType: string, allowMsgpack: boolean): BodyFormat {
  // Only the events route reads msgpack; every other body is JSON whatever it says it is.
  if (!allowMsgpack) return 'json';
  const mime = contentType.split(';')[0]!.trim().toLowerCase();
  if (mime === 'application/msgpack' || mime === 'application/x-msgpack' || mime === 'application/vnd.msgpack') return 'msgpack';
  return 'json';
}

/** Decodes a body; a malformed one is a VALIDATION_FAILED naming `body`. An empty body is `undefined`. */
export function decodeBody(bytes: Buffer, format: BodyFormat): unknown {
  if (bytes.byteLength === 0) return undefined;
  const value = format === 'msgpack' ? decodeMsgpack(bytes) : decodeJson(bytes);
  if (nestedDeeperThan(value, limits.httpBodyDepthMax)) {
    throw invalid('body', `nested deeper than ${limits.httpBodyDepthMax} levels`);
  }
  return value;
}

function decodeJson(bytes: Buffer): unknown {
  if (!isUtf8(bytes)) throw invalid('body', 'is not valid UTF-8');
  const start = bytes.byteLength >= 3 && bytes[0] === byteOrderMark[0] && bytes[1] === byteOrderMark[1] && bytes[2] === byteOrderMark[2] ? 3 : 0;
  const text = bytes.toString('utf8', start);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalid('body', `is not valid JSON (${(e as Error).message})`);
  }
}

function decodeMsgpack(bytes: Buffer): unknown {
  try {
    // msgpackr decodes recursively; a deeply nested body overflows the stack, which is caught here.
    return unpackr.unpack(bytes);
  } catch (e) {
    throw invalid('body', `is not valid msgpack (${e instanceof Error ? e.message : String(e)})`);
  }
}

/**
 * Iterative, and stops at the limit, so it costs at most one walk of the value. Two parallel stacks
 * and indexed loops: no pair or Object.values array per container (a search body's walk went from
 * ~1 µs to a fraction of that). Each child is tested where it is read, so the numbers of a vector
 * are never boxed to be handed to a helper.
 */
function nestedDeeperThan(value: unknown, depthMax: number): boolean {
  if (!isContainer(value)) return false;
  const items: object[] = [value];
  const depths: number[] = [0];
  while (items.length > 0) {
    const item = items.pop()!;
    const depth = depths.pop()!;
    if (depth >= depthMax) return true;
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) {
        const child: unknown = item[i];
        if (isContainer(child)) {
          items.push(child);
          depths.push(depth + 1);
        }
      }
    } else {
      for (const key in item) {
        const child = (item as Record<string, unknown>)[key];
        if (isContainer(child)) {
          items.push(child);
          depths.push(depth + 1);
        }
      }
    }
  }
  return false;
}

function isContainer(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !ArrayBuffer.isView(value);
}
