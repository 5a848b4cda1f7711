// Tallies: how many nodes and edges were ever deleted (explicitly or by a node's cascade). Live
// counts come from node-state and adjacency; these are the other half of AllSource Prime's stats
// (`deleted_nodes`, `deleted_edges`). Handles are reused, so nothing else remembers them.

import { Packr } from 'msgpackr';
import { checkpointCheck } from '../src/kernel/errors.js';
import type { StoredEvent } from '../src/kernel/events.js';
import type { Projection } from './projection.js';

const talliesCodec = new Packr({ useRecords: false, moreTypes: false });

export class Tallies implements Projection {
  readonly name = 'tallies';
  deletedNodes = 0;
  deletedEdges = 0;

  apply(event: StoredEvent): void {
    if (event.type === 'prime.node.deleted') this.deletedNodes++;
    else if (event.type === 'prime.edge.deleted') this.deletedEdges++;
  }

  digest(): string {
    return `${this.deletedNodes}:${this.deletedEdges}`;
  }

  async save(): Promise<Uint8Array> {
    return talliesCodec.pack({ format: 1, deletedNodes: this.deletedNodes, deletedEdges: this.deletedEdges });
  }

  async load(bytes: Uint8Array): Promise<void> {
    const saved = talliesCodec.unpack(bytes) as { format: number; deletedNodes: number; deletedEdges: number };
    checkpointCheck(saved.format === 1 && Number.isSafeInteger(saved.deletedNodes) && Number.isSafeInteger(saved.deletedEdges), 'tallies', 'tallies checkpoint format');
    this.deletedNodes = saved.deletedNodes;
    this.deletedEdges = saved.deletedEdges;
  }
}
