// What the HTTP server logs, and nothing else: one line per answered request (when wanted) and
// internal errors. The line carries method, path, operation, status, duration, the peer address
// and the response size; never a body, a query string or a header (an API key rides in one).
// The server does not pick a logging library: `mnemo serve` hands it one (src/cli/log.ts).

export interface RequestLine {
  method: string;
  /** The path without its query string. */
  path: string;
  operation: string;
  status: number;
  durationMs: number;
  remote: string;
  responseBytes: number;
}

export interface ServerLog {
  /** Whether request lines are wanted: when false the server does not even gather them. */
  readonly requests: boolean;
  request(line: RequestLine): void;
  /** A bug met while serving (the client got a 500). */
  internalError(operation: string, error: unknown): void;
}

/** The default: no request lines; internal errors to stderr, as before a log level existed. */
export const stderrLog: ServerLog = {
  requests: false,
  request: () => {},
  internalError: (operation, error) => console.error(`mnemo: internal error serving ${operation}:`, error),
};
