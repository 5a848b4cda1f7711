// ServerMetrics on stats it was not written for: a stat the engine adds later still becomes a
// series, with HELP, in base units, without a code change here.

import { describe, expect, it } from 'vitest';
import { ServerMetrics } from '../../src/server/metrics.js';

describe('ServerMetrics', () => {
  it('given a stat the table does not know (nested, in ms), when rendered, then it is a gauge with HELP, converted to seconds', async () => {
    const stats = { totalNodes: 4, nodesByType: { person: 4 }, replication: { lagMs: 1500, applied: 3, peer: 'nats://x' } };
    const metrics = new ServerMetrics(() => stats, () => 0);
    const text = await metrics.render();
    expect(text).toMatch(/^mnemo_total_nodes 4$/m);
    expect(text).toMatch(/^# HELP mnemo_replication_lag_seconds Engine stat replication\.lagMs/m);
    expect(text).toMatch(/^# TYPE mnemo_replication_lag_seconds gauge$/m);
    expect(text).toMatch(/^mnemo_replication_lag_seconds 1\.5$/m);
    expect(text).toMatch(/^mnemo_replication_applied 3$/m);
    expect(text).not.toContain('nodes_by_type_person');
    expect(text).not.toContain('nats://x');
  });

  it('given a stat that is missing or null, when rendered, then its series reads NaN, not 0', async () => {
    const metrics = new ServerMetrics(() => ({ checkpoint: { ageMs: null } }), () => 0);
    // prom-client spells it Nan; Prometheus parses NaN in any case.
    expect(await metrics.render()).toMatch(/^mnemo_checkpoint_age_seconds nan$/im);
  });
});
