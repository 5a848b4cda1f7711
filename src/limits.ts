// Every limit mnemo enforces, in one place. Each name ends with its unit.
// Exceeding one fails fast with a MnemoError; nothing is written.

const KiB = 1024;
const MiB = 1024 * KiB;

/** Node, edge and vector ids: long enough for `node:{type}:{uuid}` with a 128-char type would not be; ids are opaque keys in every Map, so cap them. */
export const idCharsMax = 128;
/** Node types become domains and appear in generated ids; `[a-z0-9_.-]` only. */
export const typeCharsMax = 128;
/** Relation names on edges. */
export const relationCharsMax = 128;
/** One encoded event. A larger one is almost always a bug in the caller (an embedded blob). */
export const eventBytesMax = 1 * MiB;
/** One batch (one WAL record), in events. Bounds validation time and memory per append. */
export const batchEventsMax = 10_000;
/** One batch (one WAL record), encoded. Also the largest WAL record a reader accepts. */
export const batchBytesMax = 16 * MiB;
/** Nesting of properties and metadata; deeper values risk stack overflows in encoders and clients. */
export const propertiesDepthMax = 16;
/** Vector dimension: hnswlib-node allocates per-dimension; 4096 covers every common embedding model. */
export const vectorDimMax = 4096;

/** WAL segments rotate at this size: small enough to compact one in seconds, large enough to keep file counts low. */
export const segmentBytesMax = 64 * MiB;
/** Default fsync period for `durability: 'interval'`; a power cut may lose at most this window. */
export const fsyncIntervalMsDefault = 100;

/** neighbors/search page size. */
export const pageLimitMax = 500;
export const pageLimitDefault = 50;
/** Graph traversal depth for neighbors/subgraph/recall. */
export const traversalDepthMax = 8;
/** topK for similar/recall. */
export const topKMax = 1000;
