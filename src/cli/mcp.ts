// `mnemo mcp [--data-dir DIR] [--durability MODE]`: an MCP server on stdio. stdout carries the protocol, so every
// log line goes to stderr.

import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';

import { openEngine, type Durability } from '../index.js';
import { createMcpServer } from '../mcp/tools.js';
import { dataDirOf, flagString, type ParsedArgs } from './args.js';
import { packageVersion } from '../kernel/version.js';

export async function run(args: ParsedArgs): Promise<number> {
  const durability = (flagString(args, 'durability') ?? 'fsync') as Durability;
  const engine = await openEngine({ dataDir: dataDirOf(args), durability, onWarning: (m) => console.error(`mnemo: ${m}`) });
  const server = createMcpServer(engine, packageVersion());
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.connect(transport);
  console.error(`mnemo: MCP server on stdio, data dir ${engine.dataDir}`);
  await closed;
  await server.close();
  await engine.close();
  return 0;
}
