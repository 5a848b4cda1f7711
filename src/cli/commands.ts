// Every `mnemo` command: what it does, its positional arguments and its flags, declared once.
// Help, parsing and the environment variables all derive from this table, so a new flag is one
// line in its command's `flags`. The implementation lives in src/cli/<name>.ts, loaded only when
// the command runs.
import { dataDirFlag, durabilityFlag, oneOf, tcpPort, type Flag } from './args.js';
import { exportFormats } from './export-formats.js';
import { logLevels } from './log-levels.js';

export interface Command {
  readonly name: string;
  readonly summary: string;
  /** Positional arguments as shown in usage (`FILE`), all required. */
  readonly positionals: readonly string[];
  readonly flags: readonly Flag[];
  /** Reads a data dir and must not create one: a missing data dir is an error, not an empty store. */
  readonly readsOnly?: boolean;
  /** More lines for `mnemo <command> --help`. */
  readonly details?: string;
}

const hostFlag: Flag = { name: 'host', env: 'MNEMO_HOST', kind: 'string', valueName: 'ADDR', help: 'the address to listen on; 0.0.0.0 or :: to serve other machines', default: '127.0.0.1' };
const portFlag: Flag = { name: 'port', env: 'MNEMO_PORT', kind: 'string', valueName: 'PORT', help: 'the TCP port; 0 lets the OS choose', default: '3905', check: tcpPort };
const allowedHostFlag: Flag = {
  name: 'allowed-host',
  env: 'MNEMO_ALLOWED_HOSTS',
  kind: 'list',
  valueName: 'NAME',
  help: 'a host name accepted in Host and Origin besides IP literals and localhost (repeatable; the variable takes a comma-separated list)',
};
const logLevelFlag: Flag = {
  name: 'log-level',
  env: 'MNEMO_LOG_LEVEL',
  kind: 'string',
  valueName: 'LEVEL',
  help: `${logLevels.join(', ')}; debug logs one JSON line per request to stderr (never bodies, queries or headers)`,
  default: 'info',
  check: oneOf(logLevels),
};
// Federation (docs/federation.md).
const peerFlag: Flag = {
  name: 'peer',
  env: 'MNEMO_PEERS',
  kind: 'list',
  valueName: 'NAME=URL',
  help: 'a peer whose /peer/* routes recall and vector search may also ask (repeatable; the variable takes a comma-separated list)',
};
const peerCaFlag: Flag = { name: 'peer-ca', env: 'MNEMO_PEER_CA', kind: 'string', valueName: 'FILE', help: 'a PEM CA bundle trusted for https:// peers (a private CA)' };
const originFlag: Flag = { name: 'origin', env: 'MNEMO_ORIGIN', kind: 'string', valueName: 'NAME', help: "this machine's name in federated answers (and, replicating, its writer id); default the host name" };
const tlsCertFlag: Flag = { name: 'tls-cert', env: 'MNEMO_TLS_CERT', kind: 'string', valueName: 'FILE', help: 'serve HTTPS with this PEM certificate (chain); with --tls-key' };
const tlsKeyFlag: Flag = { name: 'tls-key', env: 'MNEMO_TLS_KEY', kind: 'string', valueName: 'FILE', help: 'the PEM private key of --tls-cert' };
// Replication (docs/replication.md).
const replicateFlag: Flag = { name: 'replicate', env: 'MNEMO_REPLICATE', kind: 'string', valueName: 'URLS', help: 'share this memory through NATS JetStream: nats://host:4222 URLs, comma-separated (needs --origin)' };
const replicationAckFlag: Flag = { name: 'replication-ack', env: 'MNEMO_REPLICATION_ACK', kind: 'string', valueName: 'ACK', help: 'local (default): an append resolves once durable here; stream: once JetStream acknowledged it too', check: oneOf(['local', 'stream']) };
const replicationStreamFlag: Flag = { name: 'replication-stream', env: 'MNEMO_REPLICATION_STREAM', kind: 'string', valueName: 'NAME', help: 'the JetStream stream (default mnemo)' };
// Words (docs/words.md). The bearer token comes from MNEMO_EMBEDDER_KEY only (never a flag: ps would show it).
const embedderFlag: Flag = { name: 'embedder', env: 'MNEMO_EMBEDDER', kind: 'string', valueName: 'URL|local:DIR', help: 'embed text: an OpenAI-compatible /v1/embeddings URL, or local:DIR, an ONNX sentence-embedding model folder' };
const embedderModelFlag: Flag = { name: 'embedder-model', env: 'MNEMO_EMBEDDER_MODEL', kind: 'string', valueName: 'NAME', help: "the model name sent to a URL embedder" };
const repairFlag: Flag = {
  name: 'repair',
  env: 'MNEMO_REPAIR',
  kind: 'boolean',
  help: 'move damaged WAL segments and Parquet files aside (renamed, never deleted) and go on without their events, saying which seqs are lost, instead of refusing to open',
};
const formatFlag: Flag = { name: 'format', env: 'MNEMO_EXPORT_FORMAT', kind: 'string', valueName: 'FORMAT', help: exportFormats.join(', '), required: true, check: oneOf(exportFormats) };
const outFlag: Flag = { name: 'out', env: 'MNEMO_EXPORT_OUT', kind: 'string', valueName: 'FILE', help: 'write here (written whole, then renamed into place); jsonl goes to stdout without it' };

