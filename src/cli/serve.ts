// `mnemo serve [--data-dir DIR] [--host 127.0.0.1] [--port 3905] [--durability fsync] [--allowed-host NAME]...`
//
// Opens the engine completely (log replayed, indexes loaded) before the port opens, so the
// first request is served warm. On SIGINT/SIGTERM: stop accepting, let in-flight requests
// finish, checkpoint, close the engine (which flushes the log), exit 0.

import { isMnemoError, openEngine, type Durability } from '../index.js';
import { defaultHost, defaultPort, startHttpServer } from '../server/http.js';
import { mcpRoutes } from '../mcp/route.js';
import { packageVersion } from '../kernel/version.js';
import { dataDirOf, flagString, type ParsedArgs } from './args.js';
import { embedderLine, embedderOf } from './embedder.js';

const durabilities: readonly Durability[] = ['fsync', 'interval', 'none'];

export async function run(args: ParsedArgs): Promise<number> {
  const options = readOptions(args, process.argv.slice(3));
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
  const engine = await openEngine({ dataDir: options.dataDir, durability: options.durability, ...(embedder ? { embed: embedder } : {}) });
  await engine.whenIndexed();
  let server;
  try {
    server = await startHttpServer(engine, { host: options.host, port: options.port, allowedHosts: options.allowedHosts, extraRoutes: mcpRoutes(packageVersion()) });
  } catch (e) {
    await engine.close();
    throw e;
  }
  console.log(`mnemo: serving ${options.dataDir} at ${server.url} (durability ${options.durability}; ${embedderLine(embedder)})`);

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

interface ServeOptions {
  dataDir: string;
  host: string;
  port: number;
  durability: Durability;
  allowedHosts: string[];
}

/** The options, or a message saying which flag is wrong. `argv` is read again for repeated --allowed-host. */
function readOptions(args: ParsedArgs, argv: readonly string[]): ServeOptions | string {
  const portText = flagString(args, 'port') ?? String(defaultPort);
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 0 && port <= 65535)) return `--port: expected 0..65535, got '${portText}'`;
  const durability = (flagString(args, 'durability') ?? 'fsync') as Durability;
  if (!durabilities.includes(durability)) return `--durability: expected ${durabilities.join(', ')}, got '${durability}'`;
  return { dataDir: dataDirOf(args), host: flagString(args, 'host') ?? defaultHost, port, durability, allowedHosts: repeatedFlag(argv, 'allowed-host') };
}

/** ParsedArgs keeps the last value of a flag; --allowed-host may be given several times. */
function repeatedFlag(argv: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === `--${name}` && argv[i + 1] !== undefined) values.push(argv[++i]!);
    else if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
  }
  return values;
}
