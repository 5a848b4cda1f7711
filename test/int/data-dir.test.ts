// What a user gets from a data dir path that cannot be one.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { isMnemoError, openEngine } from '../../src/index.js';
import { tempDir } from '../support/engine.js';

describe('the data dir', () => {
  it('given a path that is a file, when opened, then a clear error names the path and says it is not a directory (not "EEXIST: mkdir")', async () => {
    const file = join(await tempDir(), 'memory');
    writeFileSync(file, 'not a directory');
    const error = await openEngine({ dataDir: file, onWarning: () => {} }).catch((e: unknown) => e);
    expect(isMnemoError(error, 'VALIDATION_FAILED')).toBe(true);
    expect((error as Error).message).toBe(`dataDir: ${file} exists and is not a directory; give a directory (or a path that does not exist yet)`);
  });

  it('given a path under a file, when opened, then the same clear error names the file in the way', async () => {
    const file = join(await tempDir(), 'memory');
    writeFileSync(file, 'not a directory');
    const error = await openEngine({ dataDir: join(file, 'inner'), onWarning: () => {} }).catch((e: unknown) => e);
    expect(isMnemoError(error, 'VALIDATION_FAILED')).toBe(true);
    expect((error as Error).message).toContain(`${file} exists and is not a directory`);
  });
});
