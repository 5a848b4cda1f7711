// `mnemo mcp [--data-dir DIR] [--durability MODE]`: an MCP server on stdio. stdout carries the protocol, so every
// log line goes to stderr.

import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

import { isMnemoError, openEngine, type Embedder, type Engine } from '../index.js';
import { createMcpServer } from '../mcp/tools.js';
import { dataDirOf, flagString, type ParsedArgs } from './args.js';
import { packageVersion } from '../kernel/version.js';
import { embedderLine, embedderOf } from './embedder.js';

export async function run(args: ParsedArgs): Promise<number> {
  const durability = (flagString(args, 'durability') ?? 'fsync') as 'fsync' | 'interval' | 'none';
  const embedder = embedderOf(args);
  if (typeof embedder === 'string') {
    console.error(`mnemo mcp: ${embedder}`);
    return 2;
  }
  const engine = await openOrExplain(dataDirOf(args), durability, embedder);
  if (engine === undefined) return 1;
  const server = createMcpServer(engine, packageVersion());
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.connect(transport);
  console.error(`mnemo: MCP server on stdio, data dir ${engine.dataDir}, ${embedderLine(embedder)}`);
  await closed;
  await server.close();
  await engine.close();
  return 0;
}

/**
 * The engine, or undefined after a stderr line the MCP client shows its user. A client that starts
 * `mnemo mcp` on a data dir a running server holds would otherwise only say "Connection closed".
 */
async function openOrExplain(dataDir: string, durability: 'fsync' | 'interval' | 'none', embedder: Embedder | undefined): Promise<Engine | undefined> {
  try {
    return await openEngine({ dataDir, durability, onWarning: (m) => console.error(`mnemo: ${m}`), ...(embedder ? { embed: embedder } : {}) });
  } catch (e) {
    if (isMnemoError(e, 'WAL_LOCKED')) {
      const pid = e.details.pid === undefined ? '' : ` (pid ${e.details.pid})`;
      console.error(
        `mnemo mcp: the data dir ${dataDir} is held by another process${pid}, likely 'mnemo serve' or another 'mnemo mcp'. ` +
          `Point this client at that server's HTTP endpoint (http://127.0.0.1:3905/mcp), stop the other process, or give another --data-dir.`,
      );
      return undefined;
    }
    if (isMnemoError(e)) {
      console.error(`mnemo mcp: ${e.message}`);
      return undefined;
    }
    throw e;
  }
}
