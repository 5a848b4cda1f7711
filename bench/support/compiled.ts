// Benches spawn compiled children; they run both from dist/bench (npm run bench:*) and from source
// (the test suite's tiny runs), so find dist/ by walking up from this file.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The compiled file at `relative` under the product's dist/ (e.g. 'src/cli/main.js'): the dist/
 * beside src/, not bench/dist (the peer benches' build, whose nearest package.json is bench's own).
 */
export function compiledPath(relative: string): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const path = join(dir, 'dist', relative);
    if (existsSync(path) && existsSync(join(dir, 'src'))) return path;
  }
  throw new Error(`dist/${relative} not found: run \`npm run build\` first`);
}
