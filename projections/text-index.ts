// The text projection: BM25 over each node's string properties and each vector's `text`.
//
// A document is an entity id: a node contributes the strings in its properties (nested values
// included; read from node-state, which is applied first), a vector stored under the same id
// contributes its `text`. Every change re-indexes the one document it touches, so the index is
// always exact, and replay rebuilds it identically.
//
// Tokenisation: lower-case, split on Unicode word boundaries (anything that is not a letter,
// mark or number), tokens of 1..64 characters; no stemming and no stop words (an agent's memory
// is multilingual and full of identifiers, where English stemming does more harm than good).

import { Packr } from 'msgpackr';
import { assert, checkpointCheck } from '../src/kernel/errors.js';
import type { JsonValue, Properties, StoredEvent } from '../src/kernel/events.js';
import { CanonicalHash, sortedKeys } from './digest.js';
import type { Projection } from './projection.js';
import { nextTurn } from './columns.js';
import { packWithRuns, unpackWithRuns, type SavedBytes } from './saved-runs.js';

/** BM25 term-frequency saturation (the usual 1.2). */
const k1 = 1.2;
/** BM25 length normalisation (the usual 0.75). */
const b = 0.75;
/** Longer tokens are base64 blobs or hashes, not words anyone searches for. */
const tokenCharsMax = 64;

const wordChar = /[\p{L}\p{M}\p{N}]/u;

/** ASCII letters and digits by char code; anything above 0x7f is asked of the Unicode regex. */
function isWordChar(code: number, text: string, at: number): boolean {
  if (code < 0x80) return (code >= 0x61 && code <= 0x7a) || (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a);
  return wordChar.test(text[at]!);
}

/**
 * Lower-cased words of `text`. A hand-written scanner: splitting on a Unicode-property regex cost
 * ~10 µs per node event on replay; scanning char codes with an ASCII fast path costs a fraction.
 * Surrogate pairs (letters outside the BMP) are taken whole.
 */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  forEachToken(text, (token) => tokens.push(token));
  return tokens;
}

function forEachToken(text: string, visit: (token: string) => void): void {
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const code = i < text.length ? text.charCodeAt(i) : 0x20;
    let word: boolean;
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      word = wordChar.test(text.slice(i, i + 2));
      if (word && start < 0) start = i;
      if (word) {
        i++;
        continue;
      }
    } else {
      word = isWordChar(code, text, i);
    }
    if (word) {
      if (start < 0) start = i;
    } else if (start >= 0) {
      if (i - start <= tokenCharsMax) visit(text.slice(start, i).toLowerCase());
      start = -1;
    }
  }
}

/** Every string inside a JSON value, depth first, keys in order. */
function collectStrings(value: JsonValue | undefined, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) collectStrings(item, out);
  else if (value !== null && typeof value === 'object') for (const key in value) collectStrings(value[key], out);
}

interface TextDoc {
  readonly id: string;
  /** The vector's text, if a vector with this id carries one. */
  vectorText: string | undefined;
  /**
   * Distinct terms as posted (what `unpost` removes), with their frequencies in `tfs` (see tfAt).
   * One term is kept as the string itself: most documents are a name or an id, and an array of
   * one costs ~56 bytes.
   */
  terms: string | string[];
  tfs: number[];
  length: number;
}

/**
 * A document's `tfs` when no term repeats (most: names, ids, short titles): empty, and shared,
 * instead of an array of ones per document (~28 bytes each).
 */
const noRepeats: number[] = [];

function termCount(doc: TextDoc): number {
  return typeof doc.terms === 'string' ? 1 : doc.terms.length;
}

function termAt(doc: TextDoc, i: number): string {
  return typeof doc.terms === 'string' ? doc.terms : doc.terms[i]!;
}

/** The document's terms as an array (for saving and hashing; the apply path reads termAt). */
function termList(doc: TextDoc): string[] {
  return typeof doc.terms === 'string' ? [doc.terms] : doc.terms;
}

function tfAt(tfs: readonly number[], i: number): number {
  return tfs.length === 0 ? 1 : tfs[i]!;
}

/** Per document: id, terms, their frequencies (empty when each is 1), and the vector's text if any. */
type SavedDoc = [id: string, terms: string[], tfs: number[], vectorText: string | null];

interface SavedTextIndex {
  format: 3;
  /**
   * The documents in chunks of textRestoreSliceDocs, each packed on its own, so a restore decodes
   * one per slice; saved as runs (saved-runs.ts), not packed again into one buffer: at 91K
   * documents that last pack was ~10-15 ms in one event-loop turn.
   */
  chunks: Uint8Array[];
}

