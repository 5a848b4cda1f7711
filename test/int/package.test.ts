// Given the built package, when a script in the repo imports 'mnemo' by name, then the public API is there.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

describe('package', () => {
  it("given npm install, when a script imports 'mnemo', then openEngine works end to end", () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mnemo-pkg-'));
    const script = join(process.cwd(), `.pkg-check-${process.pid}.mjs`);
    writeFileSync(
      script,
      `import { openEngine, isMnemoError } from 'mnemo';
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
});
