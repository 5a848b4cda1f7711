/** `--log-level`, quietest first; declared apart from the logger so help need not load it. */
export const logLevels = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof logLevels)[number];
