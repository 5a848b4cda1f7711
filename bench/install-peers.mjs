#!/usr/bin/env node
// Installs the benchmarks' own dependencies (bench/package.json: the engines mnemo is compared
// with) into bench/node_modules, apart from the product: building better-sqlite3, lmdb and usearch
// from source would triple a product install, and the product's own `npm install` never prunes
// them. Skips the install when every one is there at its pinned version. Plain JavaScript, so it
// runs before anything is compiled.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
const wanted = JSON.parse(readFileSync(join(benchDir, 'package.json'), 'utf8')).devDependencies;

function installedVersion(name) {
  const manifest = join(benchDir, 'node_modules', name, 'package.json');
  return existsSync(manifest) ? JSON.parse(readFileSync(manifest, 'utf8')).version : undefined;
}

const missing = Object.entries(wanted).filter(([name, version]) => installedVersion(name) !== version);
if (missing.length === 0) {
  console.error('bench: peers installed');
} else {
  console.error(`bench: installing ${missing.map(([name, version]) => `${name}@${version}`).join(' ')} into bench/node_modules (better-sqlite3 builds from source: a few minutes)`);
  const lockfile = existsSync(join(benchDir, 'package-lock.json'));
  execFileSync('npm', [lockfile ? 'ci' : 'install', '--no-audit', '--no-fund'], { cwd: benchDir, stdio: 'inherit' });
}
