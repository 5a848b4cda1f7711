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

/** HTTP request body for `POST /api/v1/events`: one full batch (batchBytesMax) plus JSON overhead would exceed it, so batches near the cap go as msgpack. */
export const httpEventsBodyBytesMax = 16 * MiB;
/** HTTP request body on every other route: one node, edge or vector is far below this. */
export const httpBodyBytesMax = 1 * MiB;
/** JSON/msgpack nesting in a request body: an event wraps properties (≤ propertiesDepthMax) in three levels; deeper is refused before parsing. */
export const httpBodyDepthMax = propertiesDepthMax + 8;
/** Per-client token bucket: sustained requests per second, and the burst a client may spend at once. Generous: it stops runaway peers, not users. */
export const httpRateLimitPerSecond = 10_000;
export const httpRateLimitBurst = 20_000;
/** Clients tracked by the rate limiter; past this the stalest bucket is evicted, so a scan of many addresses cannot grow memory. */
export const httpRateLimitClientsMax = 10_000;
/** How long shutdown waits for in-flight requests before closing the engine anyway. */
export const httpShutdownGraceMs = 10_000;
/** Live vectors per data dir: 16.7M x 384-d float32 is ~26 GiB before the graph, more than one machine of this class holds; validation rejects a store beyond it. */
export const vectorsMax = 16_777_216;

/** Texts in one request to an embedder: OpenAI's endpoint takes up to 2,048 inputs; 64 keeps one request's latency and body small. */
export const embedderBatchTextsMax = 64;
/** One request to a remote embedder, before it counts as failed (and is retried). A local model answers a short text in ~10 ms. */
export const embedderTimeoutMsDefault = 10_000;
/** Retries of a remote embedder request on 429, 5xx or a network error, with exponential backoff from embedderBackoffMsBase. */
export const embedderRetriesMax = 3;
export const embedderBackoffMsBase = 200;
/** A server's Retry-After is honoured up to this; a longer one is cut to it, so a retry never stalls a recall for long. */
export const embedderRetryAfterMsMax = 5_000;
/** Characters of one text sent to an embedder; models truncate long inputs anyway (MiniLM at 256 tokens). */
export const embedTextCharsMax = 32 * KiB;
/** Query embeddings kept (LRU by model and text): 384-d float32 is 1.5 KiB, so ~15 MiB. */
export const queryEmbeddingsCachedMax = 10_000;
/** Whole recall/similar answers kept, each valid only while the engine's last seq is unchanged. */
export const answersCachedMax = 1_000;
/** A cached answer's recency component is computed at caching time; after this it is recomputed even without a write. */
export const answerCacheTtlMs = 60_000;
/** prime_index token budget: default and the range a caller may ask for. */
export const indexTokensDefault = 1_000;
export const indexTokensMin = 50;
export const indexTokensMax = 32_000;
