// The web inspector in a real browser (Debian's chromium, driven by playwright-core) against a
// real `mnemo serve` with a small seeded memory: search, open a node, expand a neighbour by
// clicking it on the canvas, travel back before an update, watch the health charts move. The
// page must log no console error and ask nothing of any server but the one it came from.
// A screenshot of each view is kept in test/system/artifacts/.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call } from '../support/http-server.js';

const cli = join(process.cwd(), 'dist', 'src', 'cli', 'main.js');
const chromiumPath = '/usr/bin/chromium';
const artifacts = join(process.cwd(), 'test', 'system', 'artifacts');
const prime = '/api/v1/prime';
/** How long a view may take to show what the test waits for. */
const viewTimeoutMs = 15_000;
/** Neighbours of the hub in the large-memory test: more than the graph ever draws. */
const hubNeighbours = 400;
/** Animation frames timed while panning the full graph. */
const panFrames = 60;

interface Seeded {
  ada: string;
  engine: string;
  note: string;
  charles: string;
  /** The last seq before Ada's role changed from analyst to programmer. */
  beforeUpdate: number;
}

let dataDir: string;
let child: ChildProcessWithoutNullStreams;
let url: string;
let browser: Browser;
let seeded: Seeded;

async function post(path: string, body: unknown): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any -- response shapes vary
  const reply = await call(url, 'POST', path, { body });
  expect(reply.status, `${path}: ${reply.text}`).toBeLessThan(300);
  return reply.json;
}

async function seed(): Promise<Seeded> {
  const node = async (type: string, properties: Record<string, unknown>) => ((await post(`${prime}/nodes`, { type, properties })) as { node_id: string }).node_id;
  const ada = await node('person', { name: 'Ada Lovelace', role: 'analyst' });
  const engine = await node('project', { name: 'Analytical Engine' });
  const note = await node('note', { title: 'HNSW notes' });
  const charles = await node('person', { name: 'Charles Babbage' });
  await post(`${prime}/edges`, { source: ada, target: engine, relation: 'works_on' });
  await post(`${prime}/edges`, { source: ada, target: note, relation: 'wrote' });
  await post(`${prime}/edges`, { source: charles, target: engine, relation: 'works_on' });
  await post(`${prime}/vectors`, { id: note, vector: [0.1, 0.7, 0.2], text: 'notes on graph search with HNSW' });
  const stats = (await call(url, 'GET', `${prime}/stats`)).json as { last_seq: number };
  // Two hops from Ada, reached only by expanding Charles: drawn after the second click.
  const difference = await node('project', { name: 'Difference Engine' });
  const society = await node('society', { name: 'Royal Society' });
  await post(`${prime}/edges`, { source: charles, target: difference, relation: 'designed' });
  await post(`${prime}/edges`, { source: charles, target: society, relation: 'member_of' });
  const response = await call(url, 'PATCH', `${prime}/nodes/${encodeURIComponent(ada)}`, { body: { properties: { role: 'programmer' } } });
  expect(response.status).toBe(200);
  return { ada, engine, note, charles, beforeUpdate: stats.last_seq };
}

function startServe(): Promise<string> {
  const serving = spawnServe(dataDir, '');
  child = serving.child;
  return serving.url;
}

function spawnServe(dir: string, apiKey: string): { child: ChildProcessWithoutNullStreams; url: Promise<string> } {
  const child = spawn(process.execPath, [cli, 'serve', '--data-dir', dir, '--port', '0', '--durability', 'none'], { env: { ...process.env, MNEMO_API_KEY: apiKey } });
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('exit', (code) => reject(new Error(`mnemo serve exited with ${code}:\n${output}`)));
  });
  return { child, url };
}

async function stopServe(serving: ChildProcessWithoutNullStreams): Promise<void> {
  if (serving.exitCode !== null) return;
  const exited = new Promise((resolve) => serving.on('exit', resolve));
  serving.kill('SIGTERM');
  await exited;
}

/** A fresh page that records console errors, page errors and every URL it requests. */
async function openPage(path: string, origin = url): Promise<{ page: Page; problems: string[]; requested: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const problems: string[] = [];
  const requested: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (request) => requested.push(request.url()));
  await page.goto(`${origin}${path}`);
  return { page, problems, requested };
}

function expectOnlySameOrigin(requested: string[]): void {
  expect(requested.length).toBeGreaterThan(0);
  for (const address of requested) if (!address.startsWith('data:')) expect(new URL(address).origin, address).toBe(url);
}

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'mnemo-inspector-'));
  await mkdir(artifacts, { recursive: true });
  url = await startServe();
  seeded = await seed();
  // Background networking off: a headless browser left alone phones home for updates and safe-browsing lists.
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--disable-background-networking', '--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  if (child !== undefined) await stopServe(child);
  await rm(dataDir, { recursive: true, force: true });
});

