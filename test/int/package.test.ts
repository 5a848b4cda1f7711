// The package as npm sees it: a script importing it by its name gets the public API, and a
// tarball ships the build, the docs and the license, never tests, benches, sources or data dirs.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('package', () => {
  it("given npm install, when a script imports 'mnemo-memory', then openEngine works end to end", () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mnemo-pkg-'));
    const script = join(process.cwd(), `.pkg-check-${process.pid}.mjs`);
    writeFileSync(
      script,
      `import { openEngine, isMnemoError } from 'mnemo-memory';
       const db = await openEngine({ dataDir: ${JSON.stringify(dataDir)}, durability: 'fsync' });
       const { nodeId } = await db.addNode({ type: 'person', properties: { name: 'Ada' } });
       console.log(JSON.stringify({ name: db.getNode(nodeId).properties.name, guard: typeof isMnemoError }));
       await db.close();`,
    );
    try {
      const out = execFileSync(process.execPath, [script], { encoding: 'utf8' });
      expect(JSON.parse(out)).toEqual({ name: 'Ada', guard: 'function' });
    } finally {
      rmSync(script, { force: true });
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('given npm pack, then the tarball holds the build, docs, LICENSE and README and nothing else', () => {
    const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' })) as [{ files: { path: string }[] }];
    const files = pack.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'dist/src/cli/main.js', 'dist/src/index.js', 'dist/src/index.d.ts', 'docs/operations.md']));
    const unexpected = files.filter((f) => !/^(LICENSE|README\.md|package\.json|docs\/.+\.(md|png)|dist\/(src|wal|projections)\/.+\.(js|d\.ts)|dist\/ui\/.+)$/.test(f));
    expect(unexpected).toEqual([]);
    expect(JSON.parse(readFileSync('package.json', 'utf8'))).toMatchObject({ license: 'MIT', bin: { mnemo: './dist/src/cli/main.js' } });
    expect(readFileSync('LICENSE', 'utf8')).toMatch(/^MIT License/);
  });
});
