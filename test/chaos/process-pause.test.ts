import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosWorld } from '../harness/world.js';
import { expectFaults, expectRecovered, expectSafe, scenario } from './scenario.js';

/**
 * The leader's process is paused (SIGSTOP) for half, one and three TTLs, then
 * resumed. A paused leader that resumes must answer `isSelected() === false`
 * before anything else runs if its deadline passed, and never overlap the
 * leader elected meanwhile.
 */
describe('chaos: the leader process paused', () => {
  let world: ChaosWorld;
  beforeAll(async () => {
    world = await ChaosWorld.start();
  });
  afterAll(async () => {
    await world?.close();
  });

  for (const kind of ['pause-leader-0.5ttl', 'pause-leader-1ttl', 'pause-leader-3ttl'] as const) {
    it(`${kind}: no overlap, tokens grow, one leader again within 3×TTL + 2 s`, async () => {
      const { result } = await scenario(world, kind, { kinds: [kind], faults: 4, lanes: 2 });
      expectFaults(result, [kind], 4);
      expectSafe(result);
      expectRecovered(result);
      if (kind === 'pause-leader-3ttl') {
        // Paused three TTLs, the leader's lease expired on etcd: someone else must have taken over.
        for (const f of result.faults) expect(f.leaderAfter).not.toEqual(f.leaderBefore);
      }
    }, 120_000);
  }
});
