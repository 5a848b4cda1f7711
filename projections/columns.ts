// Typed-array columns: how they grow, and doubly linked lists of rows threaded through them.
// Adjacency (a node's out- and in-edges), the domain index (a domain's nodes) and the cross-domain
// index (a pair's edges) keep their lists as LinkedRows: appending and unlinking are O(1) whatever
// a list's length (a hub's cascade delete stays linear), and a row costs 8 bytes.

import { assert } from '../src/kernel/errors.js';
import type { ExactIdTable, IdTable } from './id-table.js';

/** No row: the end of a list, or an empty list's head and tail. */
export const none = -1;

/**
 * Rows a checkpoint's save() encodes between yields to the event loop (~10-20 ms of work on the
 * 2-core bench box). What the slices read is copied when the save starts: appends between them
 * change the projection, not the checkpoint. Each yield lets the batch in flight finish, so the
 * slice is the most a checkpoint adds to one batch; but every slice delays some batch, and with
 * 16K rows a 1M-event load had ~60 batches delayed 5-20 ms per checkpoint, which raised its
 * per-batch p99 (the 10th worst of 1000 batches) from 14 to 22 ms while its worst fell from 355
 * to 130 ms. Fewer, bigger slices keep the p99 and still split the stall.
 */
export const saveSliceRows = 262_144;

/** Saves waiting for their next slice, first come first served: one is let go per turn of the event loop. */
const sliceWaiters: Array<() => void> = [];

/**
 * Resolves on a later turn of the event loop: a save() awaits it between slices, and appends run
 * meanwhile. One waiter per turn: a checkpoint's projections all yield at once, and with a
 * setImmediate each their slices ran back to back in the same turn, so one batch waited for all
 * of them (~110-170 ms at 400K and 800K events of a 1M-event ingest); a turn's immediates run
 * before the next turn's I/O, so the waiter let go next is scheduled from this one's.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    sliceWaiters.push(resolve);
    if (sliceWaiters.length === 1) setImmediate(releaseSliceWaiter);
  });
}

function releaseSliceWaiter(): void {
  sliceWaiters.shift()!();
  if (sliceWaiters.length > 0) setImmediate(releaseSliceWaiter);
}

/**
 * The capacity a column of `length` rows grows to when it needs `needed`: double. What a growth
 * costs is the fresh pages its copy touches, not the memcpy: on the development machine (a VM) a
 * first-touched page costs 12-17 µs (3-4 ms a MB; the figure moved between sessions), and with
 * growth by a half (then a quarter past 1M rows) each row was copied ~3-5 times over a column's
 * life; doubling copies it ~once. The unused tail is not resident: a new array's pages are zero
 * pages until written (measured: an 800 MB Float64Array adds nothing to RSS until its rows are
 * set). In-process catch-up of 1M events: ~4% less CPU; ten 1M-row columns filled row by row:
 * 0.9-1.1 s against 1.1-1.5 s.
 */
export function grownCapacity(length: number, needed: number): number {
  return Math.max(needed, length * 2, 64);
}

/** `array`'s values in an array of its kind at least `needed` long, new rows 0. */
export function grown<T extends Uint8Array | Uint16Array | Int32Array | Float64Array>(array: T, needed: number): T {
  if (needed <= array.length) return array;
  const next = new (array.constructor as new (length: number) => T)(grownCapacity(array.length, needed));
  next.set(array);
  return next;
}

/** `array`'s values in an array at least `needed` long, new rows set to `fill`. */
export function grownInt32(array: Int32Array, needed: number, fill = none): Int32Array {
  if (needed <= array.length) return array;
  const next = grown(array, needed);
  next.fill(fill, array.length);
  return next;
}

/** Columns shorter than this grow when a row needs them (a copy under ~0.5 ms); longer ones grow ahead (GrowthAhead). */
export const growAheadRowsMin = 65_536;
/** Share of its rows in use at which a long column starts growing ahead of need. */
const growAheadFill = 0.75;
/**
 * Bytes of a growing column's new array GrowthAhead touches a turn: ~3 ms of first-touch page
 * faults on the development VM (12-17 µs a 4 KB page), so a growth adds at most that to a batch.
 */
export const growAheadTouchBytes = 1 << 20;

type Growable = Uint8Array | Uint16Array | Int32Array | Float64Array;