/** A node's current properties (the engine passes node-state's), or undefined for no such node. */
export type PropertiesOf = (nodeId: string) => Properties | undefined;

const checkpointCodec = new Packr({ useRecords: false, moreTypes: false });

/**
 * Most terms in agent memory (names, ids, numbers) occur in one document: those keep a bare entry,
 * not a Map; and when that document holds the term once, the entry is the document itself (a
 * SoloPosting object cost ~40 bytes per such term).
 */
class SoloPosting {
  constructor(
    readonly doc: TextDoc,
    readonly tf: number,
  ) {}
}

/** Documents a ManyPosting keeps in one Map: its last growth (to 2^16 entries) takes ~5 ms. */
export const postingChunkDocs = 65_536;

/**
 * Two or more documents holding a term: document → term frequency, keyed by the document object,
 * so scoring reads its length directly instead of looking its id up (searchText at 100K nodes with
 * a 16-word vocabulary, each word in ~30% of documents: 82 ms p50 with a full sort, 50 ms with a
 * top-K heap, 27 ms with postings keyed by document). In Maps of at most postingChunkDocs: one Map
 * rehashes every entry into a new table when it grows, and a term in every document of an index
 * growing past 2^20 documents held one append ~200 ms for that term alone (each common term at
 * once). A document is added once (a change posts a new document object) and goes to the last Map,
 * so iteration keeps the order of adding, as one Map's does.
 */
class ManyPosting {
  private readonly chunks: Array<Map<TextDoc, number>>;
  size = 2;

  constructor(first: TextDoc, firstTf: number, second: TextDoc, secondTf: number) {
    this.chunks = [new Map([[first, firstTf], [second, secondTf]])];
  }

  add(doc: TextDoc, tf: number): void {
    let last = this.chunks[this.chunks.length - 1]!;
    if (last.size >= postingChunkDocs) this.chunks.push((last = new Map()));
    last.set(doc, tf);
    this.size++;
  }

  /** Newest Map first: a document changed soon after it was written is found at once. */
  delete(doc: TextDoc): void {
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const chunk = this.chunks[i]!;
      if (!chunk.delete(doc)) continue;
      this.size--;
      if (chunk.size === 0 && this.chunks.length > 1) this.chunks.splice(i, 1);
      return;
    }
  }

  forEach(visit: (tf: number, doc: TextDoc) => void): void {
    for (const chunk of this.chunks) chunk.forEach(visit);
  }
}

/** Documents holding a term: one (see SoloPosting), or more. */
type Posting = TextDoc | SoloPosting | ManyPosting;

export interface TextHit {
  id: string;
  score: number;
}

/** Documents a checkpoint load has not posted yet, worked through by `restoreSome`. */
interface Restoring {
  chunks: Uint8Array[];
  /** The chunk being posted, decoded, and the chunks after it. */
  docs: SavedDoc[];
  next: number;
  nextChunk: number;
  /**
   * Documents changed while restoring whose saved entry was not yet posted: id → the vector text
   * they now have, or `keepSaved` for a node change that left it as saved.
   */
  changed: Map<string, string | undefined | typeof keepSaved>;
  /**
   * After a replay from empty (`replayDeferred`): node-state's ids, each indexed once from its
   * final state, unless noted in `changed` (which then does it). Undefined while that replay runs:
   * node events are not even noted then.
   */
  nodes: Iterator<string> | undefined;
  replaying: boolean;
}
const keepSaved = Symbol('keep the saved vector text');

/** Documents restored per background slice: ~10 ms of work on the 2-core bench box. */
export const textRestoreSliceDocs = 5_000;
/** Re-indexing a changed document (tokenising its strings) costs about this many saved documents' posting. */
const changedDocCost = 5;

export class TextIndex implements Projection {
  readonly name = 'text-index';
  private readonly docs = new Map<string, TextDoc>();
  /** term → the documents holding it, with frequencies. */
  private readonly postings = new Map<string, Posting>();
  private totalLength = 0;
  /**
   * Set by `load`: posting a checkpoint's documents took ~1.2 s of a 1M-event restart, so load only
   * keeps them, and they are posted in slices after open (`restoreSome`), or at once by the first
   * call that needs the whole index (search, count, digest, save). Events arriving meanwhile apply
   * at once to documents already posted, and are noted for the rest (see Restoring.changed).
   */
  private restoring: Restoring | undefined;

