// The server's log for `mnemo serve`: pino, one JSON object a line on stderr (stdout keeps the
// human lines: the URL served, shutdown). At `debug` each answered request is a line; internal
// errors are logged at every level but none below `error`.
import { pino, type Logger } from 'pino';

import type { ServerLog } from '../server/log.js';
import type { LogLevel } from './log-levels.js';

/** Synchronous writes: a line per request at debug is for diagnosis, and lines must survive a crash. */
export function serverLog(level: LogLevel): ServerLog {
  const logger: Logger = pino({ level, base: { pid: process.pid }, formatters: { level: (label) => ({ level: label }) } }, pino.destination({ fd: 2, sync: true }));
  return {
    requests: logger.isLevelEnabled('debug'),
    request: (line) => logger.debug({ method: line.method, path: line.path, operation: line.operation, status: line.status, duration_ms: Number(line.durationMs.toFixed(3)), remote: line.remote, response_bytes: line.responseBytes }, 'request'),
    internalError: (operation, error) => logger.error({ operation, err: error }, 'internal error'),
  };
}
