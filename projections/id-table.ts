// IdTable: string id ↔ small integer handle, without a JS string or Map entry per id.
//
// Ten million edge ids as JS strings in a Map<string, …> cost ~80 bytes each (a ~32-byte string,
// a ~40-byte hash-table entry with its slack, a slot in a handle → id array) and rebuilding such a
// Map from a checkpoint allocates ten million strings. Here an id is its characters in one byte
// arena (one byte per char when every char is Latin-1, two otherwise), found through an
// open-addressing hash table of handles in an Int32Array: ~30 bytes per 13-char id, and saving or
// loading the table is copying a few typed arrays.
//
// Handles are dense: a removed id's handle is reused by the next add, so columns indexed by handle
// (adjacency's edge columns) stay as long as the live count at its peak.

import { assert } from '../src/kernel/errors.js';
import { ahead, grown, grownCapacity, GrowthAhead } from './columns.js';

/**
 * Live entries per slot at most before the slot array doubles (to half full). Linear probing with
 * fnv1a stays short at 0.7, and at ten million ids the slots cost ~7 bytes per id instead of ~11 at 0.5.
 */
const loadFactorMax = 0.7;
const slotsMin = 16;
/**
 * Slots of the replaced array moved per add while the slot array grows. The next growth comes at
 * least a fifth of the new array's size in adds later (from half full to loadFactorMax), and the
 * old array is at most as long as the new one: at 16 an add it is moved long before.
 */
const slotsMovedPerAdd = 16;
/** Marks a slot whose entry was removed: probes continue past it, adds may reuse it. */
const tombstone = -1;
/**
 * A slot holds handle + 1 in its low 27 bits and the top 5 bits of the id's hash above them, so a
 * probe passes other ids' slots without reading their characters (~31 in 32 of them): an add
 * probes ~2.5-6 slots at load 0.35-0.7, and each comparison was a cache miss into the arena.
 */
const handleBits = 27;
const handleMask = (1 << handleBits) - 1;
const tagMask = ~handleMask;
/** Handles stay below this, so no slot can read as the tombstone (all bits set). */
export const idTableHandlesMax = handleMask - 2;
/** In a handle's length column, set for an id stored as two bytes per char (some char is above U+00FF). */
const wideFlag = 0x8000;
const lengthMask = 0x7fff;
/** Longest id in chars: the length column is 15 bits. */
export const idTableCharsMax = lengthMask;

