// The public embedded API: the only import an embedding user (and mnemo's own server, MCP and CLI) needs.

export { openEngine, Engine } from './engine/engine.js';
export { MnemoError, isMnemoError, errorCatalogue, type ErrorCode } from './kernel/errors.js';
export * from './kernel/api.js';
export { eventTypes, type EventType, type JsonValue } from './kernel/events.js';
export * as limits from './kernel/limits.js';
