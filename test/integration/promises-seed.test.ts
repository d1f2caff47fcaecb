/**
 * README promises of the seed facade that no other test checked, on a real etcd: a leader key
 * deleted by hand ends the node's term; nodes of one locker share one lease (etcd's own lease list
 * says so); a TTL below etcd's minimum is raised by etcd, and the library counts the granted TTL.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { locked, type LockedNode, type Locker, type NodeOptions } from '../../src/api.js';
import { decodeTermRecord, termRecordKey } from '../../src/election/term-record.js';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { EventLog } from './events.js';

let cluster: EtcdCluster;
let raw: Etcd3;
const lockers: Locker[] = [];
const nodes: LockedNode[] = [];
let seq = 0;

function newLocker(): Locker {
  const l = locked(cluster.endpoints);
  lockers.push(l);
  return l;
}
function node(l: Locker, opts: NodeOptions): LockedNode {
  const n = l(opts);
  nodes.push(n);
  return n;
}
function path(): string {
  return `/promise-seed-${++seq}`;
}
/** The IDs of every lease etcd holds now. */
async function leaseIds(): Promise<bigint[]> {
  const res = await raw.leaseClient.leaseLeases();
  return res.leases.map((l) => BigInt(l.ID));
}
/** The lease of each candidate key under `p/`. */
async function candidateLeases(p: string): Promise<bigint[]> {
  const res = await raw.kv.range({ key: Buffer.from(`${p}/`), range_end: Buffer.from(`${p}0`) });
  return res.kvs.map((kv) => BigInt(kv.lease));
}

beforeAll(async () => {
  cluster = await EtcdCluster.start({ size: 1 });
  raw = new Etcd3({ hosts: cluster.endpoints });
});
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
  await Promise.all(lockers.splice(0).map((l) => l.close()));
});
afterAll(async () => {
  raw?.close();
  await cluster?.stop();
});

describe('a leader key deleted by hand (README: deselect "… key deleted …")', () => {
  it('ends the term: deselect once, isSelected() false from then on; the node rejoins and leads again with a larger token', async () => {
    const p = path();
    const n = node(newLocker(), { id: 'hand', path: p, value: 'v', ttl: 2 });
    const log = new EventLog([n]);
    let selectedAtDeselect: boolean | null = null;
    n.on('deselect', () => (selectedAtDeselect = n.isSelected()));
    await n.start();
    await waitFor('the node leads', () => n.isSelected());
    const term = n.term()!;
    const firstToken = n.token()!;
    await raw.delete().key(term.key).exec();
    await waitFor('deselect', () => log.of('deselect').length === 1, { timeoutMs: 5_000 });
    expect(selectedAtDeselect).toBe(false);
    expect(n.isSelected()).toBe(false);
    expect(n.token()).toBeNull();
    expect(term.isValid()).toBe(false);
    // It campaigns again by itself; not a resignation, so it holds off one TTL before leading again.
    await waitFor('the node leads again', () => log.of('select').length === 2, { timeoutMs: 15_000 });
    expect(n.token()!).toBeGreaterThan(firstToken);
    expect(log.of('deselect')).toHaveLength(1);
    expect(log.of('error')).toHaveLength(0);
  });

  it('on a follower, a deleted leader key is a leader change: change names the next leader', async () => {
    const p = path();
    const a = node(newLocker(), { id: 'a', path: p, value: 'A', ttl: 2 });
    await a.start();
    await waitFor('a leads', () => a.isSelected());
    const b = node(newLocker(), { id: 'b', path: p, value: 'B', ttl: 2 });
    const log = new EventLog([a, b]);
    await b.start();
    await waitFor('b queued', async () => (await candidateLeases(p)).length === 2);
    await raw.delete().key(a.term()!.key).exec();
    await waitFor('a deselected', () => log.of('deselect', 'a').length === 1, { timeoutMs: 5_000 });
    // b leads after the hold-off (a's deadline), and both nodes see it.
    await waitFor('b leads', () => b.isSelected(), { timeoutMs: 15_000 });
    await waitFor('a follows b', () => a.id() === 'b');
    expect(log.of('change', 'b').at(-1)!.args).toEqual(['B', 'b']);
    expect(a.isSelected()).toBe(false);
  });
});