export const commands: readonly Command[] = [
  {
    name: 'serve',
    summary: 'serve the HTTP API (and MCP at POST /mcp) until SIGINT or SIGTERM',
    positionals: [],
    flags: [dataDirFlag, hostFlag, portFlag, durabilityFlag, repairFlag, allowedHostFlag, logLevelFlag, peerFlag, peerCaFlag, originFlag, tlsCertFlag, tlsKeyFlag, replicateFlag, replicationAckFlag, replicationStreamFlag, embedderFlag, embedderModelFlag],
    details: 'On SIGINT or SIGTERM it stops accepting, finishes in-flight requests, checkpoints and exits 0.',
  },
  { name: 'mcp', summary: 'serve MCP over stdio (stdout carries the protocol; logs go to stderr)', positionals: [], flags: [dataDirFlag, durabilityFlag, embedderFlag, embedderModelFlag] },
  {
    name: 'setup',
    summary: 'write .mcp.json in this folder for Claude Code (keeping other servers) and print the config for other MCP clients',
    positionals: [],
    flags: [dataDirFlag, embedderFlag, embedderModelFlag],
  },
  {
    name: 'import',
    summary: 'append the events of a JSONL or Parquet file, validated as an API call would be',
    positionals: ['FILE'],
    flags: [dataDirFlag],
  },
  {
    name: 'export',
    summary: 'write every event in seq order as JSONL, Parquet or Arrow',
    positionals: [],
    flags: [dataDirFlag, formatFlag, outFlag],
    readsOnly: true,
    details: 'Takes the writer lock while it reads, so it refuses a data dir a running server holds: stop the server first.',
  },
  {
    name: 'verify',
    summary: 'check every WAL record, checkpoint and Parquet file; exit 1 on damage',
    positionals: [],
    flags: [dataDirFlag, repairFlag],
    readsOnly: true,
    details: 'Takes no lock: it can run beside a live server. With --repair it opens the data dir to repair what it found (taking the writer lock: stop the server first), then checks again.',
  },
  {
    name: 'identity',
    summary: "print this data dir's Ed25519 public key (created at first use), the value peers list in MNEMO_PEER_TRUST",
    positionals: [],
    flags: [dataDirFlag],
  },
  { name: 'checkpoint', summary: 'write a checkpoint at the last seq, so the next start replays less', positionals: [], flags: [dataDirFlag] },
  { name: 'compact', summary: 'seal the active WAL segment and compact every sealed one to Parquet', positionals: [], flags: [dataDirFlag] },
  {
    name: 'stats',
    summary: 'print the stats as JSON, in the shape of GET /api/v1/prime/stats',
    positionals: [],
    flags: [dataDirFlag],
    readsOnly: true,
    details: 'Takes the writer lock while it reads; while a server holds the data dir, ask it: GET /api/v1/prime/stats.',
  },
];

export function commandNamed(name: string): Command | undefined {
  return commands.find((c) => c.name === name);
}

/** `mnemo <command> --help`. */
export function commandHelp(command: Command): string {
  const usage = `usage: mnemo ${command.name}${command.positionals.map((p) => ` ${p}`).join('')} [flags]`;
  const rows = command.flags.map((flag) => [`--${flag.name}${flag.kind === 'boolean' ? '' : ` ${flag.valueName ?? 'VALUE'}`}`, flagHelp(flag)] as const);
  rows.push(['-h, --help', 'print this help and do nothing else'] as never);
  const width = Math.max(...rows.map(([left]) => left.length)) + 2;
  const lines = rows.map(([left, right]) => `  ${left.padEnd(width)}${right}`);
  return [usage, '', `${command.summary.charAt(0).toUpperCase()}${command.summary.slice(1)}.`, ...(command.details ? [command.details] : []), '', 'flags:', ...lines, ''].join('\n');
}

function flagHelp(flag: Flag): string {
  const shown = flag.defaultText ?? flag.default;
  const notes = [flag.env, ...(flag.required === true ? ['required'] : []), ...(shown === undefined ? [] : [`default ${shown}`])];
  return `${flag.help} [${notes.join('; ')}]`;
}

/** `mnemo help`. */
export function mainHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    'usage: mnemo <command> [flags]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    '`mnemo <command> --help` lists its flags; each flag can also be set by the MNEMO_* variable it names.',
    '`mnemo --version` prints the version.',
    '',
  ].join('\n');
}
