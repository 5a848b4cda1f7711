// MCP: tools that take words, the memory index as a tool and a resource, and the descriptions and
// hints a client shows an agent.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { afterEach, describe, expect, it } from 'vitest';

import { RemoteEmbedder, type Engine } from '../../src/index.js';
import { createMcpServer } from '../../src/mcp/tools.js';
import { givenEngine } from '../support/engine.js';
import { startEmbeddingsServer, type EmbeddingsServer } from '../support/embeddings-server.js';

let embeddings: EmbeddingsServer | undefined;
const clients: Client[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
  await embeddings?.close();
  embeddings = undefined;
});

async function givenClient(engine: Engine): Promise<Client> {
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await createMcpServer(engine, '0.0.0-test').connect(serverSide);
  const client = new Client({ name: 'words-test', version: '1.0.0' });
  await client.connect(clientSide);
  clients.push(client);
  return client;
}

async function textOf(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const result = (await client.callTool({ name, arguments: args })) as { isError?: boolean; content: Array<{ text: string }> };
  if (result.isError) throw new Error(`${name}: ${result.content[0]!.text}`);
  return result.content[0]!.text;
}

async function givenWorld(engine: Engine): Promise<void> {
  await engine.addNode({ id: 'ada', type: 'person', properties: { name: 'Ada Lovelace' } });
  await engine.addNode({ id: 'engine', type: 'project', properties: { title: 'Analytical Engine' } });
  await engine.addNode({ id: 'garage', type: 'note', properties: { text: 'the mechanic will repair the sedan' } });
  await engine.addEdge({ source: 'ada', target: 'engine', relation: 'works_on' });
}

describe('MCP words tools', () => {
  it('given the tool list, when read, then every parameter is described, reads are read-only and prime_forget is destructive', async () => {
    const client = await givenClient(await givenEngine());
    const { tools } = await client.listTools();
    for (const tool of tools) {
      for (const [name, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
        expect((schema as { description?: string }).description, `${tool.name}.${name}`).toBeTruthy();
      }
    }
    const hints = Object.fromEntries(tools.map((t) => [t.name, t.annotations]));
    expect(hints.prime_forget).toMatchObject({ destructiveHint: true, readOnlyHint: false });
    for (const read of ['prime_neighbors', 'prime_search', 'prime_similar', 'prime_recall', 'prime_index', 'prime_context', 'prime_stats', 'prime_history', 'prime_as_of', 'prime_shortest_path']) {
      expect(hints[read], read).toMatchObject({ readOnlyHint: true });
    }
    expect(hints.prime_add_node).toMatchObject({ readOnlyHint: false, destructiveHint: false });
    const recall = tools.find((t) => t.name === 'prime_recall')!.inputSchema.properties as Record<string, { maximum?: number }>;
    expect(recall.top_k!.maximum).toBe(1000);
  });

  it('given a world, when prime_index is called and mnemo://index read, then both name the domains and the cross-domain relation', async () => {
    const engine = await givenEngine();
    await givenWorld(engine);
    const client = await givenClient(engine);
    const index = await textOf(client, 'prime_index', { max_tokens: 300 });
    expect(index).toContain('- person (1 nodes) e.g. Ada Lovelace');
    expect(index).toContain('- person -[works_on]-> project: 1');
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toContain('mnemo://index');
    const read = await client.readResource({ uri: 'mnemo://index' });
    expect(read.contents[0]).toMatchObject({ uri: 'mnemo://index', mimeType: 'text/markdown' });
    expect((read.contents[0] as { text: string }).text).toContain('person -[works_on]-> project');
    const context = await textOf(client, 'prime_context', { query: 'Ada' });
    expect(context).toContain('## Recalled for "Ada"');
    expect(context).toContain('Ada Lovelace (ada)');
  });

  it('given an embedder, when prime_recall and prime_similar are asked in words, then they answer by meaning', async () => {
    embeddings = await startEmbeddingsServer();
    const engine = await givenEngine({ embed: new RemoteEmbedder({ url: embeddings.url, model: 'concepts', backoffMs: 1 }) });
    await givenWorld(engine);
    const client = await givenClient(engine);
    await textOf(client, 'prime_embed', { id: 'garage', text: 'the mechanic will repair the sedan' });
    await engine.whenIndexed();
    const recalled = JSON.parse(await textOf(client, 'prime_recall', { text: 'fix my automobile', depth: 0, top_k: 1 }));
    expect(recalled).toMatchObject({ results: [{ id: 'garage', retrieval: ['semantic'] }] });
    const similar = JSON.parse(await textOf(client, 'prime_similar', { text: 'car', top_k: 1 }));
    expect(similar.results[0].id).toBe('garage');
    const both = (await client.callTool({ name: 'prime_similar', arguments: { text: 'car', id: 'garage' } })) as { isError?: boolean; content: Array<{ text: string }> };
    expect(both.isError).toBe(true);
    expect(both.content[0]!.text).toContain("exactly one of 'vector', 'id' or 'text'");
  });
});
