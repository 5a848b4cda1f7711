// The public embedded API: the only import an embedding user (and mnemo's own server, MCP and CLI) needs.

export { openEngine, Engine } from './engine.js';
export { MnemoError, isMnemoError, errorCatalogue, type ErrorCode } from './errors.js';
export * from './api.js';
export { eventTypes, type EventType, type JsonValue } from './events.js';
export * as limits from './limits.js';
