import { afterAll, beforeAll, describe, it } from 'vitest';
import { CLUSTER_FAULTS, LANE_FAULTS } from '../harness/faults.js';
import { ChaosWorld } from '../harness/world.js';
import { expectFaults, expectRecovered, expectSafe, scenario } from './scenario.js';

/**
 * A seeded random mix of every fault kind, ≥ 30 faults, on three elections
 * side by side (seed printed; CHAOS_SEED=… reruns one). The long soak is
 * `npm run chaos -- --faults 1000` (see SOAK.md).
 */
describe('chaos: seeded random mix', () => {
  let world: ChaosWorld;
  beforeAll(async () => {
    world = await ChaosWorld.start();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('30 faults of every kind: no overlap, tokens grow, every fault recovered within 2×TTL + 2 s', async () => {
    const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : undefined;
    // Not `pause-member` here: when the paused member is the Raft leader, etcd builds without the fix
    // for etcd-io/etcd#15247 (Debian's 3.4.23 among them) let the resumed old leader revoke leases that
    // clients renewed through the new leader, so a key can vanish before its lease's deadline: an etcd
    // server bug no client deadline can cover (README, "Guarantees"), seen once in a CI-like run as a
    // term reported 16 ms after its key was deleted. The soak and `npm run test:chaos` keep the fault.
    const kinds = [...LANE_FAULTS, ...CLUSTER_FAULTS.filter((k) => k !== 'pause-member')];
    const { result } = await scenario(world, 'mix', {
      kinds,
      faults: 30,
      lanes: 3,
      modes: ['node', 'with-leadership', 'node'],
      deadEndpoints: ['none', 'refusing'],
      ...(seed === undefined ? {} : { seed }),
    });
    expectFaults(result, kinds, 30);
    expectSafe(result);
    expectRecovered(result);
  }, 400_000);
});
