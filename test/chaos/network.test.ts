import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultKind } from '../harness/faults.js';
import { ChaosWorld } from '../harness/world.js';
import { TTL_SEC, expectFaults, expectRecovered, expectSafe, scenario } from './scenario.js';

/**
 * The leader's links to every member are cut both ways, then one way (its
 * requests lost, or etcd's replies lost), get latency near the TTL, or have
 * their connections reset. Cuts are held 1.5 TTL, so the leader's lease can
 * expire on etcd and another candidate is elected while the old one is cut off.
 */
const ttlMs = TTL_SEC * 1000;

const cases: { kind: FaultKind; holdMs?: number; latencyMs?: number; failover: boolean }[] = [
  { kind: 'cut-leader-both', holdMs: 1.5 * ttlMs, failover: true },
  { kind: 'cut-leader-up', holdMs: 1.5 * ttlMs, failover: true },
  { kind: 'cut-leader-down', holdMs: 1.5 * ttlMs, failover: true },
  { kind: 'latency-leader', latencyMs: 0.5 * ttlMs, failover: false },
  { kind: 'reset-leader', holdMs: 1.5 * ttlMs, failover: false },
];

describe('chaos: the leader cut off from etcd', () => {
  let world: ChaosWorld;
  beforeAll(async () => {
    world = await ChaosWorld.start();
  });
  afterAll(async () => {
    await world?.close();
  });

  for (const c of cases) {
    it(`${c.kind}: no overlap, tokens grow, one leader again within 3×TTL + 2 s`, async () => {
      const params = {
        ...(c.holdMs === undefined ? {} : { holdMs: c.holdMs }),
        ...(c.latencyMs === undefined ? {} : { latencyMs: c.latencyMs }),
      };
      const { result } = await scenario(world, c.kind, { kinds: [c.kind], faults: 4, lanes: 2, params });
      expectFaults(result, [c.kind], 4);
      expectSafe(result);
      expectRecovered(result);
      if (c.failover) {
        // Cut off longer than its TTL, the leader lost its term to another candidate every time.
        for (const f of result.faults) expect(f.leaderAfter).not.toEqual(f.leaderBefore);
      }
    }, 120_000);
  }
});
