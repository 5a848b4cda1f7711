// Type index: node type → its nodes in insertion order, the answer to search({ nodeType }) and to
// Prime's prime_search, which lists a type even when nodes set their own properties.domain. The
// domain index's lists keyed by type instead: a type never changes, so only creates and deletes
// move a node (8 bytes a node, like the domain index).

import type { StoredEvent } from '../src/kernel/events.js';
import { DomainIndex } from './domain-index.js';

export class TypeIndex extends DomainIndex {
  override readonly name = 'type-index';

  override apply(event: StoredEvent): void {
    switch (event.type) {
      case 'prime.node.created':
        this.append(this.nodes.nextHandle(), event.payload.type);
        return;
      case 'prime.node.deleted': {
        const handle = this.liveHandle(event.payload.id, event.seq);
        this.unlink(handle, this.nodes.typeAt(handle));
        return;
      }
      default:
        return;
    }
  }
}
