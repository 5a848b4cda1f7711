// The tool tour an agent takes, shared by the stdio and HTTP MCP tests.
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { expect } from 'vitest';

async function callJson(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const result = (await client.callTool({ name, arguments: args })) as { isError?: boolean; content: Array<{ type: string; text: string }> };
  if (result.isError) throw new Error(`${name} failed: ${result.content[0]?.text}`);
  return JSON.parse(result.content[0]!.text);
}

/** The full tool tour, shared by the stdio and HTTP transport tests. */
export async function exerciseTools(client: Client): Promise<void> {
  const tools = (await client.listTools()).tools.map((t) => t.name).sort();
  expect(tools).toEqual(
    ['prime_add_edge', 'prime_add_node', 'prime_as_of', 'prime_context', 'prime_embed', 'prime_index', 'prime_forget', 'prime_history', 'prime_neighbors', 'prime_recall', 'prime_search', 'prime_shortest_path', 'prime_similar', 'prime_stats'].sort(),
  );
  const ada = (await callJson(client, 'prime_add_node', { type: 'person', properties: { name: 'Ada Lovelace' } })).node_id;
  const note = (await callJson(client, 'prime_add_node', { type: 'note', properties: { body: 'analytical engine notes' } })).node_id;
  const other = (await callJson(client, 'prime_add_node', { type: 'note', properties: { body: 'gardening' } })).node_id;
  expect(ada).toMatch(/^node:person:/);
  expect((await callJson(client, 'prime_add_node', { type: 'person', id: 'node:person:grace' })).entity_id).toBe('node:person:grace');
  await callJson(client, 'prime_forget', { node_id: 'node:person:grace' });
  const edge = await callJson(client, 'prime_add_edge', { source: ada, target: note, relation: 'wrote' });
  expect(edge.edge_id).toMatch(/^edge:/);
  const neighbors = await callJson(client, 'prime_neighbors', { node_id: ada });
  expect(neighbors).toMatchObject({ total: 1, returned: 1, offset: 0 });
  expect(neighbors.nodes[0].id).toBe(note);
  expect((await callJson(client, 'prime_search', { type: 'note' })).total).toBe(2);
  expect((await callJson(client, 'prime_shortest_path', { from: ada, to: note })).path.map((n: { id: string }) => n.id)).toEqual([ada, note]);
  await callJson(client, 'prime_embed', { id: note, vector: [1, 0, 0], text: 'engine notes' });
  await callJson(client, 'prime_embed', { id: other, vector: [0.9, 0.1, 0] });
  expect((await callJson(client, 'prime_similar', { id: note, top_k: 1 })).results[0].id).toBe(other);
  const recalled = (await callJson(client, 'prime_recall', { text: 'analytical engine', top_k: 3 })).results;
  expect(recalled[0]).toMatchObject({ id: note, depth: 0, retrieval: ['lexical'] });
  expect(recalled.map((r: { id: string }) => r.id)).toContain(ada);
  const stats = await callJson(client, 'prime_stats');
  expect(stats).toMatchObject({ total_nodes: 3, total_edges: 1, total_vectors: 2 });
  const history = await callJson(client, 'prime_history', { entity_id: note });
  expect(history.events.map((e: { type: string }) => e.type)).toEqual(['prime.node.created', 'prime.edge.created', 'prime.vector.stored']);
  await callJson(client, 'prime_forget', { node_id: note });
  expect((await callJson(client, 'prime_neighbors', { node_id: ada })).total).toBe(0);
  // Bad arguments are tool errors naming the problem, and the server lives on.
  const bad = (await client.callTool({ name: 'prime_neighbors', arguments: { node_id: ada, limit: 9999 } })) as { isError?: boolean; content: Array<{ text: string }> };
  expect(bad.isError).toBe(true);
  expect(bad.content[0]!.text).toMatch(/limit/);
  const missing = (await client.callTool({ name: 'prime_add_edge', arguments: { source: ada, target: 'node:x:none', relation: 'r' } })) as { isError?: boolean; content: Array<{ text: string }> };
  expect(missing.isError).toBe(true);
  expect(missing.content[0]!.text).toMatch(/target/);
  const wrongType = (await client.callTool({ name: 'prime_add_node', arguments: { type: 42 } })) as { isError?: boolean; content: Array<{ text: string }> };
  expect(wrongType.isError).toBe(true);
  expect(wrongType.content[0]!.text).toMatch(/type/);
  expect((await callJson(client, 'prime_stats')).total_nodes).toBe(2);
}

