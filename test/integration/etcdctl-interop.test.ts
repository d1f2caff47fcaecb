import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { locked, type LockedNode, type Locker } from '../../src/api.js';
import { ensureEtcd } from '../../src/testing/etcd-binary.js';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { ChildCandidate } from './processes.js';

// locked and etcd's own election (etcdctl elect = Go concurrency.Election)
// share one queue: same key layout, same ordering, values readable both ways.
let cluster: EtcdCluster;
let etcdctl: string;
const children: ChildCandidate[] = [];
const nodes: LockedNode[] = [];
const lockers: Locker[] = [];

function elect(...args: string[]): ChildCandidate {
  const child = new ChildCandidate(etcdctl, [`--endpoints=${cluster.endpoints}`, 'elect', ...args]);
  children.push(child);
  return child;
}
function text(child: ChildCandidate): string[] {
  return child.lines.map((l) => (typeof l.text === 'string' ? l.text : JSON.stringify(l)));
}
function node(path: string, id: string, value: string): LockedNode {
  const l = locked(cluster.endpoints);
  lockers.push(l);
  const n = l({ id, path, value, ttl: 5 });
  nodes.push(n);
  return n;
}

beforeAll(async () => {
  etcdctl = ensureEtcd().etcdctl;
  cluster = await EtcdCluster.start({ size: 1 });
});
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => c.kill('SIGKILL')));
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
  await Promise.all(lockers.splice(0).map((l) => l.close()));
});
afterAll(async () => {
  await cluster?.stop();
});

describe('interop with etcdctl elect', () => {
  it('our node queues behind an etcdctl candidate, reads its value, and leads after it resigns', async () => {
    const go = elect('/interop-a', 'etcdctl-value');
    await waitFor('etcdctl to lead (it prints its key and value)', () => text(go).includes('etcdctl-value'), {
      timeoutMs: 15_000,
    });
    const goKey = text(go)[0]!;
    expect(goKey).toMatch(/^\/interop-a\/[0-9a-f]+$/);
    const ours = node('/interop-a', 'ours', 'v');
    await ours.start();
    expect(ours.isSelected()).toBe(false);
    expect(ours.value()).toBe('etcdctl-value'); // a foreign value: id is the lease hex
    expect(ours.id()).toBe(goKey.split('/').at(-1));
    await go.kill('SIGINT'); // etcdctl resigns on interrupt
    await waitFor('our node to lead', () => ours.isSelected(), { timeoutMs: 10_000 });
    expect(ours.id()).toBe('ours');
  });

  it('an etcdctl candidate queues behind our leader and is elected when we stop', async () => {
    const ours = node('/interop-b', 'ours', 'v');
    await ours.start();
    await waitFor('our node to lead', () => ours.isSelected());
    const go = elect('/interop-b', 'next-value');
    // etcdctl prints nothing until elected; wait until its key is queued behind ours.
    const etcd = locked(cluster.endpoints);
    lockers.push(etcd);
    const election = etcd.client.election('/interop-b');
    await waitFor('etcdctl queued', async () => (await election.candidates()).length === 2);
    expect(text(go)).toEqual([]);
    await ours.stop();
    await waitFor('etcdctl elected', () => text(go).includes('next-value'), { timeoutMs: 10_000 });
  });

  it('etcdctl elect -l shows our leader and its value', async () => {
    const ours = node('/interop-c', 'leader-id', 'shown');
    await ours.start();
    await waitFor('our node to lead', () => ours.isSelected());
    const observer = elect('-l', '/interop-c');
    await waitFor('etcdctl to print the leader', () => text(observer).includes('leader-id:::shown'), {
      timeoutMs: 10_000,
    });
    const keyLine = text(observer)[text(observer).indexOf('leader-id:::shown') - 1]!;
    expect(keyLine).toBe(ours.term()!.key);
    await ours.proclaim('changed');
    await waitFor('etcdctl to print the proclaimed value', () => text(observer).includes('leader-id:::changed'));
  });
});
