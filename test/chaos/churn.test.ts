import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosWorld } from '../harness/world.js';
import { expectFaults, expectRecovered, expectSafe, scenario } from './scenario.js';

/**
 * Fifty candidates in one election; while the leader is paused, cut or
 * killed, some candidates resign or crash and new ones join (some with a dead
 * member first in their endpoint list). One leader, growing tokens, and every
 * candidate agreeing on the leader after each heal.
 */
describe('chaos: 50 candidates starting and stopping while faults hit', () => {
  let world: ChaosWorld;
  beforeAll(async () => {
    world = await ChaosWorld.start();
  });
  afterAll(async () => {
    await world?.close();
  });

  it('churn with pauses, cuts and crashes of the leader', async () => {
    const { result } = await scenario(world, '50 candidates', {
      kinds: ['churn', 'cut-leader-both', 'kill-leader', 'churn'],
      faults: 6,
      lanes: 1,
      candidatesPerLane: 50,
      sampleMs: 10, // 50 processes sampling every 5 ms cost a core on their own
    });
    expectFaults(result, ['churn', 'cut-leader-both', 'kill-leader'], 6);
    expect(result.faults.filter((f) => f.kind === 'churn').length).toBeGreaterThan(0);
    expectSafe(result);
    expectRecovered(result);
  }, 300_000);
});
