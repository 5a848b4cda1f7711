// `mnemo serve`: flags in commands.ts (`mnemo serve --help`).
//
// Opens the engine completely (log replayed, indexes loaded) before the port opens, so the
// first request is served warm. On SIGINT/SIGTERM: stop accepting, let in-flight requests
// finish, checkpoint, close the engine (which flushes the log), exit 0.

import { isMnemoError, openEngine, type Durability, type ReplicationOptions } from '../index.js';
import { loadIdentity } from '../admin.js';
import { defaultHost, defaultPort, startHttpServer } from '../server/http.js';
import { mcpRoutes } from '../mcp/route.js';
import { inspectorRoutes } from '../server/inspector.js';
import { packageVersion } from '../kernel/version.js';
import { dataDirOf, flagList, flagString, type ParsedArgs } from './args.js';
import { readFederationFlags, type FederationFlags } from './federation-flags.js';
import { serverLog } from './log.js';
import type { LogLevel } from './log-levels.js';
import { embedderLine, embedderOf } from './embedder.js';

export async function run(args: ParsedArgs): Promise<number> {
  const options = readOptions(args);
  if (typeof options === 'string') {
    console.error(`mnemo serve: ${options}`);
    return 2;
  }
  const embedder = embedderOf(args);
  if (typeof embedder === 'string') {
    console.error(`mnemo serve: ${embedder}`);
    return 2;
  }
  // Opening warms the embedder: a model that will not load stops the start, before the port opens.
  // Inline commit: see EngineOptions.commit (uWebSockets.js does not answer requests pipelined behind a pending one).
  const engine = await openEngine({
    dataDir: options.dataDir,
    durability: options.durability,
    commit: 'inline',
    repair: options.repair,
    ...(embedder ? { embed: embedder } : {}),
    ...(options.federation === undefined ? {} : { federation: options.federation }),
    ...(options.replication === undefined ? {} : { replication: options.replication }),
  });
  await engine.whenIndexed();
  // The data dir's identity exists from the first start, so `mnemo identity` and peers agree on it.
  loadIdentity(options.dataDir);
  let server;
  try {
    server = await startHttpServer(engine, {
      host: options.host,
      port: options.port,
      allowedHosts: options.allowedHosts,
      extraRoutes: [...mcpRoutes(packageVersion()), ...inspectorRoutes()],
      log: serverLog(options.logLevel),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
    });
  } catch (e) {
    await engine.close();
    throw e;
  }
  // Listening for the signals before the line that says it serves: stdout to a pipe is written
  // synchronously, so a supervisor that stops the server on reading that line could otherwise
  // deliver SIGTERM before the handler exists, killing the process with no shutdown checkpoint.
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log(`mnemo: serving ${options.dataDir} at ${server.url} (durability ${options.durability}; ${embedderLine(embedder)})`);
  if (options.federation !== undefined) console.log(`mnemo: peers ${options.federation.peers.map((p) => p.name).join(', ') || 'none'}`);
  if (options.replication !== undefined) console.log(`mnemo: replicating as '${options.replication.origin}' through ${options.replication.servers.join(',')}`);

  const signal = await stopped;
  console.log(`mnemo: ${signal}: finishing ${server.inFlight} in-flight request(s), then checkpointing`);
  await server.close();
  await checkpointIfAvailable(engine.checkpoint.bind(engine));
  await engine.close();
  console.log('mnemo: stopped');
  return 0;
}

async function checkpointIfAvailable(checkpoint: () => Promise<unknown>): Promise<void> {
  try {
    await checkpoint();
  } catch (e) {
    // Every event is in the log already; a checkpoint only makes the next start faster.
    console.warn(`mnemo: checkpoint skipped: ${isMnemoError(e) || e instanceof Error ? e.message : String(e)}`);
  }
}

interface ServeOptions extends FederationFlags {
  dataDir: string;
  host: string;
  port: number;
  durability: Durability;
  repair: boolean;
  allowedHosts: string[];
  logLevel: LogLevel;
  replication?: ReplicationOptions;
}

/** The options (already checked against their declarations in commands.ts), or a message naming a wrong flag. */
function readOptions(args: ParsedArgs): ServeOptions | string {
  const federation = readFederationFlags((name) => flagString(args, name), (name) => flagList(args, name));
  if (typeof federation === 'string') return federation;
  const replication = readReplication(args);
  if (typeof replication === 'string') return replication;
  return {
    dataDir: dataDirOf(args),
    host: flagString(args, 'host') ?? defaultHost,
    port: Number(flagString(args, 'port') ?? defaultPort),
    durability: (flagString(args, 'durability') ?? 'fsync') as Durability,
    repair: args.values['repair'] === true,
    allowedHosts: flagList(args, 'allowed-host'),
    logLevel: (flagString(args, 'log-level') ?? 'info') as LogLevel,
    ...federation,
    ...(replication === undefined ? {} : { replication }),
  };
}

const originPattern = /^[A-Za-z0-9_-]{1,64}$/;

/** `--replicate nats://h1:4222,nats://h2:4222 --origin NAME [--replication-ack local|stream]`, or a message naming the wrong flag. */
function readReplication(args: ParsedArgs): ReplicationOptions | undefined | string {
  const urls = flagString(args, 'replicate');
  const origin = flagString(args, 'origin');
  const ack = flagString(args, 'replication-ack');
  const stream = flagString(args, 'replication-stream');
  if (urls === undefined) {
    if (ack !== undefined || stream !== undefined) return '--replication-ack and --replication-stream need --replicate URLS';
    return undefined;
  }
  const servers = urls.split(',').map((url) => url.trim()).filter((url) => url.length > 0);
  const bad = servers.find((url) => !/^(nats|tls):\/\/[^\s/]+$/.test(url));
  if (servers.length === 0 || bad !== undefined) return `--replicate: expected nats://host:port URLs separated by commas, got '${bad ?? urls}'`;
  if (origin === undefined || !originPattern.test(origin)) return `--origin: expected a name of 1 to 64 of A-Z a-z 0-9 _ - (required with --replicate), got '${origin ?? ''}'`;
  if (ack !== undefined && ack !== 'local' && ack !== 'stream') return `--replication-ack: expected local or stream, got '${ack}'`;
  if (stream !== undefined && !originPattern.test(stream)) return `--replication-stream: expected a name of 1 to 64 of A-Z a-z 0-9 _ -, got '${stream}'`;
  return { servers, origin, ack: (ack ?? 'local') as 'local' | 'stream', ...(stream === undefined ? {} : { stream }) };
}
