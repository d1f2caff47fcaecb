import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosWorld } from '../harness/world.js';
import { expectFaults, expectRecovered, expectSafe, scenario } from './scenario.js';

/**
 * etcd itself fails under the elections: a member is killed and restarted,
 * the Raft leader is killed, the whole cluster restarts, the revision a watch
 * needs is compacted away; and candidates whose endpoint lists include dead
 * members keep working.
 */
describe('chaos: etcd fails under the elections', () => {
  let world: ChaosWorld;
  beforeAll(async () => {
    world = await ChaosWorld.start();
  });
  afterAll(async () => {
    await world?.close();
  });

  for (const kind of ['kill-member', 'kill-raft-leader', 'restart-cluster'] as const) {
    it(`${kind}: no overlap, tokens grow, one leader in every election within 2×TTL + 2 s`, async () => {
      const { result } = await scenario(world, kind, { kinds: [kind], faults: 3, lanes: 2 });
      expectFaults(result, [kind], 3);
      expectSafe(result);
      expectRecovered(result);
    }, 180_000);
  }

  it('compact-watch: a follower whose watch needs a compacted revision still follows the new leader', async () => {
    const { result } = await scenario(world, 'compact-watch', { kinds: ['compact-watch'], faults: 4, lanes: 2 });
    expectFaults(result, ['compact-watch'], 4);
    expectSafe(result);
    expectRecovered(result);
    // The storm really compacted history under the candidates.
    for (const f of result.faults) expect(f.detail).toMatch(/[1-9]\d* compactions/);
  }, 180_000);

  it('dead members in every endpoint list: leaders crash and resign, successors take over', async () => {
    const { result } = await scenario(world, 'dead endpoints', {
      kinds: ['kill-leader', 'stop-leader', 'kill-member'],
      faults: 6,
      lanes: 2,
      deadEndpoints: ['refusing'],
      clusterShare: 0.2,
    });
    expectFaults(result, ['kill-leader', 'stop-leader', 'kill-member'], 6);
    expectSafe(result);
    expectRecovered(result);
  }, 180_000);
});
