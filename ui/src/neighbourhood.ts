// The part of the graph the page has drawn: the open node, the neighbours fetched so far and the
// edges between them, as of one point of history and through one relation (or all). It grows
// one page of neighbours at a time and never past `graphNodesMax`.

import { api, type HistoryEvent, type NodeRecord } from './api.js';

/**
 * Nodes drawn at once. Past ~150 labelled nodes the names overlap at any zoom that shows them
 * all; at 150, panning in headless Chromium on a shared two-core machine keeps a median frame of
 * 16.7 ms (60 fps). A bigger neighbourhood is explored by opening a node from it.
 */
export const graphNodesMax = 150;
/** Neighbours fetched per direction per expansion; the rest wait behind "more". */
export const neighboursPageSize = 20;
/**
 * Relations asked about when naming the edges of an expanded node (one small neighbours read
 * per relation and direction). The open node's history names its own edges exactly, but reading
 * a history scans the whole log (~5 µs an event: half a second at 100k events), too slow for
 * every click; these reads take microseconds each on the server.
 */
export const relationLabelQueriesMax = 8;

export type Direction = 'out' | 'in';

export interface DrawnNode {
  record: NodeRecord;
  /** Hops from the open node along the expansions that reached it. */
  hop: number;
  /** The node it was reached from (for placing it), absent for the open node. */
  parent?: string;
  /** Next offset per direction; absent once a direction is exhausted; the map is empty until expanded. */
  more: Map<Direction, number>;
  expanded: boolean;
  /** Neighbours in total per direction, as the server counts them. */
  totals: Map<Direction, number>;
}

export interface DrawnEdge {
  key: string;
  source: string;
  target: string;
  /** Relations known for this pair (from the open node's history, or the relation filter). */
  relations: string[];
}

export interface LiveEdge {
  id: string;
  source: string;
  target: string;
  relation: string;
}

/** The open node's edges alive at `asOf` (every seq when null), from its history. */
export function edgesFromHistory(events: readonly HistoryEvent[], asOf: number | null): LiveEdge[] {
  const live = new Map<string, LiveEdge>();
  for (const event of events) {
    if (asOf !== null && event.seq > asOf) break;
    const p = event.payload;
    if (event.type === 'prime.edge.created' && typeof p.source === 'string' && typeof p.target === 'string' && typeof p.relation === 'string') {
      live.set(p.id, { id: p.id, source: p.source, target: p.target, relation: p.relation });
    } else if (event.type === 'prime.edge.deleted') {
      live.delete(p.id);
    }
  }
  return [...live.values()];
}

export class Neighbourhood {
  readonly nodes = new Map<string, DrawnNode>();
  readonly edges = new Map<string, DrawnEdge>();
  /** Set when an expansion stopped at graphNodesMax. */
  full = false;
  private readonly knownRelations = new Map<string, string[]>();

  constructor(
    readonly focus: NodeRecord,
    readonly asOf: number | null,
    readonly relation: string,
    focusEdges: readonly LiveEdge[],
    /** The memory's relations, most used first: the ones asked about when naming edges. */
    private readonly relations: readonly string[] = [],
  ) {
    for (const edge of focusEdges) {
      if (relation !== '' && edge.relation !== relation) continue;
      const key = pairKey(edge.source, edge.target);
      const known = this.knownRelations.get(key) ?? [];
      if (!known.includes(edge.relation)) known.push(edge.relation);
      this.knownRelations.set(key, known);
    }
    this.nodes.set(focus.id, { record: focus, hop: 0, more: new Map(), expanded: false, totals: new Map() });
  }

  /** True when `id` is drawn and has neighbours not fetched yet (or was never expanded). */
  canExpand(id: string): boolean {
    const node = this.nodes.get(id);
    return node !== undefined && (!node.expanded || node.more.size > 0) && !this.full;
  }

  /** Fetches the next page of `id`'s neighbours in each direction; false when nothing was left to fetch. */
  async expand(id: string, signal?: AbortSignal): Promise<boolean> {
    const node = this.nodes.get(id);
    if (node === undefined || !this.canExpand(id)) return false;
    const directions: Direction[] = node.expanded ? [...node.more.keys()] : ['out', 'in'];
    const pages = await Promise.all(
      directions.map(async (direction) => {
        const page = await api.neighbors(
          id,
          { direction, relation: this.relation || undefined, limit: neighboursPageSize, offset: node.more.get(direction) ?? 0, asOf: this.asOf ?? undefined },
          signal,
        );
        return { direction, page };
      }),
    );
    node.expanded = true;
    for (const { direction, page } of pages) {
      node.totals.set(direction, page.total);
      if (page.next_offset === undefined) node.more.delete(direction);
      else node.more.set(direction, page.next_offset);
      for (const [index, neighbour] of page.nodes.entries()) {
        if (!this.add(neighbour, node)) {
          // Stopped at the cap mid-page: the rest of this page is still to be drawn.
          node.more.set(direction, page.offset + index);
          break;
        }
        const [source, target] = direction === 'out' ? [id, neighbour.id] : [neighbour.id, id];
        this.link(source, target);
      }
    }
    if (id !== this.focus.id && this.relation === '') await this.nameEdges(id, pages, signal);
    return true;
  }

  /** Asks, per relation, which of the neighbours just drawn are linked to `id` by it. */
  private async nameEdges(id: string, pages: ReadonlyArray<{ direction: Direction; page: { nodes: NodeRecord[]; offset: number } }>, signal?: AbortSignal): Promise<void> {
    const asked = pages.filter(({ page }) => page.nodes.length > 0).flatMap(({ direction, page }) =>
      this.relations.slice(0, relationLabelQueriesMax).map(async (relation) => {
        const found = await api.neighbors(id, { direction, relation, limit: neighboursPageSize, offset: 0, asOf: this.asOf ?? undefined }, signal);
        return { direction, relation, ids: found.nodes.map((n) => n.id) };
      }),
    );
    for (const { direction, relation, ids } of await Promise.all(asked)) {
      for (const other of ids) {
        const edge = this.edges.get(direction === 'out' ? pairKey(id, other) : pairKey(other, id));
        if (edge !== undefined && !edge.relations.includes(relation)) edge.relations.push(relation);
      }
    }
  }

  /** Neighbours the server has for `id` but the page has not drawn (across directions). */
  hiddenCount(id: string): number {
    const node = this.nodes.get(id);
    if (node === undefined || !node.expanded) return 0;
    let hidden = 0;
    for (const [direction, total] of node.totals) hidden += node.more.has(direction) ? total - (node.more.get(direction) ?? total) : 0;
    return hidden;
  }

  private add(record: NodeRecord, parent: DrawnNode): boolean {
    if (this.nodes.has(record.id)) return true;
    if (this.nodes.size >= graphNodesMax) {
      this.full = true;
      return false;
    }
    this.nodes.set(record.id, { record, hop: parent.hop + 1, parent: parent.record.id, more: new Map(), expanded: false, totals: new Map() });
    return true;
  }

  private link(source: string, target: string): void {
    const key = pairKey(source, target);
    if (this.edges.has(key)) return;
    const relations = this.knownRelations.get(key) ?? (this.relation === '' ? [] : [this.relation]);
    this.edges.set(key, { key, source, target, relations });
  }
}

function pairKey(source: string, target: string): string {
  return `${source}\u0000${target}`;
}
