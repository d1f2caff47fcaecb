import { afterAll, beforeAll, expect, it } from 'vitest';
import { locked, type LockedNode, type Locker } from '../../src/api.js';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';
import { waitFor } from '../../src/testing/wait-for.js';

// On a 3-member cluster, losing the etcd Raft leader (and the member a node
// may be connected to) leaves exactly one leader, without any restart by the user.
let cluster: EtcdCluster;
const lockers: Locker[] = [];
let nodes: LockedNode[] = [];

beforeAll(async () => {
  cluster = await EtcdCluster.start({ size: 3 });
});
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
  await Promise.all(lockers.map((l) => l.close()));
  await cluster?.stop();
});

it('keeps exactly one leader when the Raft leader member is killed and restarted', async () => {
  nodes = [1, 2, 3].map((i) => {
    const l = locked(cluster.endpoints);
    lockers.push(l);
    return l({ id: `n${i}`, path: '/three', value: i, ttl: 2 });
  });
  let maxSimultaneous = 0;
  const sampler = setInterval(() => {
    maxSimultaneous = Math.max(maxSimultaneous, nodes.filter((n) => n.isSelected()).length);
  }, 2);
  try {
    await Promise.all(nodes.map((n) => n.start()));
    await waitFor('a leader', () => nodes.some((n) => n.isSelected()));
    const raftLeader = await cluster.leaderIndex();
    await cluster.kill(raftLeader);
    await cluster.leaderIndex(20_000); // the two others elect a new Raft leader
    await waitFor(
      'exactly one locked leader with a quorum of two',
      () => nodes.filter((n) => n.isSelected()).length === 1,
      {
        timeoutMs: 20_000,
      },
    );
    await cluster.restart(raftLeader);
    await waitFor(
      'exactly one leader after the member rejoined',
      () => nodes.filter((n) => n.isSelected()).length === 1,
      {
        timeoutMs: 20_000,
      },
    );
    const leader = nodes.find((n) => n.isSelected())!;
    await waitFor('every node agrees', () => nodes.every((n) => n.id() === leader.localid()), { timeoutMs: 20_000 });
  } finally {
    clearInterval(sampler);
  }
  expect(maxSimultaneous).toBe(1);
});
