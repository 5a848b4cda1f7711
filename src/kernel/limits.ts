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
/**
 * neighbors/search/cross-domain offset: a page walks its list from the start (O(offset + limit)),
 * so a deeper offset costs more than it returns; past a million rows, narrow the query instead.
 */
export const pageOffsetMax = 1_000_000;
/** GET /graph: nodes in one answer when `limit` is not given, and the most `limit` may ask (the answer is one JSON body). */
export const graphNodesDefault = 10_000;
export const graphNodesMax = 100_000;
/** Graph traversal depth for neighbors/subgraph/recall. */
export const traversalDepthMax = 8;
/** A recall query's text: its terms are each looked up in the text index, so a document-sized query is refused, not scanned. */
export const queryTextCharsMax = 10_000;
/** topK for similar/recall. */
export const topKMax = 1000;
/** A query's HNSW candidate list (`ef`) may not exceed this: past it a query costs milliseconds. */
export const efSearchMax = 4_096;

/** HTTP request body for `POST /api/v1/events`: one full batch (batchBytesMax) plus JSON overhead would exceed it, so batches near the cap go as msgpack. */
export const httpEventsBodyBytesMax = 16 * MiB;
/** HTTP request body on every other route: one node, edge or vector is far below this. */
export const httpBodyBytesMax = 1 * MiB;
/** After a write failed on a full disk, the log probes with a file this large (written, fsynced, removed) before it takes appends again. */
export const walProbeBytes = 1 * MiB;
/**
 * Bytes a background writer (a checkpoint's parts, compaction's Parquet) writes before it
 * fdatasyncs them, so no more than this waits in the page cache for the disk. The log's fdatasync
 * queues behind whatever dirty data the disk is writing back: on the development VM, with another
 * thread writing 32 MB files and syncing each once, a 15 KB log frame's fdatasync took p99 34-36 ms
 * (max 36-52); with that thread syncing every 1 MB, p99 15-16 ms (max 17-19).
 */
export const writeBehindBytes = 1 * MiB;
/**
 * A body over its route's cap is still read (and dropped) up to this many bytes before the 413 is
 * sent, so a client that writes its whole body before reading (Node's fetch) sees the 413 instead of
 * a reset connection (a lingering close, as nginx does). Past it the connection is closed at once.
 */
export const httpRefusedBodyDrainBytesMax = 64 * MiB;
/** …and for at most this long without a byte arriving (a client that announced more than it sends). */
export const httpRefusedBodyDrainIdleMs = 1_000;
/** JSON/msgpack nesting in a request body: an event wraps properties (≤ propertiesDepthMax) in three levels; deeper is refused before parsing. */
export const httpBodyDepthMax = propertiesDepthMax + 8;
/** Per-client token bucket: sustained requests per second, and the burst a client may spend at once. Generous: it stops runaway peers, not users. */
export const httpRateLimitPerSecond = 10_000;
export const httpRateLimitBurst = 20_000;
/** Clients tracked by the rate limiter; past this the stalest bucket is evicted, so a scan of many addresses cannot grow memory. */
export const httpRateLimitClientsMax = 10_000;
/** How long shutdown waits for in-flight requests before closing the engine anyway. */
export const httpShutdownGraceMs = 10_000;
/**
 * Load shedding (src/server/load-shedder.ts): past this many requests, or this much time, serving
 * requests in one event-loop turn, further requests in that turn get 503 and their connection
 * closed, so a flood of pipelined requests cannot hold the loop (and /health) for seconds. Clients
 * that wait for each answer bring at most one request per connection to a turn, so only
 * pipelining floods reach 1,000; a turn of 100 ms is ten times a slow batch write on a busy machine.
 */
export const httpTurnRequestsMax = 1_000;
export const httpTurnBudgetMs = 100;
/** A turn always serves this many requests before its time budget applies: one slow fsync (a busy disk) or a descheduled process must not shed a client's short pipeline. */
export const httpTurnRequestsFloor = 16;
/** Requests outliving their handler (bodies arriving, writes awaiting durability) at once; more get 503. */
export const httpInFlightMax = 4_096;
/** Retry-After on a shed request, in ms (sent rounded up to whole seconds). */
export const httpShedRetryAfterMs = 1_000;
/** Live vectors per data dir: 16.7M x 384-d float32 is ~26 GiB before the graph, more than one machine of this class holds; validation rejects a store beyond it. */
export const vectorsMax = 16_777_216;

// ---- federation (src/peers) ----

/** How long a federated query waits for peers unless it says otherwise (`deadline_ms`): well inside "feels instant", and room for a mesh-VPN round trip. */
export const peerDeadlineMsDefault = 250;
/** The longest `deadline_ms` a query may ask for: a federated answer that takes longer is no longer interactive. */
export const peerDeadlineMsMax = 60_000;
/** A signed peer request whose timestamp is further than this from the receiver's clock is refused. */
export const peerClockSkewMsMax = 60_000;
/** Nonces remembered against replay; past this the oldest is forgotten and requests as old as it are refused as stale. ~100 bytes each. */
export const peerNoncesMax = 100_000;
/** Open connections to one peer; requests beyond wait in the agent's queue (and are cut off by their deadline). */
export const peerSocketsMax = 16;
/** Consecutive failures after which a peer is skipped (its circuit opens). */
export const peerFailuresToOpen = 3;
/** How long an open circuit skips a peer before one probe request is let through; doubled on each failed probe up to peerCircuitOpenMsMax. */
export const peerCircuitOpenMs = 5_000;
export const peerCircuitOpenMsMax = 60_000;
/** A peer's answer larger than this is refused (a peer returns at most topKMax hits). */
export const peerResponseBytesMax = 16 * MiB;
/** Named peers per process. */
export const peersMax = 64;
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
