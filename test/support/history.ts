// A seeded random history through the public API: nodes, edges, updates (domain changes too),
// vectors, deletes with cascades. Shared by the checkpoint, compaction and time-travel tests.
import type { Engine } from '../../src/index.js';
import { seededRandom } from './engine.js';

export async function randomHistory(db: Engine, seed: number, steps: number): Promise<void> {
  const random = seededRandom(seed);
  const pick = <T>(items: T[]): T | undefined => items[Math.floor(random() * items.length)];
  const types = ['person', 'doc', 'topic', 'shared'];
  // Continue a history from an earlier call: every live node, whatever its domain.
  const nodes = [...new Set(types.flatMap((type) => db.search({ type, limit: 500 }).nodes.map((n) => n.id)))];
  const edges: string[] = [];
  for (let step = 0; step < steps; step++) {
    const roll = random();
    if (roll < 0.3 || nodes.length < 2) {
      const { nodeId } = await db.addNode({ type: pick(types.slice(0, 3))!, properties: { n: step, ...(random() < 0.2 ? { domain: 'shared' } : {}) } });
      nodes.push(nodeId);
    } else if (roll < 0.55) {
      const { edgeId } = await db.addEdge({ source: pick(nodes)!, target: pick(nodes)!, relation: pick(['knows', 'cites'])! });
      edges.push(edgeId);
    } else if (roll < 0.65) {
      await db.updateNode(pick(nodes)!, random() < 0.5 ? { domain: pick(['shared', null])! } : { n: step, extra: null });
    } else if (roll < 0.8) {
      await db.embed({ id: pick(nodes)!, vector: [random(), random(), random(), random()], text: `t${step}` });
    } else if (roll < 0.88) {
      const id = nodes.splice(Math.floor(random() * nodes.length), 1)[0]!;
      if (db.getNode(id)) await db.deleteNode(id);
    } else if (roll < 0.95 && edges.length > 0) {
      const id = edges.splice(Math.floor(random() * edges.length), 1)[0]!;
      if (db.getEdge(id)) await db.deleteEdge(id);
    } else {
      const id = pick(nodes);
      if (id !== undefined && hasVector(db, id)) await db.deleteVector(id);
    }
  }
}

function hasVector(db: Engine, id: string): boolean {
  try {
    db.similar({ id }, { topK: 1 });
    return true;
  } catch {
    return false;
  }
}
