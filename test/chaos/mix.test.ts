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

  it('30 faults of every kind: no overlap, tokens grow, every fault recovered within ttl + 2 s', async () => {
    const seed = process.env.CHAOS_SEED ? Number(process.env.CHAOS_SEED) : undefined;
    const kinds = [...LANE_FAULTS, ...CLUSTER_FAULTS];
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