describe('the web inspector in chromium', () => {
  it('when / is opened, then it lands on /ui with the domains listed, no console error and no request elsewhere', async () => {
    const { page, problems, requested } = await openPage('/');
    try {
      expect(new URL(page.url()).pathname).toBe('/ui');
      await page.getByRole('link', { name: /^person 2$/ }).waitFor({ timeout: viewTimeoutMs });
      expect(problems).toEqual([]);
      expectOnlySameOrigin(requested);
    } finally {
      await page.close();
    }
  });

  it('when words are searched, then the node is found, and opening it shows its name and its neighbours by name', async () => {
    const { page, problems, requested } = await openPage('/ui');
    try {
      await page.getByTestId('search-input').fill('Lovelace');
      await page.getByRole('button', { name: 'search' }).click();
      await page.getByTestId('results').getByRole('link', { name: 'Ada Lovelace' }).click();
      await expect.poll(() => page.getByTestId('node-name').textContent(), { timeout: viewTimeoutMs }).toBe('Ada Lovelace');
      const neighbours = page.getByTestId('neighbours');
      await neighbours.getByText('Analytical Engine').waitFor({ timeout: viewTimeoutMs });
      expect(await neighbours.textContent()).toContain('HNSW notes');
      expect(await neighbours.textContent()).toContain('works_on');
      expect(await page.getByTestId('properties').textContent()).toContain('programmer');
      expect(await page.getByTestId('timeline').textContent()).toContain('node.updated');
      expect(problems).toEqual([]);
      expectOnlySameOrigin(requested);
    } finally {
      await page.close();
    }
  });

  it('when a domain or an id is searched, then the nodes of that domain are listed, or the node opens', async () => {
    const { page, problems } = await openPage('/ui#/search?mode=domain&q=person');
    try {
      const results = page.getByTestId('results');
      await results.getByText('Charles Babbage').waitFor({ timeout: viewTimeoutMs });
      expect(await results.textContent()).toContain('Ada Lovelace');
      await page.getByTestId('search-mode').selectOption('id');
      await page.getByTestId('search-input').fill(seeded.note);
      await page.getByRole('button', { name: 'search' }).click();
      await expect.poll(() => page.getByTestId('node-name').textContent(), { timeout: viewTimeoutMs }).toBe('HNSW notes');
      expect(await page.getByTestId('vector-text').textContent()).toBe('notes on graph search with HNSW');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('when a neighbour is clicked on the graph, then its own neighbours are drawn and listed', async () => {
    const { page, problems, requested } = await openPage(`/ui#/node/${encodeURIComponent(seeded.ada)}`);
    try {
      const neighbours = page.getByTestId('neighbours');
      await neighbours.getByText('Analytical Engine').waitFor({ timeout: viewTimeoutMs });
      expect(await neighbours.textContent()).not.toContain('Charles Babbage');
      const drawnBefore = await drawnNodeIds(page);
      expect(drawnBefore.sort()).toEqual([seeded.ada, seeded.engine, seeded.note].sort());

      await clickGraphNode(page, seeded.engine);

      await neighbours.getByText('Charles Babbage').waitFor({ timeout: viewTimeoutMs });
      expect(await drawnNodeIds(page)).toContain(seeded.charles);
      expect(await page.getByTestId('drawn-count').textContent()).toContain('4 nodes drawn');

      await clickGraphNode(page, seeded.charles);

      await neighbours.getByText('Difference Engine').waitFor({ timeout: viewTimeoutMs });
      expect(await neighbours.textContent()).toContain('Royal Society');
      expect(await page.getByTestId('drawn-count').textContent()).toContain('6 nodes drawn');
      // Edges of expanded nodes carry their relation names too, not only the open node's.
      expect((await drawnEdgeLabels(page)).sort()).toEqual(['designed', 'member_of', 'works_on', 'works_on', 'wrote']);
      await page.screenshot({ path: join(artifacts, 'inspector-node.png') });

      await doubleClickGraphNode(page, seeded.note);
      await expect.poll(() => page.getByTestId('node-name').textContent(), { timeout: viewTimeoutMs }).toBe('HNSW notes');
      expect(problems).toEqual([]);
      expectOnlySameOrigin(requested);
    } finally {
      await page.close();
    }
  });

  it('when a relation is chosen, then only the neighbours through it are drawn and listed', async () => {
    const { page, problems } = await openPage(`/ui#/node/${encodeURIComponent(seeded.ada)}`);
    try {
      const neighbours = page.getByTestId('neighbours');
      await neighbours.getByText('Analytical Engine').waitFor({ timeout: viewTimeoutMs });

      await page.getByTestId('relation-filter').selectOption('wrote');

      await expect.poll(async () => (await drawnNodeIds(page)).sort(), { timeout: viewTimeoutMs }).toEqual([seeded.ada, seeded.note].sort());
      expect(await neighbours.textContent()).toContain('HNSW notes');
      expect(await neighbours.textContent()).not.toContain('Analytical Engine');
      expect(await drawnEdgeLabels(page)).toEqual(['wrote']);
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('when the time slider moves before an update, then the earlier property value is shown, and "now" brings the current one back', async () => {
    const { page, problems } = await openPage(`/ui#/node/${encodeURIComponent(seeded.ada)}`);
    try {
      const properties = page.getByTestId('properties');
      await properties.getByText('programmer').waitFor({ timeout: viewTimeoutMs });

      await page.getByTestId('time-slider').fill(String(seeded.beforeUpdate));

      await properties.getByText('analyst').waitFor({ timeout: viewTimeoutMs });
      expect(await properties.textContent()).not.toContain('programmer');
      expect(await page.getByTestId('as-of').textContent()).toContain(`as of seq ${seeded.beforeUpdate}`);
      expect(page.url()).toContain(`as_of=${seeded.beforeUpdate}`);
      expect(await page.getByTestId('diff').textContent()).toContain('1 updated');
      // The neighbourhood is redrawn as of that point too: Ada's edges existed already.
      expect(await page.getByTestId('neighbours').textContent()).toContain('Analytical Engine');
      await page.screenshot({ path: join(artifacts, 'inspector-as-of.png') });

      await page.getByRole('button', { name: 'now' }).click();
      await properties.getByText('programmer').waitFor({ timeout: viewTimeoutMs });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('when the slider goes back before an edge existed, then that neighbour is neither drawn nor listed', async () => {
    const { page, problems } = await openPage(`/ui#/node/${encodeURIComponent(seeded.engine)}`);
    try {
      const neighbours = page.getByTestId('neighbours');
      await neighbours.getByText('Charles Babbage').waitFor({ timeout: viewTimeoutMs });
      // Seq 5 is Ada's edge to the engine; Charles's edge came at seq 7.
      await page.getByTestId('time-slider').fill('5');
      await expect.poll(async () => (await drawnNodeIds(page)).sort(), { timeout: viewTimeoutMs }).toEqual([seeded.ada, seeded.engine].sort());
      expect(await neighbours.textContent()).not.toContain('Charles Babbage');
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('given a hub of 400 neighbours, when it is opened and "draw more" is pressed until full, then 20 are fetched at a time and never more than 150 drawn', async () => {
    const hub = 'node:hub:big';
    const events: unknown[] = [{ type: 'prime.node.created', payload: { id: hub, type: 'hub', properties: { name: 'The hub' } } }];
    for (let i = 0; i < hubNeighbours; i++) {
      events.push({ type: 'prime.node.created', payload: { id: `node:leaf:${i}`, type: 'leaf', properties: { name: `leaf ${i}` } } });
      events.push({ type: 'prime.edge.created', payload: { id: `edge:hub-${i}`, source: hub, target: `node:leaf:${i}`, relation: 'has' } });
    }
    await post('/api/v1/events', events);
    const { page, problems, requested } = await openPage(`/ui#/node/${encodeURIComponent(hub)}`);
    try {
      const drawn = page.getByTestId('drawn-count');
      await expect.poll(() => drawn.textContent(), { timeout: viewTimeoutMs }).toContain('21 nodes drawn');
      for (let press = 0; press < 10 && !(await page.getByText('The graph is full').isVisible()); press++) {
        const before = await drawn.textContent();
        await page.getByRole('button', { name: 'draw more' }).click();
        await expect.poll(() => drawn.textContent(), { timeout: viewTimeoutMs }).not.toBe(before);
      }
      expect(await drawn.textContent()).toContain('150 nodes drawn');
      expect((await drawnNodeIds(page)).length).toBe(150);
      expect(await page.getByText('The graph is full').isVisible()).toBe(true);
      const neighbourReads = requested.filter((address) => address.includes('/neighbors'));
      expect(neighbourReads.length).toBeGreaterThan(7);
      for (const address of neighbourReads) expect(new URL(address).searchParams.get('limit'), address).toBe('20');

      const frames = await panFrameTimes(page, panFrames);
      console.log(`inspector: panning ${panFrames} frames over 150 nodes: frame interval median ${frames.median.toFixed(1)} ms, p99 ${frames.p99.toFixed(1)} ms`);
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: join(artifacts, 'inspector-hub.png') });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it('when the health view is open, then its charts are drawn and follow new writes, one poll at a time', async () => {
    const { page, problems, requested } = await openPage('/ui#/health');
    try {
      const status = page.getByTestId('health-status');
      await expect.poll(async () => Number(await status.getAttribute('data-samples')), { timeout: viewTimeoutMs }).toBeGreaterThanOrEqual(2);
      expect(await page.locator('.chart canvas').count()).toBeGreaterThanOrEqual(5);
      const events = page.locator('[data-tile="events"]');
      const before = Number((await events.textContent())!.replace(/,/g, ''));

      await post('/api/v1/events', [{ type: 'prime.node.created', payload: { type: 'note', properties: { title: 'written while watching' } } }]);

      await expect.poll(async () => Number((await events.textContent())!.replace(/,/g, '')), { timeout: viewTimeoutMs }).toBe(before + 1);
      const samples = Number(await status.getAttribute('data-samples'));
      expect(samples).toBeGreaterThanOrEqual(3);
      // One request per sample (plus at most the one in flight): polls never pile up.
      const polls = requested.filter((address) => address.endsWith(`${prime}/stats`)).length;
      expect(polls).toBeLessThanOrEqual(samples + 1);
      await page.screenshot({ path: join(artifacts, 'inspector-health.png') });
      expect(problems).toEqual([]);
      expectOnlySameOrigin(requested);
    } finally {
      await page.close();
    }
  });
});

describe('the web inspector on a server with MNEMO_API_KEY', () => {
  it('when the page gets a 401, then it asks for the key, and with it the health view fills', async () => {
    const keyedDir = await mkdtemp(join(tmpdir(), 'mnemo-inspector-key-'));
    const serving = spawnServe(keyedDir, 'inspector-test-key');
    try {
      const origin = await serving.url;
      const { page, problems } = await openPage('/ui#/health', origin);
      try {
        const keyInput = page.getByTestId('api-key');
        await keyInput.waitFor({ timeout: viewTimeoutMs });
        await keyInput.fill('inspector-test-key');
        await page.getByRole('button', { name: 'use it' }).click();
        await expect.poll(async () => Number(await page.getByTestId('health-status').getAttribute('data-samples')), { timeout: viewTimeoutMs }).toBeGreaterThanOrEqual(1);
        expect(await keyInput.count()).toBe(0);
        // The browser logs the refused calls made before the key was given; nothing else.
        for (const problem of problems) expect(problem).toMatch(/401/);
      } finally {
        await page.close();
      }
    } finally {
      await stopServe(serving.child);
      await rm(keyedDir, { recursive: true, force: true });
    }
  });
});

async function drawnEdgeLabels(page: Page): Promise<string[]> {
  return page.evaluate(() => window.mnemoInspector?.graph.edges().map((e) => e.data('label') as string) ?? []);
}

async function drawnNodeIds(page: Page): Promise<string[]> {
  return page.evaluate(() => window.mnemoInspector?.graph.nodes().map((n) => n.id()) ?? []);
}

/** Clicks where Cytoscape drew the node: a real mouse click on the canvas, not a call into the page. */
async function clickGraphNode(page: Page, id: string): Promise<void> {
  const point = await graphNodePoint(page, id);
  await page.mouse.click(point.x, point.y);
}

async function doubleClickGraphNode(page: Page, id: string): Promise<void> {
  const point = await graphNodePoint(page, id);
  await page.mouse.dblclick(point.x, point.y);
}

async function graphNodePoint(page: Page, id: string): Promise<{ x: number; y: number }> {
  const point = await page.evaluate((nodeId) => {
    const graph = window.mnemoInspector?.graph;
    if (graph === undefined) throw new Error('no graph drawn');
    const position = graph.getElementById(nodeId).renderedPosition();
    const box = graph.container()!.getBoundingClientRect();
    return { x: box.left + position.x, y: box.top + position.y };
  }, id);
  return point;
}

/** Pans the graph a little every animation frame and returns the intervals between frames. */
async function panFrameTimes(page: Page, frames: number): Promise<{ median: number; p99: number }> {
  const intervals = await page.evaluate(
    (count) =>
      new Promise<number[]>((resolve) => {
        const graph = window.mnemoInspector!.graph;
        const times: number[] = [];
        const step = (now: number) => {
          times.push(now);
          graph.panBy({ x: 3, y: 1 });
          if (times.length <= count) requestAnimationFrame(step);
          else resolve(times.slice(1).map((t, i) => t - times[i]!));
        };
        requestAnimationFrame(step);
      }),
    frames,
  );
  const sorted = [...intervals].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, p99: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))]! };
}
