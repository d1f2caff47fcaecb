import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosWorld } from '../harness/world.js';
import { expectFaults, expectRecovered, expectSafe, scenario } from './scenario.js';

/**
 * etcd itself fails under the elections: a member is killed and restarted,
 * the Raft leader is killed, the whole cluster restarts, a member (a follower
 * or the Raft leader) hangs, the revision a watch needs is compacted away; and
 * candidates whose endpoint lists include dead members (one that refuses
 * connections, one that accepts them and never answers) keep working.
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
    it(`${kind}: no overlap, tokens grow, one leader in every election within 3×TTL + 2 s`, async () => {
      const { result } = await scenario(world, kind, { kinds: [kind], faults: 3, lanes: 2 });
      expectFaults(result, [kind], 3);
      expectSafe(result);
      expectRecovered(result);
    }, 180_000);
  }

  it('pause-member: a follower or the Raft leader hangs, then resumes; one leader again within 3×TTL + 2 s', async () => {
    const { result } = await scenario(world, 'pause-member', { kinds: ['pause-member'], faults: 4, lanes: 2 });
    expectFaults(result, ['pause-member'], 4);
    expectSafe(result);
    expectRecovered(result);
  }, 180_000);

  it('pause-member on the Raft leader (etcd#15247: the resumed old leader may revoke leases early)', async () => {
    const { result } = await scenario(world, 'pause-member raft leader', {
      kinds: ['pause-member'],
      faults: 3,
      lanes: 2,
      params: { member: 'raft-leader' },
    });
    expectFaults(result, ['pause-member'], 3);
    for (const f of result.faults) expect(f.detail).toMatch(/the Raft leader/);
    // A key revoked early may leave its term reported after the deletion, for at most a TTL; never two leaders.
    expectSafe(result);
    expectRecovered(result);
  }, 180_000);

  it('compact-watch: a follower whose watch needs a compacted revision still follows the new leader', async () => {
    const { result } = await scenario(world, 'compact-watch', { kinds: ['compact-watch'], faults: 4, lanes: 2 });
    expectFaults(result, ['compact-watch'], 4);
    expectSafe(result);
    expectRecovered(result);
    // The storm really compacted history under the candidates.
    for (const f of result.faults) expect(f.detail).toMatch(/[1-9]\d* compactions/);
  }, 180_000);

  it('dead members in every endpoint list (refusing, hanging): leaders crash and resign, successors take over', async () => {
    const { result } = await scenario(world, 'dead endpoints', {
      kinds: ['kill-leader', 'stop-leader', 'kill-member'],
      faults: 6,
      lanes: 2,
      deadEndpoints: ['refusing', 'hanging'],
      clusterShare: 0.2,
    });
    expectFaults(result, ['kill-leader', 'stop-leader', 'kill-member'], 6);
    expectSafe(result);
    expectRecovered(result);
  }, 180_000);
});
