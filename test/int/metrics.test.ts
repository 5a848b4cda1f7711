// GET /metrics follows Prometheus conventions: HELP and TYPE on every family, counters typed
// counter and named `_total`, base units (`_seconds`, `_bytes`, never `_ms`), process metrics,
// and values that match the engine.

import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { givenServer, call, type GivenServer } from '../support/http-server.js';

let given: GivenServer;

beforeAll(async () => {
  given = await givenServer();
  await given.engine.addNode({ type: 'person', id: 'node:person:ada' });
  await given.engine.addNode({ type: 'note', id: 'node:note:1' });
  await given.engine.addEdge({ source: 'node:person:ada', target: 'node:note:1', relation: 'wrote' });
  await given.engine.checkpoint();
});

afterAll(async () => {
  await given.close();
});

interface Family {
  help?: string;
  type?: string;
  samples: string[];
}

/** The exposition text as families: HELP, TYPE and sample lines by family name. */
function families(text: string): Map<string, Family> {
  const out = new Map<string, Family>();
  const family = (name: string) => out.get(name) ?? out.set(name, { samples: [] }).get(name)!;
  for (const line of text.split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta !== null) {
      if (meta[1] === 'HELP') family(meta[2]!).help = meta[3];
      else family(meta[2]!).type = meta[3];
      continue;
    }
    if (line === '') continue;
    const name = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line)![1]!;
    const base = [...out.keys()].find((f) => name === f || name.startsWith(`${f}_`)) ?? name;
    family(base).samples.push(line);
  }
  return out;
}

async function scrape(): Promise<{ text: string; families: Map<string, Family> }> {
  const reply = await call(given.url, 'GET', '/metrics');
  expect(reply.status).toBe(200);
  expect(reply.headers.get('content-type')).toContain('text/plain');
  return { text: reply.text, families: families(reply.text) };
}

describe('GET /metrics', () => {
  it('given a few requests, when scraped, then every family has HELP and TYPE, counters are counters named _total, and no name carries _ms', async () => {
    await call(given.url, 'GET', '/api/v1/prime/nodes/node:person:ada');
    await call(given.url, 'GET', '/api/v1/prime/nodes/node:person:nobody');
    const { families: all } = await scrape();
    expect(all.size).toBeGreaterThan(30);
    for (const [name, family] of all) {
      expect(family.help, `${name} HELP`).toMatch(/\S/);
      expect(family.type, `${name} TYPE`).toMatch(/^(counter|gauge|histogram|summary)$/);
      expect(name, 'milliseconds are not a base unit').not.toMatch(/_ms$|_ms_|_us$|_s$/);
      if (name.endsWith('_total')) expect(family.type, `${name} ends in _total`).toBe('counter');
      if (family.type === 'counter') expect(name, `${name} is a counter`).toMatch(/_total$/);
    }
  });

  it('given nodes, an edge and a checkpoint, when scraped, then the engine series match the engine', async () => {
    const { text } = await scrape();
    expect(text).toMatch(/^mnemo_total_nodes 2$/m);
    expect(text).toMatch(/^mnemo_total_edges 1$/m);
    expect(text).toMatch(/^mnemo_nodes_by_type\{type="person"\} 1$/m);
    expect(text).toMatch(/^mnemo_edges_by_relation\{relation="wrote"\} 1$/m);
    expect(text).toMatch(/^# TYPE mnemo_events_total counter$/m);
    expect(text).toMatch(/^mnemo_events_total 3$/m);
    expect(text).toMatch(/^mnemo_checkpoints_written_total 1$/m);
    expect(text).toMatch(/^mnemo_checkpoint_last_duration_seconds \d/m);
    expect(text).toMatch(/^mnemo_wal_bytes \d+$/m);
  });

  it('given requests, when scraped, then requests are counted per operation and status and timed in seconds', async () => {
    await call(given.url, 'GET', '/api/v1/prime/nodes/node:person:ada');
    const { text } = await scrape();
    expect(text).toMatch(/^mnemo_http_requests_total\{operation="nodes.get",status="200"\} \d+$/m);
    expect(text).toMatch(/^mnemo_http_requests_total\{operation="nodes.get",status="404"\} \d+$/m);
    expect(text).toMatch(/^mnemo_http_request_duration_seconds_bucket\{le="0.001",operation="nodes.get"\} \d+$/m);
  });

  it('given three more reads of a node, when scraped, then its counter, bucket +Inf and count all grew by three and the buckets only grow', async () => {
    const number = (text: string, pattern: RegExp): number => Number(pattern.exec(text)?.[1] ?? NaN);
    const counter = /^mnemo_http_requests_total\{operation="nodes.get",status="200"\} (\d+)$/m;
    const inf = /^mnemo_http_request_duration_seconds_bucket\{le="\+Inf",operation="nodes.get"\} (\d+)$/m;
    const count = /^mnemo_http_request_duration_seconds_count\{operation="nodes.get"\} (\d+)$/m;
    await call(given.url, 'GET', '/api/v1/prime/nodes/node:person:ada');
    const before = (await scrape()).text;
    for (let i = 0; i < 3; i++) expect((await call(given.url, 'GET', '/api/v1/prime/nodes/node:person:ada')).status).toBe(200);
    const after = (await scrape()).text;
    expect(number(after, counter) - number(before, counter)).toBe(3);
    expect(number(after, inf) - number(before, inf)).toBe(3);
    expect(number(after, count) - number(before, count)).toBe(3);
    const buckets = [...after.matchAll(/^mnemo_http_request_duration_seconds_bucket\{le="([^"]+)",operation="nodes.get"\} (\d+)$/gm)].map((m) => Number(m[2]));
    expect(buckets.length).toBe(12); // 11 bounds and +Inf
    for (let i = 1; i < buckets.length; i++) expect(buckets[i]).toBeGreaterThanOrEqual(buckets[i - 1]!);
    expect(number(after, /^mnemo_http_request_duration_seconds_sum\{operation="nodes.get"\} ([\d.e-]+)$/m)).toBeGreaterThan(0);
  });

  it('when scraped, then the process metrics every Node exporter has are there', async () => {
    const { families: all } = await scrape();
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'nodejs_heap_size_used_bytes', 'nodejs_eventloop_lag_seconds']) {
      expect(all.has(name), name).toBe(true);
    }
  });
});

describe('/metrics in replicated mode', () => {
  it('given a replicated engine with its NATS unreachable, when scraped, then the replication stats are series and the content digest (which sorts every id) is not computed', async () => {
    const replicated = await givenServer({ replication: { servers: ['nats://127.0.0.1:9'], origin: 'laptop' } });
    try {
      await replicated.engine.addNode({ type: 'note', id: 'node:note:r' });
      const digest = vi.spyOn(replicated.engine, 'contentDigest');
      const text = (await call(replicated.url, 'GET', '/metrics')).text;
      expect(text).toMatch(/^mnemo_replication_publish_backlog 1$/m);
      expect(text).toMatch(/^mnemo_replication_connected 0$/m);
      expect(digest).not.toHaveBeenCalled();
    } finally {
      await replicated.close();
    }
  });
});
