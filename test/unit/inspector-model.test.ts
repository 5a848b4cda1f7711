// The inspector's pure parts, outside a browser: the page addresses it reads and writes, and the
// open node's edges as of a seq, derived from its history.

import { describe, expect, it } from 'vitest';
import { hrefOf, parseHash, type View } from '../../ui/src/route.js';
import { edgesFromHistory } from '../../ui/src/neighbourhood.js';
import type { HistoryEvent } from '../../ui/src/api.js';

describe('page addresses', () => {
  const table: Array<[string, View]> = [
    ['', { page: 'search', mode: 'text', q: '' }],
    ['#/', { page: 'search', mode: 'text', q: '' }],
    ['#/search?mode=domain&q=person', { page: 'search', mode: 'domain', q: 'person' }],
    ['#/search?mode=bogus&q=x', { page: 'search', mode: 'text', q: 'x' }],
    ['#/node/node%3Aperson%3A1', { page: 'node', id: 'node:person:1', asOf: null }],
    ['#/node/node%3Aperson%3A1?as_of=12', { page: 'node', id: 'node:person:1', asOf: 12 }],
    ['#/node/a%2Fb%20c?as_of=0', { page: 'node', id: 'a/b c', asOf: null }],
    ['#/node/x?as_of=1.5', { page: 'node', id: 'x', asOf: null }],
    ['#/node/100%', { page: 'node', id: '100%', asOf: null }],
    ['#/health', { page: 'health' }],
  ];
  for (const [hash, view] of table) {
    it(`given '${hash}', then ${JSON.stringify(view)}`, () => {
      expect(parseHash(hash)).toEqual(view);
    });
  }

  it('given any view, when written and read back, then the same view', () => {
    const views: View[] = [
      { page: 'node', id: 'node:note:ü/?#&', asOf: 7 },
      { page: 'node', id: 'n', asOf: null },
      { page: 'search', mode: 'id', q: 'node:x:1' },
      { page: 'health' },
    ];
    for (const view of views) expect(parseHash(hrefOf(view))).toEqual(view);
  });
});

describe("the open node's edges from its history", () => {
  const event = (seq: number, type: string, payload: Record<string, string>): HistoryEvent => ({ seq, ts: seq * 1000, type, payload: { id: '', ...payload } });
  const history = [
    event(1, 'prime.node.created', { id: 'a' }),
    event(3, 'prime.edge.created', { id: 'e1', source: 'a', target: 'b', relation: 'knows' }),
    event(4, 'prime.edge.created', { id: 'e2', source: 'c', target: 'a', relation: 'cites' }),
    event(6, 'prime.edge.deleted', { id: 'e1' }),
    event(8, 'prime.node.updated', { id: 'a' }),
  ];

  it('given edges created and deleted, when read as of each seq, then only those alive then', () => {
    expect(edgesFromHistory(history, 2)).toEqual([]);
    expect(edgesFromHistory(history, 3).map((e) => e.id)).toEqual(['e1']);
    expect(edgesFromHistory(history, 5).map((e) => e.id)).toEqual(['e1', 'e2']);
    expect(edgesFromHistory(history, 6)).toEqual([{ id: 'e2', source: 'c', target: 'a', relation: 'cites' }]);
    expect(edgesFromHistory(history, null).map((e) => e.id)).toEqual(['e2']);
  });
});
