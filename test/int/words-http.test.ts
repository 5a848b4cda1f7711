// The text routes over real HTTP, with an OpenAI-compatible embedder this test starts on loopback.
import { afterEach, describe, expect, it } from 'vitest';

import { RemoteEmbedder, type MnemoEngine } from '../../src/index.js';
import { call, givenServer, type GivenServer } from '../support/http-server.js';
import { startEmbeddingsServer, type EmbeddingsServer } from '../support/embeddings-server.js';

let embeddings: EmbeddingsServer | undefined;
let given: GivenServer | undefined;
afterEach(async () => {
  await given?.close();
  await embeddings?.close();
  given = embeddings = undefined;
});

async function givenServerWithEmbedder(): Promise<GivenServer> {
  embeddings = await startEmbeddingsServer();
  given = await givenServer({ embed: new RemoteEmbedder({ url: embeddings.url, model: 'concepts', backoffMs: 1, retries: 0 }) });
  return given;
}

/** A small world: people, projects and a decision, linked across domains. */
async function givenWorld(engine: MnemoEngine): Promise<void> {
  await engine.addNode({ id: 'ada', type: 'person', properties: { name: 'Ada Lovelace' } });
  await engine.addNode({ id: 'alan', type: 'person', properties: { name: 'Alan Turing' } });
  await engine.addNode({ id: 'engine', type: 'project', properties: { title: 'Analytical Engine' } });
  await engine.addNode({ id: 'garage', type: 'note', properties: { text: 'the mechanic will repair the sedan' } });
  await engine.addEdge({ source: 'ada', target: 'engine', relation: 'works_on' });
  await engine.addEdge({ source: 'alan', target: 'engine', relation: 'works_on' });
  await engine.addEdge({ source: 'engine', target: 'ada', relation: 'led_by' });
  await engine.embed({ id: 'garage', text: 'the mechanic will repair the sedan' });
  await engine.whenIndexed();
}

describe('HTTP words routes', () => {
  it('given an embedder, when recall is asked in words, then it answers by meaning with an embed hop in Server-Timing', async () => {
    const { engine, url } = await givenServerWithEmbedder();
    await givenWorld(engine);
    const reply = await call(url, 'POST', '/api/v1/prime/recall', { body: { text: 'fix my automobile', depth: 0, top_k: 2 } });
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ results: [{ id: 'garage', retrieval: ['semantic'] }] });
    expect(reply.headers.get('server-timing')).toMatch(/parse;dur=[\d.]+, query;dur=[\d.]+, serialize;dur=[\d.]+, embed;dur=[\d.]+/);
    const search = await call(url, 'POST', '/api/v1/prime/vectors/search', { body: { text: 'car repair', top_k: 1 } });
    expect(search.json.results[0]).toMatchObject({ id: 'garage', text: 'the mechanic will repair the sedan' });
  });

  it('given the embedder goes down, when recall is asked in words, then BM25 answers with degraded true', async () => {
    const { engine, url } = await givenServerWithEmbedder();
    await givenWorld(engine);
    embeddings!.failAlways('500');
    const reply = await call(url, 'POST', '/api/v1/prime/recall', { body: { text: 'mechanic', depth: 0 } });
    expect(reply.json).toMatchObject({ results: [{ id: 'garage', retrieval: ['lexical'] }] });
    // Prime's `degraded`: a string saying why, present only when degraded.
    expect(reply.json.degraded).toMatch(/embedder/);
    const search = await call(url, 'POST', '/api/v1/prime/vectors/search', { body: { text: 'mechanic' } });
    expect(search.status).toBe(503);
    expect(search.json.code).toBe('EMBEDDER_UNAVAILABLE');
  });

  it('given no embedder, when vectors are searched by text, then a 400 says an embedder is needed', async () => {
    given = await givenServer();
    const reply = await call(given.url, 'POST', '/api/v1/prime/vectors/search', { body: { text: 'car' } });
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ code: 'EMBEDDER_MISSING' });
    expect(reply.json.error).toContain('--embedder');
  });

  it.each([
    ['/api/v1/prime/recall', { text: 'x', colour: 'red' }, 'colour'],
    ['/api/v1/prime/recall', {}, 'vector'],
    ['/api/v1/prime/vectors/search', { text: 'x', id: 'y' }, 'vector'],
    ['/api/v1/prime/context', { max_tokens: 1000 }, 'query'],
    ['/api/v1/prime/context', { query: 'x', max_tokens: 10 }, 'max_tokens'],
  ])('given bad input to %s (%j), when posted, then a 400 names %s', async (path, body, field) => {
    given = await givenServer();
    const reply = await call(given.url, 'POST', path, { body });
    expect(reply.status).toBe(400);
    expect(reply.json.error.startsWith(`${field}:`)).toBe(true);
  });

  it('given a world, when the index is asked within 200 tokens, then it names domains, examples and cross-domain relations', async () => {
    given = await givenServer();
    await givenWorld(given.engine);
    const reply = await call(given.url, 'GET', '/api/v1/prime/index?max_tokens=200');
    expect(reply.status).toBe(200);
    const { markdown, tokens, max_tokens: maxTokens, truncated } = reply.json;
    expect(markdown).toContain('- person (2 nodes) e.g. Ada Lovelace; Alan Turing');
    expect(markdown).toContain('- project (1 nodes) e.g. Analytical Engine');
    expect(markdown).toContain('- person -[works_on]-> project: 2');
    expect(markdown).toContain('- project -[led_by]-> person: 1');
    expect(tokens).toBeLessThanOrEqual(200);
    expect({ maxTokens, truncated }).toEqual({ maxTokens: 200, truncated: false });
    expect((await call(given.url, 'GET', '/api/v1/prime/index?max_tokens=9')).status).toBe(400);
  });

  it('given a world, when context is asked, then the index and the recalled hits come in one markdown', async () => {
    given = await givenServer();
    await givenWorld(given.engine);
    const reply = await call(given.url, 'POST', '/api/v1/prime/context', { body: { query: 'Ada', max_tokens: 400 } });
    expect(reply.status).toBe(200);
    expect(reply.json.markdown).toContain('# Memory index');
    expect(reply.json.markdown).toContain('## Recalled for "Ada"');
    expect(reply.json.markdown).toContain('- Ada Lovelace (ada) [person, score');
    expect(reply.json.tokens).toBeLessThanOrEqual(400);
  });

  it('given the MCP endpoint, when a client GETs it, then 405 says to POST (this server opens no event stream)', async () => {
    given = await givenServer();
    const reply = await call(given.url, 'GET', '/mcp');
    expect(reply.status).toBe(405);
    // A JSON-RPC error, as the streamable HTTP transport answers: it says to POST.
    expect(reply.json.error.message).toContain('POST JSON-RPC messages to /mcp');
  });
});
