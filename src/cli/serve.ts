// `mnemo serve`: flags in commands.ts (`mnemo serve --help`).
//
// Opens the engine completely (log replayed, indexes loaded) before the port opens, so the
// first request is served warm. On SIGINT/SIGTERM: stop accepting, let in-flight requests
// finish, checkpoint, close the engine (which flushes the log), exit 0.

import { isMnemoError, openEngine, type Durability } from '../index.js';
import { loadIdentity } from '../admin.js';
import { defaultHost, defaultPort, startHttpServer } from '../server/http.js';
import { mcpRoutes } from '../mcp/route.js';
import { inspectorRoutes } from '../server/inspector.js';
import { packageVersion } from '../kernel/version.js';
import { dataDirOf, flagList, flagString, type ParsedArgs } from './args.js';
import { readFederationFlags, type FederationFlags } from './federation-flags.js';
import { serverLog } from './log.js';
import type { LogLevel } from './log-levels.js';

export async function run(args: ParsedArgs): Promise<number> {
  const options = readOptions(args);
  if (typeof options === 'string') {
    console.error(`mnemo serve: ${options}`);
    return 2;
  }
  // Inline commit: see EngineOptions.commit (uWebSockets.js does not answer requests pipelined behind a pending one).
  const engine = await openEngine({
    dataDir: options.dataDir,
    durability: options.durability,
    commit: 'inline',
    ...(options.federation === undefined ? {} : { federation: options.federation }),
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
  console.log(`mnemo: serving ${options.dataDir} at ${server.url} (durability ${options.durability})`);
  if (options.federation !== undefined) console.log(`mnemo: peers ${options.federation.peers.map((p) => p.name).join(', ') || 'none'}`);

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
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
  allowedHosts: string[];
  logLevel: LogLevel;
}

/** The options (already checked against their declarations in commands.ts), or a message naming a wrong federation flag. */
function readOptions(args: ParsedArgs): ServeOptions | string {
  const federation = readFederationFlags((name) => flagString(args, name), (name) => flagList(args, name));
  if (typeof federation === 'string') return federation;
  return {
    dataDir: dataDirOf(args),
    host: flagString(args, 'host') ?? defaultHost,
    port: Number(flagString(args, 'port') ?? defaultPort),
    durability: (flagString(args, 'durability') ?? 'fsync') as Durability,
    allowedHosts: flagList(args, 'allowed-host'),
    logLevel: (flagString(args, 'log-level') ?? 'info') as LogLevel,
    ...federation,
  };
}