  /**
   * Node documents are read from `propertiesOf` when a node event arrives (node-state is applied
   * first, so it already holds the merged properties): the index keeps only terms, not a second
   * copy of every string property, which at 1 short name per node halved its memory.
   */
  constructor(
    private readonly propertiesOf: PropertiesOf,
    /** Every live node's id (node-state's), walked after a deferred replay. */
    private readonly nodeIds: () => Iterable<string>,
  ) {}

  get count(): number {
    this.restoreAll();
    return this.docs.size;
  }

  /**
   * Runs `replay` (from an empty index: open with no checkpoint) without indexing on the way: node
   * events are ignored and vector texts only noted; afterwards `restoreSome` indexes every live node
   * and noted document once, from its final state, instead of re-tokenising every version. At 1M
   * events this took the text index's ~2.7 s out of a full replay and into background slices.
   */
  replayDeferred(replay: () => void): void {
    assert(this.restoring === undefined && this.docs.size === 0, 'a deferred replay starts from an empty index');
    const restoring: Restoring = { chunks: [], docs: [], next: 0, nextChunk: 0, changed: new Map(), nodes: undefined, replaying: true };
    this.restoring = restoring;
    try {
      replay();
    } finally {
      restoring.replaying = false;
      restoring.nodes = this.nodeIds()[Symbol.iterator]();
    }
  }

  /** True while a checkpoint's or a replay's documents are still being indexed. */
  get restoringPending(): boolean {
    return this.restoring !== undefined;
  }

  apply(event: StoredEvent): void {
    switch (event.type) {
      case 'prime.node.created':
      case 'prime.node.updated':
      case 'prime.node.deleted':
        if (this.restoring?.replaying !== true) this.changeOrNote(event.payload.id, keepSaved);
        break;
      case 'prime.vector.stored':
        this.changeOrNote(event.payload.id, typeof event.payload.text === 'string' ? event.payload.text : undefined);
        break;
      case 'prime.vector.deleted':
        this.changeOrNote(event.payload.id, undefined);
        break;
      default:
        break;
    }
  }

  /** Re-indexes a posted (or unknown) document now; while restoring, notes a change to one not yet posted. */
  private changeOrNote(id: string, vectorText: string | undefined | typeof keepSaved): void {
    const restoring = this.restoring;
    if (restoring !== undefined && !this.docs.has(id)) {
      // A node change keeps whatever vector text an earlier noted event left.
      restoring.changed.set(id, vectorText === keepSaved && restoring.changed.has(id) ? restoring.changed.get(id) : vectorText);
      return;
    }
    this.change(id, vectorText);
  }

  /**
   * Posts up to `count` more of a loaded checkpoint's documents, then re-indexes the changed ones
   * (up to `count` / changedDocCost a call); returns whether any remain.
   */
  restoreSome(count: number): boolean {
    const restoring = this.restoring;
    if (restoring === undefined) return false;
    for (let posted = 0; posted < count; posted++) {
      if (restoring.next === restoring.docs.length) {
        if (restoring.nextChunk === restoring.chunks.length) break;
        restoring.docs = checkpointCodec.unpack(restoring.chunks[restoring.nextChunk++]!) as SavedDoc[];
        restoring.next = 0;
        posted--;
        continue;
      }
      const [id, terms, tfs, vectorText] = restoring.docs[restoring.next++]!;
      const changed = restoring.changed.get(id);
      if (changed === undefined && !restoring.changed.has(id)) {
        const doc: TextDoc = { id, vectorText: vectorText ?? undefined, terms: [], tfs: [], length: 0 };
        this.docs.set(id, doc);
        this.post(doc, terms, tfs);
      } else if (changed === keepSaved) {
        restoring.changed.set(id, vectorText ?? undefined);
      }
    }
    if (restoring.next < restoring.docs.length || restoring.nextChunk < restoring.chunks.length) return true;
    // Every saved document is handled: index the nodes a deferred replay left, then re-index the
    // changed documents, from their current state. A document leaves `changed` as it is indexed;
    // an event meanwhile notes it again (to be redone) only if it is still not in `docs`.
    let budget = Math.max(1, Math.floor(count / changedDocCost));
    for (let next = restoring.nodes?.next(); next !== undefined && next.done !== true; next = restoring.nodes!.next()) {
      if (!restoring.changed.has(next.value)) this.change(next.value, keepSaved);
      if (--budget === 0) return true;
    }
    restoring.nodes = undefined;
    for (const [id, vectorText] of restoring.changed) {
      if (budget-- === 0) return true;
      restoring.changed.delete(id);
      this.change(id, vectorText);
    }
    this.restoring = undefined;
    return false;
  }

