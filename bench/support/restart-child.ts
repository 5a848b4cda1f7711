// Child process for bench/restart.ts, so that building the data and each restart run in their own
// process, as in real life (a restart measured in the process that built the data, its heap and the
// machine's memory full of it, read its files ~2x slower). Prints one JSON line.
//   build DIR OPTIONS_JSON: builds the bench's data (buildRestartData) and prints its BuildResult.
//   open DIR: opens DIR, and prints the seconds Engine.open took, the process uptime when ready
//     (Node's start and module loading included), vectors pending, last seq, and the digests.
import { Engine } from '../../src/engine/engine.js';
import { buildRestartData, quiet, type RestartBenchOptions } from '../restart.js';

const [mode, dataDir, optionsJson] = process.argv.slice(2);
if (dataDir === undefined || (mode !== 'build' && mode !== 'open')) throw new Error('usage: restart-child.js build DIR OPTIONS_JSON | open DIR');
if (mode === 'build') {
  const result = await buildRestartData(dataDir, JSON.parse(optionsJson ?? '{}') as RestartBenchOptions);
  process.stdout.write(`${JSON.stringify(result)}\n`);
} else {
  const started = performance.now();
  const db = await Engine.open({ dataDir, ...quiet });
  const seconds = (performance.now() - started) / 1000;
  const uptimeSeconds = process.uptime();
  const { vectorsPending, lastSeq } = db.stats();
  const digests = db.digests();
  await db.close();
  process.stdout.write(`${JSON.stringify({ seconds, uptimeSeconds, vectorsPending, lastSeq, digests })}\n`);
}