/** A column GrowthAhead grows: how to read and replace it, and what its new rows hold. */
export interface ColumnAhead<T extends Growable> {
  /** The column now; null when it has none to grow (weights before the first weighted edge). */
  get(): T | null;
  set(next: T): void;
  /** Rows a handle takes (node state's stamps: three). */
  rowsPerHandle?: number;
  /** What the new rows hold (default 0). */
  fill?: number;
}

/** `column` for a GrowthAhead (typed by its own array, which the growth keeps). */
export function ahead<T extends Growable>(column: ColumnAhead<T>): ColumnAhead<Growable> {
  return column as ColumnAhead<Growable>;
}

/**
 * Grows a set of columns ahead of need, once the rows in use pass growAheadFill of their length.
 * A growth costs the fresh pages it touches, not the copy: on the development VM a first-touched
 * page costs 12-17 µs, so copying a 4 MB column into a new 8 MB one took 12-15 ms in one turn, against
 * 0.3 ms into pages already touched. Growing each column at once when a row needed it stalled one
 * 1000-event batch 12-19 ms at 2^18 and 2^19 edges, and a column a turn still stalled ~8 batches
 * 10-17 ms each at 2^20 (the 1M-event ingest's p99). So each column's new array is touched
 * growAheadTouchBytes a turn of the event loop (nextTurn), where the copy or the fill will write,
 * and then copied in one turn. A column that grew meanwhile because a row needed it (or was
 * replaced: cleared, loaded, widened) keeps what it has. A turn with no append in between grows
 * nothing ahead (a synchronous loop of appends): a row past the end then grows its columns at once.
 */
export class GrowthAhead {
  private growing = false;

  /**
   * `columns` grow in order: an owner that reads one column's length for all of them (a sentinel,
   * to skip the other checks per row) puts it last, and grows every column when the sentinel is short.
   */
  constructor(private readonly columns: ReadonlyArray<ColumnAhead<Growable>>) {}

  /** After a row below `rows` is used in columns `length` long. */
  note(rows: number, length: number): void {
    if (this.growing || length < growAheadRowsMin || rows < length * growAheadFill) return;
    this.growing = true;
    void this.grow(grownCapacity(length, length + 1));
  }

  private async grow(length: number): Promise<void> {
    for (const column of this.columns) {
      const rows = length * (column.rowsPerHandle ?? 1);
      const array = column.get();
      if (array === null || !growsTo(array, rows)) continue;
      const next = array instanceof Buffer ? Buffer.alloc(rows) : new (array.constructor as new (length: number) => Growable)(rows);
      // Touch what the copy and the fill will write, a slice a turn; rows never written stay untouched (not resident).
      const touchedEnd = column.fill === undefined || column.fill === 0 ? array.length : rows;
      const sliceRows = growAheadTouchBytes / next.BYTES_PER_ELEMENT;
      for (let at = 0; at < touchedEnd; at += sliceRows) {
        await nextTurn();
        const end = Math.min(touchedEnd, at + sliceRows);
        if (end > array.length) next.fill(column.fill!, Math.max(at, array.length), end);
        if (at < array.length) next.fill(0, at, Math.min(end, array.length));
      }
      await nextTurn();
      if (column.get() !== array) continue;
      next.set(array);
      column.set(next);
    }
    this.growing = false;
  }
}

/**
 * Whether a column of `array`'s length grows to `length` ahead of need: not when it is that long
 * already (it grew when a row needed it), nor when less than half as long (its owner was cleared or
 * loaded meanwhile).
 */
function growsTo(array: Growable, length: number): boolean {
  return array.length < length && array.length * 2 >= length;
}

/** A column of small non-negative integers (handles into a short table) in the narrowest type that holds them. */
export type SmallIntColumn = Uint8Array | Uint16Array | Int32Array;

/** `column`, or its values in the next wider type if `value` does not fit it. */
export function widenedFor(column: SmallIntColumn, value: number): SmallIntColumn {
  if (column instanceof Uint8Array ? value <= 0xff : column instanceof Uint16Array ? value <= 0xffff : true) return column;
  const wider = column instanceof Uint8Array && value <= 0xffff ? new Uint16Array(column.length) : new Int32Array(column.length);
  wider.set(column);
  return wider;
}

