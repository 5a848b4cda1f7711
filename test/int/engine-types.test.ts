// Nodes by type (not domain) and the deletion tallies: live, after a restart from a checkpoint, and
// after a full replay of the log.

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { openEngine, type MnemoEngine } from '../../src/index.js';
import { tempDir } from '../support/engine.js';

async function givenPeopleInDomains(dataDir: string): Promise<{ db: MnemoEngine; ada: string; grace: string; alan: string }> {
  const db = await openEngine({ dataDir, durability: 'none', onWarning: () => {} });
  const { nodeId: ada } = await db.addNode({ type: 'person', properties: { name: 'Ada', domain: 'math' } });
  const { nodeId: grace } = await db.addNode({ type: 'person', properties: { name: 'Grace', domain: 'navy' } });
  const { nodeId: alan } = await db.addNode({ type: 'person', properties: { name: 'Alan' } });
  const { nodeId: proof } = await db.addNode({ type: 'note', properties: { domain: 'math' } });
  await db.addEdge({ source: ada, target: proof, relation: 'wrote' });
  await db.addEdge({ source: grace, target: alan, relation: 'met' });
  await db.deleteNode(alan); // cascades to the 'met' edge
  return { db, ada, grace, alan };
}

describe('search by node type', () => {
  it('given people who set their own domain, when searched by nodeType, then all of them, in insertion order, paged', async () => {
    const { db, ada, grace } = await givenPeopleInDomains(await tempDir());
    expect(db.search({ nodeType: 'person' }).nodes.map((n) => n.id)).toEqual([ada, grace]);
    expect(db.search({ nodeType: 'person', limit: 1, offset: 1 })).toMatchObject({ total: 2, returned: 1, offset: 1 });
    // By domain, as before: the domain 'person' holds nobody now.
    expect(db.search({ type: 'person' }).total).toBe(0);
    expect(db.search({ type: 'math' }).total).toBe(2);
    expect(() => db.search({ type: 'math', nodeType: 'person' })).toThrow(/exactly one of 'type'/);
    await db.close();
  });

  it('given deletes, then stats count them: the node, and the edge its cascade took', async () => {
    const { db } = await givenPeopleInDomains(await tempDir());
    expect(db.stats()).toMatchObject({ totalNodes: 3, totalEdges: 1, deletedNodes: 1, deletedEdges: 1 });
    await db.close();
  });

  it('given a restart from a checkpoint, and one from the log alone, then the type lists and tallies are as they were', async () => {
    const dataDir = await tempDir();
    const { db, ada, grace } = await givenPeopleInDomains(dataDir);
    await db.checkpoint();
    await db.close();
    for (const restart of ['checkpoint', 'replay'] as const) {
      if (restart === 'replay') await rm(join(dataDir, 'checkpoints'), { recursive: true, force: true });
      const reopened = await openEngine({ dataDir, durability: 'none', onWarning: () => {} });
      expect(reopened.search({ nodeType: 'person' }).nodes.map((n) => n.id), restart).toEqual([ada, grace]);
      expect(reopened.stats(), restart).toMatchObject({ deletedNodes: 1, deletedEdges: 1 });
      await reopened.close();
    }
  });
});
