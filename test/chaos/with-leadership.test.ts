import { afterAll, beforeAll, describe, it } from 'vitest';
import type { FaultKind } from '../harness/faults.js';
import { ChaosWorld } from '../harness/world.js';
import { expectFaults, expectRecovered, expectSafe, scenario } from './scenario.js';

/**
 * `election.withLeadership(value, fn(signal))` judged by the same checker: a
 * candidate counts as leading while `fn` runs and its signal is not aborted
 * (sampled every 5 ms by a timer, as a work loop would check it). The signal
 * must abort before the lease can expire on etcd, so no two candidates ever
 * hold an un-aborted signal at once, even when the holder was paused.
 */
describe('chaos: withLeadership(fn(signal)) judged by the checker', () => {
  let world: ChaosWorld;
  beforeAll(async () => {
    world = await ChaosWorld.start();
  });
  afterAll(async () => {
    await world?.close();
  });

  const groups: { name: string; kinds: FaultKind[] }[] = [
    { name: 'cut and slowed down', kinds: ['cut-leader-both', 'cut-leader-up', 'cut-leader-down', 'latency-leader'] },
    { name: 'paused', kinds: ['pause-leader-0.5ttl', 'pause-leader-1ttl', 'pause-leader-3ttl'] },
  ];
  for (const g of groups) {
    it(`leader ${g.name}: no two un-aborted signals, tokens grow, recovery within 3×TTL + 2 s`, async () => {
      const { result } = await scenario(world, `withLeadership ${g.name}`, {
        kinds: g.kinds,
        faults: 6,
        lanes: 2,
        modes: ['with-leadership'],
      });
      expectFaults(result, g.kinds, 6);
      expectSafe(result);
      expectRecovered(result);
    }, 180_000);
  }
});