  private restoreAll(): void {
    if (this.restoring !== undefined) this.restoreSome(Number.MAX_SAFE_INTEGER);
  }

  /** The `topK` best BM25 matches for `query`, best first (ties by id); `accept` filters ids. */
  search(query: string, topK: number, accept?: (id: string) => boolean): TextHit[] {
    this.restoreAll();
    const n = this.docs.size;
    if (n === 0) return [];
    const averageLength = this.totalLength / n;
    const scores = new Map<TextDoc, number>();
    for (const term of new Set(tokenize(query))) {
      const posting = this.postings.get(term);
      if (posting === undefined) continue;
      const df = posting instanceof ManyPosting ? posting.size : 1;
      const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
      const add = (tf: number, doc: TextDoc): void => {
        const termScore = (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * doc.length) / averageLength));
        scores.set(doc, (scores.get(doc) ?? 0) + termScore);
      };
      if (posting instanceof ManyPosting) posting.forEach(add);
      else if (posting instanceof SoloPosting) add(posting.tf, posting.doc);
      else add(1, posting);
    }
    return topHits(scores, topK, accept);
  }

  /**
   * Re-indexes one document from its node's properties and `vectorText` (`keepSaved`: the text it
   * has, if any); drops it when it has no words.
   */
  private change(id: string, vectorText: string | undefined | typeof keepSaved): void {
    let doc = this.docs.get(id);
    const text = vectorText === keepSaved ? doc?.vectorText : vectorText;
    const counted = countTerms(this.propertiesOf(id), text);
    // Most updates change no words (a counter, a timestamp): then the postings stay as they are.
    // Skipping them cut the text index's share of a 1M-event replay from ~3.1 to ~2.0 s.
    if (doc !== undefined && doc.vectorText === text && sameTerms(doc, counted.terms, counted.tfs)) return;
    if (doc !== undefined) this.unpost(doc);
    if (counted.terms.length === 0) {
      this.docs.delete(id);
      return;
    }
    // A new document, never the old one edited: a checkpoint's save holds the documents as they were.
    doc = { id, vectorText: text, terms: [], tfs: [], length: 0 };
    this.docs.set(id, doc);
    this.post(doc, counted.terms, counted.tfs);
  }

  private post(doc: TextDoc, terms: string[], tfs: number[]): void {
    let length = 0;
    for (let i = 0; i < terms.length; i++) {
      const term = terms[i]!;
      const tf = tfAt(tfs, i);
      length += tf;
      const posting = this.postings.get(term);
      if (posting === undefined) this.postings.set(term, tf === 1 ? doc : new SoloPosting(doc, tf));
      else if (posting instanceof ManyPosting) posting.add(doc, tf);
      else if (posting instanceof SoloPosting) this.postings.set(term, new ManyPosting(posting.doc, posting.tf, doc, tf));
      else this.postings.set(term, new ManyPosting(posting, 1, doc, tf));
    }
    doc.terms = terms.length === 1 ? terms[0]! : terms;
    doc.tfs = tfs.length === 0 ? noRepeats : tfs;
    doc.length = length;
    this.totalLength += length;
  }

  private unpost(doc: TextDoc): void {
    this.totalLength -= doc.length;
    for (let i = 0; i < termCount(doc); i++) {
      const term = termAt(doc, i);
      const posting = this.postings.get(term)!;
      if (!(posting instanceof ManyPosting)) {
        this.postings.delete(term);
        continue;
      }
      posting.delete(doc);
      if (posting.size === 0) this.postings.delete(term);
    }
  }

  digest(): string {
    this.restoreAll();
    const hash = new CanonicalHash(this.name);
    for (const id of sortedKeys(this.docs.keys())) {
      const doc = this.docs.get(id)!;
      const pairs = termList(doc).map((term, i) => [term, tfAt(doc.tfs, i)] as const);
      hash.row(id, pairs.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)), doc.length);
    }
    return hash.hex();
  }

  /**
   * Takes the documents synchronously (a change posts a new document and leaves the old one as it
   * was), then packs them in chunks of textRestoreSliceDocs, one a turn of the event loop:
   * appends may run between.
   */
  async save(): Promise<SavedBytes> {
    this.restoreAll();
    const docs = Array.from(this.docs.values());
    const saved: SavedTextIndex = { format: 3, chunks: [] };
    for (let from = 0; from < docs.length; from += textRestoreSliceDocs) {
      await nextTurn(); // a chunk a turn: 20,000 documents in one turn held the event loop ~50–100 ms under the soak's ingest
      const chunk = docs.slice(from, from + textRestoreSliceDocs).map((doc): SavedDoc => [doc.id, termList(doc), doc.tfs, doc.vectorText ?? null]);
      saved.chunks.push(checkpointCodec.pack(chunk));
    }
    return packWithRuns(checkpointCodec, saved);
  }

  /** Keeps the saved chunks for `restoreSome` to decode and post (their terms: no re-tokenising). */
  async load(bytes: Uint8Array): Promise<void> {
    const saved = unpackWithRuns(checkpointCodec, bytes, this.name) as SavedTextIndex;
    checkpointCheck(saved.format === 3 && Array.isArray(saved.chunks), 'text-index', `text-index checkpoint format ${String(saved.format)} is not supported`);
    this.docs.clear();
    this.postings.clear();
    this.totalLength = 0;
    this.restoring = { chunks: saved.chunks, docs: [], next: 0, nextChunk: 0, changed: new Map(), nodes: undefined, replaying: false };
  }
}