describe('one lease per locker (README: "nodes of one locker with the same TTL share one lease")', () => {
  it('five nodes of one locker on five paths: one lease in etcd, carrying all five keys; one more for a second node on a path', async () => {
    const before = new Set(await leaseIds());
    const l = newLocker();
    const paths = [1, 2, 3, 4, 5].map(() => path());
    const group = paths.map((p, i) => node(l, { id: `n${i}`, path: p, value: i, ttl: 5 }));
    await Promise.all(group.map((n) => n.start()));
    await waitFor('all five lead', () => group.every((n) => n.isSelected()));
    const added = (await leaseIds()).filter((id) => !before.has(id));
    expect(added).toHaveLength(1);
    for (const p of paths) expect(await candidateLeases(p)).toEqual(added);
    // Two nodes of one locker on the same path must compete: the second gets a lease of its own.
    const second = node(l, { id: 'second', path: paths[0]!, value: 'x', ttl: 5 });
    await second.start();
    await waitFor('two candidates on the first path', async () => (await candidateLeases(paths[0]!)).length === 2);
    const now = (await leaseIds()).filter((id) => !before.has(id));
    expect(now).toHaveLength(2);
    expect(new Set(await candidateLeases(paths[0]!))).toEqual(new Set(now));
    // Another TTL is another lease (a lease has one TTL).
    const other = node(l, { id: 'other-ttl', path: path(), value: 'y', ttl: 7 });
    await other.start();
    await waitFor('the other TTL leads', () => other.isSelected());
    expect((await leaseIds()).filter((id) => !before.has(id))).toHaveLength(3);
  });

  it('the shared lease is given back when the last of its nodes stops, not before', async () => {
    const before = new Set(await leaseIds());
    const l = newLocker();
    const [a, b] = [path(), path()].map((p, i) => node(l, { id: `s${i}`, path: p, value: i, ttl: 5 }));
    await Promise.all([a!.start(), b!.start()]);
    await waitFor('both lead', () => a!.isSelected() && b!.isSelected());
    const [shared] = (await leaseIds()).filter((id) => !before.has(id));
    await a!.stop();
    expect(await leaseIds()).toContain(shared);
    expect(b!.isSelected()).toBe(true);
    await b!.stop();
    expect(await leaseIds()).not.toContain(shared); // revoked by the last stop()
  });
});

describe("a TTL below etcd's minimum (README: etcd raises TTLs below its minimum, 2 s with default settings)", () => {
  it.each([1, 0.5])(
    'ttl %s: etcd grants 2 s, the lease and the term record say 2 s, and leadership does not flap',
    async (ttl) => {
      const p = path();
      const n = node(newLocker(), { id: 'short', path: p, value: 'v', ttl });
      const log = new EventLog([n]);
      await n.start();
      await waitFor('the node leads', () => n.isSelected());
      const term = n.term()!;
      const granted = await raw.leaseClient.leaseTimeToLive({ ID: term.lease.id.toString() });
      expect(Number(granted.grantedTTL)).toBe(2);
      expect(term.lease.ttlSec).toBe(2);
      // What a successor will wait out after a crash: the granted TTL, not the requested one (a shorter
      // wait would let it lead while this leader may still).
      const record = decodeTermRecord((await raw.get(termRecordKey(p)).string())!);
      expect(record).toMatchObject({ state: 'leading', token: term.token, ttlMs: 2000 });
      // Several renewals later it still leads, on the same term.
      await waitFor('three refreshes', () => log.of('refresh').length >= 3, { timeoutMs: 10_000 });
      expect(n.term()).toBe(term);
      expect(log.of('deselect')).toHaveLength(0);
    },
  );
});