function fnv1a(id: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) hash = Math.imul(hash ^ id.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** fnv1a over stored characters, equal to fnv1a of the id they spell. */
function fnv1aStored(chars: Uint8Array, start: number, length: number): number {
  let hash = 0x811c9dc5;
  if ((length & wideFlag) === 0) {
    for (let i = 0; i < length; i++) hash = Math.imul(hash ^ chars[start + i]!, 0x01000193);
  } else {
    const count = length & lengthMask;
    for (let i = 0; i < count; i++) hash = Math.imul(hash ^ (chars[start + 2 * i]! | (chars[start + 2 * i + 1]! << 8)), 0x01000193);
  }
  return hash >>> 0;
}

/** An IdTable as `saveExact` gives it. */
export interface ExactIdTable {
  starts: Int32Array;
  lengths: Uint16Array;
  chars: Uint8Array;
  charsDead: number;
  /** Null: not saved, and loadExact hashes the ids again (a save then copies no slot array). */
  slots: Int32Array | null;
  used: number;
  tombstones: number;
  free: Int32Array;
}

function isLatin1(id: string): boolean {
  for (let i = 0; i < id.length; i++) if (id.charCodeAt(i) > 0xff) return false;
  return true;
}

function grownBuffer(buffer: Buffer, needed: number): Buffer {
  if (needed <= buffer.length) return buffer;
  const next = Buffer.alloc(grownCapacity(buffer.length, needed));
  buffer.copy(next);
  return next;
}

export class IdTable {
  /**
   * With `keepStrings`, each id's own string by handle, and no characters in the arena: for ids
   * held as strings elsewhere anyway (node ids: the text index and every record read share them),
   * where a copy of the characters would cost ~25 bytes an id more. Null: the arena holds them.
   */
  private strings: Array<string | undefined> | null;
  /** Characters of every id ever added since the last compaction; removed ids leave garbage. */
  private chars: Buffer = Buffer.alloc(1024);
  private charsUsed = 0;
  private charsDead = 0;
  /** Per handle: where its characters start and their count (| wideFlag); 0 for a free handle. */
  private starts = new Int32Array(16);
  private lengths = new Uint16Array(16);
  /**
   * Per handle: its id's fnv1a hash, so growing the slot array reads 4 bytes an id instead of
   * hashing its characters again (that was ~half of the adds' time at a million ids). A table
   * `loadExact` made has none until its first rehash computes them (a restart hashes nothing).
   */
  private hashes = new Int32Array(16);
  private hashesKnown = true;
  /** Per slot: hash tag | handle + 1 (see handleBits); 0 is empty, tombstone a removed entry. */
  private slots = new Int32Array(slotsMin);
  /**
   * While the slot array grows: the one it replaces, still searched, whose slots below `moved` are
   * in `slots` too. Each add moves slotsMovedPerAdd more, so growing costs no add more than a few
   * probes: rebuilding at once scattered every id into the new array, a cache miss each (at 734K
   * edge ids, one 1000-event batch stalled 37-58 ms on the bench box).
   */
  private oldSlots: Int32Array | null = null;
  private moved = 0;
  private used = 0;
  /** Tombstones in `slots` (not in `oldSlots`, which is dropped once moved). */
  private tombstones = 0;
  /** One past the highest handle ever handed out; handles below it are live or on `free`. */
  private handleEnd = 0;
  private free: number[] = [];

  /** The per-handle columns, and the arena, grown ahead of need a turn apart (columns.ts: GrowthAhead). */
  private readonly handleGrowth = new GrowthAhead([
    ahead({ get: () => this.hashes, set: (next) => (this.hashes = next) }),
    ahead({ get: () => (this.strings === null ? this.starts : null), set: (next) => (this.starts = next) }),
    ahead({ get: () => this.lengths, set: (next) => (this.lengths = next) }),
  ]);
  private readonly charsGrowth = new GrowthAhead([ahead({ get: () => this.chars, set: (next) => (this.chars = next) })]);

  constructor(options: { keepStrings?: boolean } = {}) {
    this.strings = options.keepStrings === true ? [] : null;
  }

  /** Live ids. */
  get size(): number {
    return this.used;
  }

  /** One past the highest handle in use or free: columns indexed by handle need this many rows. */
  get handleLimit(): number {
    return this.handleEnd;
  }

  /** The handle the next `add` returns. */
  nextHandle(): number {
    return this.free.length > 0 ? this.free[this.free.length - 1]! : this.handleEnd;
  }

  /** The id's handle, or -1. */
  get(id: string): number {
    const hash = fnv1a(id);
    const handle = this.find(this.slots, hash, id);
    return handle >= 0 || this.oldSlots === null ? handle : this.find(this.oldSlots, hash, id);
  }

  /** The id's handle in `slots` (this table's, or the array it is replacing), or -1. */
  private find(slots: Int32Array, hash: number, id: string): number {
    const tag = hash & tagMask;
    const mask = slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = slots[slot]!;
      if (entry === 0) return -1;
      if ((entry & tagMask) === tag && entry !== tombstone && this.matches((entry & handleMask) - 1, id)) return (entry & handleMask) - 1;
    }
  }

  has(id: string): boolean {
    return this.get(id) >= 0;
  }

  /** Adds a non-empty id that is not present and returns its handle. */
  add(id: string): number {
    const live = this.used;
    const handle = this.getOrAdd(id);
    if (this.used === live) assert(false, `id ${id} added twice`);
    return handle;
  }

  /** The id's handle, the (non-empty) id added first if absent: one probe where `get` then `add` take two. */
  getOrAdd(id: string): number {
    if (id.length === 0 || id.length > idTableCharsMax) assert(false, `id length ${id.length} is outside 1..${idTableCharsMax}`);
    if (this.oldSlots !== null) this.moveSlots(slotsMovedPerAdd);
    if ((this.used + this.tombstones + 1) > this.slots.length * loadFactorMax) this.startGrowing(this.used + 1);
    const hash = fnv1a(id);
    const tag = hash & tagMask;
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    let reusable = -1;
    for (; ; slot = (slot + 1) & mask) {
      const entry = this.slots[slot]!;
      if (entry === 0) break;
      if (entry === tombstone) {
        if (reusable < 0) reusable = slot;
      } else if ((entry & tagMask) === tag && this.matches((entry & handleMask) - 1, id)) {
        return (entry & handleMask) - 1;
      }
    }
    if (this.oldSlots !== null) {
      const found = this.find(this.oldSlots, hash, id);
      if (found >= 0) return found;
    }
    if (reusable >= 0) {
      slot = reusable;
      this.tombstones--;
    }
    const handle = this.free.pop() ?? this.handleEnd++;
    if (handle > idTableHandlesMax) assert(false, `an id table holds at most ${idTableHandlesMax + 1} ids`);
    this.store(handle, id);
    if (handle >= this.hashes.length) this.hashes = grown(this.hashes, handle + 1);
    this.hashes[handle] = hash;
    this.handleGrowth.note(handle + 1, this.lengths.length);
    if (this.strings === null) this.charsGrowth.note(this.charsUsed, this.chars.length);
    this.slots[slot] = tag | (handle + 1);
    this.used++;
    return handle;
  }

  /** Removes a present id by handle; the handle goes to the next add. */
  remove(handle: number): void {
    const hash = this.hashOf(handle);
    // While growing, the entry may be in either array or both: gone from both, it is not moved.
    const inNew = clearSlot(this.slots, hash, handle);
    const inOld = this.oldSlots !== null && clearSlot(this.oldSlots, hash, handle);
    if (!inNew && !inOld) assert(false, `handle ${handle} is not in the table`);
    if (inNew) this.tombstones++;
    this.used--;
    if (this.strings !== null) this.strings[handle] = undefined;
    else this.charsDead += this.charCount(handle);
    this.lengths[handle] = 0;
    this.free.push(handle);
    if (this.charsDead > 4096 && this.charsDead * 2 > this.charsUsed) this.compactChars();
  }

  /** The id of a live handle: a new string, or with `keepStrings` the one added. */
  idOf(handle: number): string {
    if (this.strings !== null) return this.strings[handle]!;
    return decodeId(this.chars, this.starts[handle]!, this.lengths[handle]!);
  }

  /** Whether `handle` is a live id's. */
  isLive(handle: number): boolean {
    return handle >= 0 && handle < this.handleEnd && this.lengths[handle] !== 0;
  }

  /** Live handles in ascending order. */
  *handles(): IterableIterator<number> {
    for (let handle = 0; handle < this.handleEnd; handle++) if (this.lengths[handle] !== 0) yield handle;
  }

  /** Live handles in ascending order, as one array: what a checkpoint walks (a generator step per row cost more than the row). */
  liveHandles(): Int32Array {
    const live = new Int32Array(this.used);
    const lengths = this.lengths;
    for (let handle = 0, i = 0; handle < this.handleEnd; handle++) if (lengths[handle] !== 0) live[i++] = handle;
    return live;
  }

  private hashOf(handle: number): number {
    if (this.hashesKnown) return this.hashes[handle]! >>> 0;
    if (this.strings !== null) return fnv1a(this.strings[handle]!);
    return fnv1aStored(this.chars, this.starts[handle]!, this.lengths[handle]!);
  }

  private charCount(handle: number): number {
    const length = this.lengths[handle]!;
    return (length & wideFlag) === 0 ? length : (length & lengthMask) * 2;
  }

  private matches(handle: number, id: string): boolean {
    if (this.strings !== null) return this.strings[handle] === id;
    const length = this.lengths[handle]!;
    const start = this.starts[handle]!;
    const chars = this.chars;
    if ((length & wideFlag) === 0) {
      if (length !== id.length) return false;
      for (let i = 0; i < length; i++) if (chars[start + i] !== id.charCodeAt(i)) return false;
      return true;
    }
    if ((length & lengthMask) !== id.length) return false;
    for (let i = 0; i < id.length; i++) if ((chars[start + 2 * i]! | (chars[start + 2 * i + 1]! << 8)) !== id.charCodeAt(i)) return false;
    return true;
  }

  private store(handle: number, id: string): void {
    if (handle >= this.lengths.length) this.lengths = grown(this.lengths, handle + 1);
    if (this.strings !== null) {
      this.strings[handle] = id;
      this.lengths[handle] = 1; // live: the string holds the rest
      return;
    }
    if (handle >= this.starts.length) this.starts = grown(this.starts, handle + 1);
    const wide = !isLatin1(id);
    this.lengths[handle] = wide ? id.length | wideFlag : id.length;
    const bytes = wide ? id.length * 2 : id.length;
    this.chars = grownBuffer(this.chars, this.charsUsed + bytes);
    const start = this.charsUsed;
    if (wide) {
      for (let i = 0; i < id.length; i++) {
        const code = id.charCodeAt(i);
        this.chars[start + 2 * i] = code & 0xff;
        this.chars[start + 2 * i + 1] = code >>> 8;
      }
    } else {
      for (let i = 0; i < id.length; i++) this.chars[start + i] = id.charCodeAt(i);
    }
    this.charsUsed += bytes;
    this.starts[handle] = start;
  }

  /**
   * Starts replacing the slot array with one for at least `live` entries, without tombstones: the
   * current one becomes `oldSlots`, moved over by later adds (moveSlots).
   */
  private startGrowing(live: number): void {
    if (this.oldSlots !== null) this.moveSlots(this.oldSlots.length); // a growth outran the last (removals' tombstones): finish it
    this.knowHashes();
    this.oldSlots = this.slots;
    this.moved = 0;
    this.slots = new Int32Array(slotsFor(live));
    this.tombstones = 0;
  }

  /** Moves the next `count` slots of `oldSlots` into `slots`; drops `oldSlots` after its last. */
  private moveSlots(count: number): void {
    const old = this.oldSlots!;
    const slots = this.slots;
    const mask = slots.length - 1;
    const end = Math.min(old.length, this.moved + count);
    for (let i = this.moved; i < end; i++) {
      const entry = old[i]!;
      if (entry === 0 || entry === tombstone) continue;
      let slot = this.hashes[(entry & handleMask) - 1]! & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = entry;
    }
    this.moved = end;
    if (end === old.length) this.oldSlots = null;
  }

  /** Rebuilds the slot array at once for at least `live` entries (a table just loaded). */
  private rehash(live: number): void {
    this.knowHashes();
    const slots = new Int32Array(slotsFor(live));
    const mask = slots.length - 1;
    for (let handle = 0; handle < this.handleEnd; handle++) {
      if (this.lengths[handle] === 0) continue; // free
      const hash = this.hashes[handle]!;
      let slot = hash & mask;
      while (slots[slot] !== 0) slot = (slot + 1) & mask;
      slots[slot] = (hash & tagMask) | (handle + 1);
    }
    this.slots = slots;
    this.oldSlots = null;
    this.tombstones = 0;
  }

  /** Fills `hashes` for a table `loadExact` made (it saves none): once, at its first rebuild. */
  private knowHashes(): void {
    if (this.hashesKnown) return;
    this.hashes = new Int32Array(Math.max(16, this.handleEnd));
    for (let handle = 0; handle < this.handleEnd; handle++) if (this.lengths[handle] !== 0) this.hashes[handle] = this.hashOf(handle);
    this.hashesKnown = true;
  }

  /** Moves every live id's characters to the front of a right-sized arena. */
  private compactChars(): void {
    const chars = Buffer.alloc(Math.max(1024, (this.charsUsed - this.charsDead) * 2));
    let at = 0;
    for (let handle = 0; handle < this.handleEnd; handle++) {
      const count = this.charCount(handle);
      if (count === 0) continue;
      this.chars.copy(chars, at, this.starts[handle]!, this.starts[handle]! + count);
      this.starts[handle] = at;
      at += count;
    }
    this.chars = chars;
    this.charsUsed = at;
    this.charsDead = 0;
  }

  /** A `keepStrings` table's id strings by handle, as they are now (a copy; free handles hold undefined). */
  stringsNow(): Array<string | undefined> {
    assert(this.strings !== null, 'id table: stringsNow() is for tables that keep the id strings');
    return this.strings.slice(0, this.handleEnd);
  }

  /**
   * The whole table as it is, handles included, for a table whose handles other state stores: copies
   * of the per-handle columns (later changes do not show) and a view of the arena's used part, which
   * no later change writes (an add writes past it, and growing or compacting the arena writes a new
   * buffer). With `slots` false the hash slots are not saved: loadExact hashes the ids again, and a
   * checkpoint's synchronous start copies ~4-8 bytes an id less (fresh pages cost ~4 ms a MB on the bench VM).
   */
  saveExact(options: { slots: boolean }): ExactIdTable {
    return {
      starts: this.strings === null ? this.starts.slice(0, this.handleEnd) : new Int32Array(0),
      lengths: this.lengths.slice(0, this.handleEnd),
      chars: this.chars.subarray(0, this.charsUsed),
      charsDead: this.charsDead,
      // Mid-growth the entries are split over two arrays: save none, and the load hashes again.
      slots: options.slots && this.oldSlots === null ? this.slots.slice() : null,
      used: this.used,
      tombstones: this.tombstones,
      free: Int32Array.from(this.free),
    };
  }

  /**
   * The table `saveExact` saved: typed arrays copied in, nothing hashed (455K node ids: ~10 ms,
   * against ~330 ms to fill a Map). A `keepStrings` table saves no ids: its owner does, and gives
   * them back here as `strings`, by handle (the table keeps that array).
   */
  static loadExact(saved: ExactIdTable, strings?: Array<string | undefined>): IdTable {
    const table = new IdTable({ keepStrings: strings !== undefined });
    const handleEnd = saved.lengths.length;
    const slotCount = saved.slots?.length ?? slotsMin;
    assert(saved.starts.length === (strings === undefined ? handleEnd : 0) && slotCount >= slotsMin && (slotCount & (slotCount - 1)) === 0, 'id table: inconsistent columns');
    let live = 0;
    for (let handle = 0; handle < handleEnd; handle++) {
      const length = saved.lengths[handle]!;
      if (length === 0) continue;
      live++;
      if (strings !== undefined) {
        if (typeof strings[handle] !== 'string') assert(false, `id table: live handle ${handle} has no id`);
        continue;
      }
      const bytes = (length & wideFlag) === 0 ? length : (length & lengthMask) * 2;
      if (saved.starts[handle]! < 0 || saved.starts[handle]! + bytes > saved.chars.length) assert(false, `id table: handle ${handle} lies outside the characters`);
    }
    assert(live === saved.used && live + saved.free.length === handleEnd, 'id table: live and free handles do not add up');
    table.lengths = new Uint16Array(Math.max(16, handleEnd));
    table.lengths.set(saved.lengths);
    if (strings === undefined) {
      table.starts = new Int32Array(Math.max(16, handleEnd));
      table.starts.set(saved.starts);
      table.chars = Buffer.alloc(Math.max(1024, saved.chars.length));
      table.chars.set(saved.chars);
      table.charsUsed = saved.chars.length;
      table.charsDead = saved.charsDead;
    } else {
      strings.length = handleEnd;
      table.strings = strings;
    }
    table.used = saved.used;
    table.hashesKnown = false;
    table.handleEnd = handleEnd;
    table.free = Array.from(saved.free);
    if (saved.slots === null) {
      table.rehash(saved.used);
    } else {
      table.slots = new Int32Array(saved.slots);
      table.tombstones = saved.tombstones;
    }
    return table;
  }
}

/** The smallest slot array (a power of two) at most half full with `live` entries. */
function slotsFor(live: number): number {
  let size = slotsMin;
  while (live > size / 2) size *= 2;
  return size;
}

/** Marks `handle`'s entry in `slots` removed; false if it is not there. */
function clearSlot(slots: Int32Array, hash: number, handle: number): boolean {
  const mask = slots.length - 1;
  for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
    const entry = slots[slot]!;
    if (entry === 0) return false;
    if (entry !== tombstone && (entry & handleMask) === handle + 1) {
      slots[slot] = tombstone;
      return true;
    }
  }
}

/** An id from its stored characters: latin1 bytes, or (wideFlag in `length`) UTF-16 code units, little-endian. */
function decodeId(chars: Buffer, start: number, length: number): string {
  if ((length & wideFlag) === 0) return chars.toString('latin1', start, start + length);
  const count = length & lengthMask;
  let id = '';
  for (let i = 0; i < count; i++) id += String.fromCharCode(chars[start + 2 * i]! | (chars[start + 2 * i + 1]! << 8));
  return id;
}