function sameTerms(doc: TextDoc, terms: string[], tfs: number[]): boolean {
  if (termCount(doc) !== terms.length) return false;
  for (let i = 0; i < terms.length; i++) if (termAt(doc, i) !== terms[i] || tfAt(doc.tfs, i) !== tfAt(tfs, i)) return false;
  return true;
}

/** Distinct terms of a node's string properties (nested values included) and a vector's text, with frequencies. */
function countTerms(properties: Properties | undefined, vectorText: string | undefined): { terms: string[]; tfs: number[] } {
  const terms: string[] = [];
  const tfs: number[] = [];
  // Most documents hold a handful of distinct words: a linear scan finds repeats without a Map.
  let index: Map<string, number> | undefined;
  const count = (token: string): void => {
    let at = -1;
    if (index !== undefined) at = index.get(token) ?? -1;
    else for (let i = 0; i < terms.length; i++) if (terms[i] === token) at = i;
    if (at >= 0) {
      tfs[at]!++;
      return;
    }
    terms.push(token);
    tfs.push(1);
    if (index !== undefined) index.set(token, terms.length - 1);
    else if (terms.length > 16) index = new Map(terms.map((t, i) => [t, i]));
  };
  if (properties !== undefined) {
    const strings: string[] = [];
    for (const key in properties) collectStrings(properties[key], strings);
    for (const text of strings) forEachToken(text, count);
  }
  if (vectorText !== undefined) forEachToken(vectorText, count);
  // Exact-size copies: an array grown by push from empty holds room for 17 elements (~150 bytes),
  // which for the typical one-word name cost more than the rest of the document.
  return { terms: terms.slice(), tfs: tfs.every((tf) => tf === 1) ? noRepeats : tfs.slice() };
}

/**
 * The `topK` best of `scores`, best first (ties by id), through a bounded min-heap: O(n log k)
 * instead of sorting every match (common words match a large share of the documents).
 */
function topHits(scores: Map<TextDoc, number>, topK: number, accept?: (id: string) => boolean): TextHit[] {
  const heap: TextHit[] = [];
  const worse = (a: TextHit, b: TextHit): boolean => a.score < b.score || (a.score === b.score && a.id > b.id);
  const siftDown = (at: number): void => {
    for (;;) {
      const left = 2 * at + 1;
      const right = left + 1;
      let worst = at;
      if (left < heap.length && worse(heap[left]!, heap[worst]!)) worst = left;
      if (right < heap.length && worse(heap[right]!, heap[worst]!)) worst = right;
      if (worst === at) return;
      [heap[at], heap[worst]] = [heap[worst]!, heap[at]!];
      at = worst;
    }
  };
  for (const [{ id }, score] of scores) {
    if (heap.length === topK && !worse(heap[0]!, { id, score })) continue;
    if (accept !== undefined && !accept(id)) continue;
    if (heap.length < topK) {
      heap.push({ id, score });
      for (let at = heap.length - 1; at > 0; ) {
        const parent = (at - 1) >> 1;
        if (!worse(heap[at]!, heap[parent]!)) break;
        [heap[at], heap[parent]] = [heap[parent]!, heap[at]!];
        at = parent;
      }
    } else {
      heap[0] = { id, score };
      siftDown(0);
    }
  }
  return heap.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}