/** `column` with `row` set to `handle`: in the next wider type first if `handle` does not fit. */
export function withHandle(column: SmallIntColumn, row: number, handle: number): SmallIntColumn {
  const fitting = widenedFor(column, handle);
  fitting[row] = handle;
  return fitting;
}

/** Lists of rows: per row its next and previous, per list its head and tail (rows and lists are small integers). */
export class LinkedRows {
  next: Int32Array = new Int32Array(0);
  prev: Int32Array = new Int32Array(0);
  heads: Int32Array = new Int32Array(0);
  tails: Int32Array = new Int32Array(0);

  /**
   * Makes room for rows 0..rows-1. New rows are left 0, not filled: append() sets a row's next and
   * prev before any list leads to it, so the new half's pages are first touched row by row as rows
   * are appended rather than all at once here (a fill doubled the stall of a growth).
   */
  growRows(rows: number): void {
    this.next = grown(this.next, rows);
    this.prev = grown(this.prev, rows);
  }

  /** Makes room for lists 0..lists-1; new lists are empty. */
  growLists(lists: number): void {
    this.heads = grownInt32(this.heads, lists);
    this.tails = grownInt32(this.tails, lists);
  }

  /** Empties every list and forgets every row. */
  clear(): void {
    this.next = new Int32Array(0);
    this.prev = new Int32Array(0);
    this.heads = new Int32Array(0);
    this.tails = new Int32Array(0);
  }

  isEmpty(list: number): boolean {
    return list >= this.heads.length || this.heads[list] === none;
  }

  /** Appends `row` (room made) to the tail of `list` (room made). */
  append(list: number, row: number): void {
    const tail = this.tails[list]!;
    this.prev[row] = tail;
    this.next[row] = none;
    if (tail === none) this.heads[list] = row;
    else this.next[tail] = row;
    this.tails[list] = row;
  }

  /** Takes `row` out of `list`, which holds it. */
  unlink(list: number, row: number): void {
    const next = this.next[row]!;
    const prev = this.prev[row]!;
    if (prev === none) this.heads[list] = next;
    else this.next[prev] = next;
    if (next === none) this.tails[list] = prev;
    else this.prev[next] = prev;
  }

  /** Rows `offset`..`offset + limit - 1` of `list`, head first: O(offset + limit). */
  slice(list: number, offset: number, limit: number): number[] {
    const rows: number[] = [];
    let position = 0;
    for (let row = this.heads[list]!; row !== none && position < offset + limit; row = this.next[row]!, position++) {
      if (position >= offset) rows.push(row);
    }
    return rows;
  }

  /**
   * The rows of `list`, which holds `count` (its owner keeps the sizes), head first, as one array: a
   * copy, which later changes to the list leave as it is. Written straight into an array of that
   * size: gathering a JS array first and converting it was part of a checkpoint's synchronous start.
   */
  rowsArray(list: number, count: number): Int32Array {
    const rows = new Int32Array(count);
    let at = 0;
    if (list < this.heads.length) for (let row = this.heads[list]!; row !== none && at < count; row = this.next[row]!) rows[at++] = row;
    assert(at === count, `list ${list} holds ${at} rows or more, not the ${count} its owner counts`);
    return rows;
  }

  /** The rows of `list`, head first. */
  *rows(list: number): IterableIterator<number> {
    if (list >= this.heads.length) return;
    for (let row = this.heads[list]!; row !== none; row = this.next[row]!) yield row;
  }
}

/** How a checkpoint numbers a column's names: CountedNames.renumbering. */
export interface Renumbering {
  /** The names saved, by saved number. */
  names: string[];
  /** True when every handle is its own number: the rows are saved as they are. */
  identity: boolean;
  indexOf(handle: number): number;
}

/**
 * For a checkpoint: renumbers, in place and in slices with a turn of the event loop between them,
 * a copy of a column of name handles by id-table handle, with the `renumbering` taken when the copy
 * was. Rows of free handles (length 0 in `lengths`, an id table's saved lengths) become 0, unless
 * the renumbering is the identity: then the column is left as it is (a free handle's row holds
 * anything; loads read live rows only).
 */
