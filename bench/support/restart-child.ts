// Child process for bench/restart.ts: a real restart is a fresh process, not a second open in a
// process whose heap still holds the engine that built the data (its garbage made an in-process
// open ~2x slower). Opens DIR, and prints one JSON line: the seconds Engine.open took, the process
// uptime when ready (including Node's start and module loading), vectors pending, last seq, and
// the projection digests for the parent to compare with the live state.
// Usage: node restart-child.js DIR
import { Engine, type EngineTuning } from '../../src/engine.js';
import type { EngineOptions } from '../../src/api.js';

const quiet: Partial<EngineOptions> & EngineTuning = { durability: 'none', checkpointEveryEvents: 0, checkpointEveryMs: 0, backgroundCompaction: false, onWarning: () => {} };

const dataDir = process.argv[2];
if (dataDir === undefined) throw new Error('usage: restart-child.js DIR');
const started = performance.now();
const db = await Engine.open({ dataDir, ...quiet });
const seconds = (performance.now() - started) / 1000;
const uptimeSeconds = process.uptime();
const { vectorsPending, lastSeq } = db.stats();
const digests = db.digests();
await db.close();
process.stdout.write(`${JSON.stringify({ seconds, uptimeSeconds, vectorsPending, lastSeq, digests })}\n`);
