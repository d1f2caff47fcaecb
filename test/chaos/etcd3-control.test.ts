import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosWorld } from '../harness/world.js';
import { TTL_SEC, scenario } from './scenario.js';

/**
 * The checker has teeth: pointed at npm etcd3's Election (DESIGN.md §7: a
 * lease is reported lost only about 2 × TTL after the last keepalive), the same
 * fault finds two leaders at once. This is the control of the suite, not a
 * test of locked.
 */
describe('chaos control: npm etcd3 Election under the same faults', () => {
  let world: ChaosWorld;
  beforeAll(async () => {
    world = await ChaosWorld.start();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('a leader cut off for 3 TTLs still leads after its successor was elected', async () => {
    const { result } = await scenario(world, 'etcd3 cut-leader-both', {
      target: 'etcd3',
      kinds: ['cut-leader-both'],
      faults: 2,
      lanes: 1,
      modes: ['etcd3'],
      params: { holdMs: 3 * TTL_SEC * 1000 },
    });
    const overlaps = result.lanes.flatMap((l) => l.verdict.overlaps);
    expect(overlaps.length).toBeGreaterThan(0);
    expect(Math.max(...overlaps.map((o) => o.overlapMs))).toBeGreaterThan(500);
    // …and it still led after etcd had deleted its key.
    expect(result.lanes.flatMap((l) => l.lateLeaders).length).toBeGreaterThan(0);
  }, 120_000);
});
