import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/** mnemo's version, from the nearest package.json above this file (src/ when run from source, dist/src/ when built). */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    if (existsSync(path)) return (cached = (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version);
  }
  return (cached = '0.0.0');
}
