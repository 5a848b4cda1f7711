// Recall by text: what the embedder and the caches cost. In one run, over one engine: recall by
// vector (the floor: no embedding), recall by vector and text fused (what text recall computes once
// it has the vector), and recall by text with cold caches (each question new: the embedder is
// asked over loopback HTTP), with a warm query-embedding cache (the questions again after a write:
// the answer cache is invalid, the embeddings are not), and with a warm answer cache (again, no
// write). The embedder's own time is reported apart, as the Server-Timing `embed` hop reports it.
// The embedder is an OpenAI-compatible server in this process answering hashed bag-of-words
// vectors (384-d, MiniLM's size), so the numbers are mnemo's overhead plus a loopback round trip,
// not a model's inference. `npm run bench:words [-- --quick]`.

import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

import { openEngine, RemoteEmbedder } from '../src/index.js';
import { checksumOf, fmt, hasFlag, machineLine, markdownTable, percentiles, timeEachUs, writeResult } from './support/report.js';
import { seededRandom } from './support/random.js';

const dim = 384;
const vocabulary = ['memory', 'graph', 'vector', 'agent', 'index', 'log', 'commit', 'query', 'recall', 'node', 'edge', 'segment', 'parquet', 'checkpoint', 'latency', 'fsync', 'project', 'decision', 'meeting', 'deadline', 'customer', 'invoice', 'design', 'review'];

function hashedVector(text: string): number[] {
  const v = new Array<number>(dim).fill(0);
  for (const word of text.toLowerCase().split(/\W+/)) {
    if (word === '') continue;
    let h = 2166136261;
    for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 16777619) >>> 0;
    v[h % dim]! += 1;
    v[(h >>> 9) % dim]! += 0.5;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

async function startEmbeddings(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    const { input } = JSON.parse(body) as { input: string[] };
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: input.map((text, index) => ({ index, embedding: hashedVector(text) })) }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface WordsBenchOptions {
  nodes: number;
  queries: number;
}

async function timeEachAsyncUs<T>(count: number, op: (i: number) => Promise<T>, each?: (result: T) => void): Promise<{ samples: number[]; checksum: number }> {
  const samples: number[] = [];
  let checksum = 0;
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const result = await op(i);
    samples.push((performance.now() - started) * 1000);
    checksum = (checksum + checksumOf(result)) % 1_000_000_007;
    each?.(result);
  }
  return { samples, checksum };
}

export async function runWordsBench(options: WordsBenchOptions): Promise<{ markdown: string; checksum: number }> {
  const embeddings = await startEmbeddings();
  const dataDir = await mkdtemp(join(tmpdir(), 'mnemo-bench-words-'));
  const db = await openEngine({ dataDir, durability: 'none', onWarning: () => {}, embed: new RemoteEmbedder({ url: embeddings.url, model: 'hashed-384' }) });
  try {
    const random = seededRandom(17);
    const pick = () => vocabulary[Math.floor(random() * vocabulary.length)]!;
    const sentence = (n: number) => Array.from({ length: n }, pick).join(' ');
    // Memories: a node with a text property and the text's vector, edges to two earlier nodes.
    const batchTexts = 256;
    for (let start = 0; start < options.nodes; start += batchTexts) {
      const texts = Array.from({ length: Math.min(batchTexts, options.nodes - start) }, () => sentence(8));
      const vectors = await db.embedder!.embed(texts);
      const events: unknown[] = [];
      texts.forEach((text, k) => {
        const id = `n${start + k}`;
        events.push({ type: 'prime.node.created', payload: { id, type: 'note', properties: { text } } });
        if (start + k > 2) events.push({ type: 'prime.edge.created', payload: { source: id, target: `n${Math.floor(random() * (start + k))}`, relation: 'about' } });
        events.push({ type: 'prime.vector.stored', payload: { id, vector: Array.from(vectors[k]!), text } });
      });
      await db.append(events);
    }
    await db.whenIndexed();

    const questions = Array.from({ length: options.queries }, (_, i) => `${sentence(3)} ${i}`);
    const warmup = Array.from({ length: 50 }, (_, i) => `${sentence(3)} warm ${i}`);
    for (const text of warmup) await db.recallText({ text });
    const vectors = await db.embedder!.embed(questions);
    // JIT warm-up of the synchronous paths, so the floor is not measured cold.
    timeEachUs(options.queries, (i) => db.recall({ vector: vectors[i]!, text: questions[i]!, topK: 10 }));
    const byVector = timeEachUs(options.queries, (i) => db.recall({ vector: vectors[i]!, topK: 10 }));
    const fused = timeEachUs(options.queries, (i) => db.recall({ vector: vectors[i]!, text: questions[i]!, topK: 10 }));
    const embedMs: number[] = [];
    const cold = await timeEachAsyncUs(options.queries, (i) => db.recallText({ text: questions[i]!, topK: 10 }), (a) => embedMs.push(a.embedMs));
    await db.addNode({ type: 'note', properties: { text: 'a write: every cached answer is now invalid' } });
    const warmEmbedding = await timeEachAsyncUs(options.queries, (i) => db.recallText({ text: questions[i]!, topK: 10 }));
    const warmAnswer = await timeEachAsyncUs(options.queries, (i) => db.recallText({ text: questions[i]!, topK: 10 }));

    const row = (subject: string, samples: number[], note = '') => {
      const p = percentiles(samples);
      return [subject, fmt(p.p50), fmt(p.p99), note];
    };
    const floor = percentiles(fused.samples).p50;
    const ratio = (samples: number[]) => `${fmt(percentiles(samples).p50 / floor)}x fused`;
    const rows = [
      row('recall by vector (no text)', byVector.samples),
      row('recall by vector + text, fused (floor for text recall)', fused.samples, '1.00x fused'),
      row('recall by text, cold caches (embedder asked)', cold.samples, ratio(cold.samples)),
      row('  of which the embedder (Server-Timing `embed`)', embedMs.map((ms) => ms * 1000)),
      row('recall by text, warm query-embedding cache (after a write)', warmEmbedding.samples, ratio(warmEmbedding.samples)),
      row('recall by text, warm answer cache (no write since)', warmAnswer.samples, ratio(warmAnswer.samples)),
    ];
    const checksum = (byVector.checksum + fused.checksum + cold.checksum + warmEmbedding.checksum) % 1_000_000_007;
    const stats = JSON.stringify(db.stats().words);
    const table = markdownTable(['question', 'p50 µs', 'p99 µs', 'vs floor'], rows);
    const markdown = `# Recall by text\n\nMachine: ${machineLine()}\n\n${options.nodes.toLocaleString('en-US')} notes (8 words, 384-d vectors, ~1 edge each), ${options.queries} questions (3 words), topK 10, depth 1. Embedder: an OpenAI-compatible server in this process over loopback HTTP (hashed bag-of-words vectors): the embedder row is a round trip, not model inference.\n\n${table}\n\nWords stats after the run: \`${stats}\`\n\nChecksum: ${checksum}\n`;
    return { markdown, checksum };
  } finally {
    await db.close();
    await embeddings.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const quick = hasFlag('quick');
  const { markdown } = await runWordsBench(quick ? { nodes: 2_000, queries: 200 } : { nodes: 20_000, queries: 1_000 });
  console.log(markdown);
  if (!quick) console.log(`written to ${writeResult('words', markdown)}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
