// The public embedded API: the only import an embedding user (and mnemo's own server, MCP and CLI) needs.

export { openEngine, Engine } from './engine/engine.js';
export { MnemoError, isMnemoError, errorCatalogue, type ErrorCode } from './kernel/errors.js';
export * from './kernel/api.js';
export { eventTypes, type EventType, type JsonValue } from './kernel/events.js';
export * as limits from './kernel/limits.js';
export type { JsonBytes } from './kernel/wire.js';
export { embedderFromSpec, type EmbedderSpecOptions } from './embed/open.js';
export { RemoteEmbedder, type RemoteEmbedderOptions } from './embed/remote.js';
export { LocalEmbedder, localRuntimePackage } from './embed/local.js';
export { estimateTokens } from './query/memory-index.js';