export async function renumberRows(column: SmallIntColumn, lengths: Uint16Array, renumbering: Renumbering): Promise<void> {
  if (renumbering.identity) return;
  for (let from = 0; from < column.length; from += saveSliceRows) {
    await nextTurn();
    for (let row = from, to = Math.min(column.length, from + saveSliceRows); row < to; row++) column[row] = lengths[row] === 0 ? 0 : renumbering.indexOf(column[row]!);
  }
}

/** Edge rows by edge handle, as adjacency and cross-domain save them; a free handle's rows hold anything. */
export interface SavedEdgeRows {
  edgeIds: ExactIdTable;
  /** Node-state handles of each edge's ends. */
  sources: Int32Array;
  targets: Int32Array;
  /** Relation names; relations index into it. */
  relationNames: string[];
  relations: SmallIntColumn;
}

/**
 * For a checkpoint: the id table and copies of the end and relation columns up to its handle limit,
 * snapshotted synchronously (before this returns its promise), then the relations renumbered in slices.
 */
export async function savedEdgeRows(edgeIds: IdTable, sources: Int32Array, targets: Int32Array, relationOf: SmallIntColumn, relations: CountedNames): Promise<SavedEdgeRows> {
  const end = edgeIds.handleLimit;
  const renumbering = relations.renumbering();
  const saved: SavedEdgeRows = {
    edgeIds: edgeIds.saveExact({ slots: false }),
    sources: sources.slice(0, end),
    targets: targets.slice(0, end),
    relationNames: renumbering.names,
    relations: relationOf.slice(0, end),
  };
  await renumberRows(saved.relations, saved.edgeIds.lengths, renumbering);
  return saved;
}

/**
 * Names (relations, node types, domains) ↔ small dense handles, with a live count per name: the
 * last one released gives its handle back for the next new name. Rows hold the handle in a
 * SmallIntColumn instead of a pointer, and every row of a name shares its one string.
 */
export class CountedNames {
  private readonly handles = new Map<string, number>();
  private names: string[] = [];
  private counts: number[] = [];
  private free: number[] = [];

  /** The name's handle, or undefined if no row holds it. */
  handleOf(name: string): number | undefined {
    return this.handles.get(name);
  }

  nameOf(handle: number): string {
    return this.names[handle]!;
  }

  /** Counts one more row of `name`; returns its handle. */
  hold(name: string): number {
    let handle = this.handles.get(name);
    if (handle === undefined) {
      handle = this.free.pop() ?? this.names.length;
      this.names[handle] = name;
      this.counts[handle] = 0;
      this.handles.set(name, handle);
    }
    this.counts[handle]!++;
    return handle;
  }

  /** Counts one more row of a handle `restore` gave. */
  holdHandle(handle: number): void {
    this.counts[handle]!++;
  }

  /** Counts one row fewer; the last one out gives the handle back. */
  release(handle: number): void {
    if (--this.counts[handle]! > 0) return;
    this.handles.delete(this.names[handle]!);
    this.free.push(handle);
  }

  /** Live names and their row counts. */
  counted(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [name, handle] of this.handles) counts[name] = this.counts[handle]!;
    return counts;
  }

  /**
   * For a checkpoint, which keeps only the names rows hold. With no handle free every name is
   * held, so the handles are saved as they are (a 1M-event load's two checkpoints renumbered ~1.8M
   * rows, a turn of the event loop per slice). Otherwise `indexOf` numbers handles 0, 1, … in order
   * of first asking, and `names` lists them in that order.
   */
  renumbering(): Renumbering {
    // The names as they are now: a save reads handles copied now, after which a name may be released and its handle reused.
    const current = this.names.slice();
    if (this.free.length === 0) return { names: current, identity: true, indexOf: (handle) => handle };
    const index = new Int32Array(current.length).fill(-1);
    const names: string[] = [];
    return {
      names,
      identity: false,
      indexOf: (handle) => {
        if (index[handle] === -1) index[handle] = names.push(current[handle]!) - 1;
        return index[handle]!;
      },
    };
  }

  /** Forgets every name, then gives `names` the handles 0, 1, … with no rows yet (a checkpoint load, which then holds each row's handle). */
  restore(names: readonly string[]): void {
    this.handles.clear();
    this.names = [...names];
    this.counts = names.map(() => 0);
    this.free = [];
    names.forEach((name, handle) => this.handles.set(name, handle));
  }
}
