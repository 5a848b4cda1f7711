// Given `mnemo mcp` on stdio, when the SDK's own Client drives it as an agent would, then every tool answers.
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, it } from 'vitest';

import { tempDir } from '../support/engine.js';
import { exerciseTools } from '../support/mcp-tour.js';

// Runs the compiled CLI: `npm test` builds dist/ before vitest starts.
const repo = join(import.meta.dirname, '..', '..');

describe('MCP over stdio', () => {
  let client: Client;

  beforeAll(async () => {
    const dataDir = await tempDir();
    client = new Client({ name: 'mnemo-test', version: '1.0.0' });
    await client.connect(new StdioClientTransport({ command: process.execPath, args: [join(repo, 'dist/src/cli/main.js'), 'mcp', '--data-dir', dataDir], stderr: 'ignore' }));
  });

  afterAll(async () => {
    await client?.close();
  });

  it('given a fresh data dir, when an agent calls every tool, then each answers as AllSource Prime would', async () => {
    await exerciseTools(client);
  });
});
