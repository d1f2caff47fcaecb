/**
 * The contract of `node.start()` against a real (1-member) etcd: when it
 * resolves, `id()` names the leader as etcd saw it at or after the node's own
 * join — the node itself (leading) on an empty election, the sitting leader for
 * a later node, also one of the same locker, whose shared view of the election
 * may lag behind the join — and it rejects with CLOSED when the node is stopped first.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import type { LockedNode, Locker } from '../../src/api.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { useSeedFixture } from './seed-fixture.js';

const tag = randomBytes(3).toString('hex');
const fx = useSeedFixture(`start-${tag}`);
const { newLocker, path } = fx;

function node(l: Locker, id: string, p: string): LockedNode {
  return fx.node(l, { id, path: p, value: `v-${id}`, ttl: 5 });
}

describe('start() resolves once the node knows the leader as of its own join', () => {
  it('on an empty election: the node itself, selected', async () => {
    const l = newLocker();
    // Several rounds on one locker, each on a fresh path: the locker's watch and sessions are warm,
    // which is when start() used to resolve on the view's "no leader" before the node's own select.
    for (let round = 0; round < 8; round++) {
      const n = node(l, `solo-${round}`, path());
      const selects: string[] = [];
      n.on('select', (_value, id) => selects.push(id));
      await n.start();
      expect({ round, selected: n.isSelected(), id: n.id(), value: n.value(), selects }).toEqual({
        round,
        selected: true,
        id: `solo-${round}`,
        value: `v-solo-${round}`,
        selects: [`solo-${round}`],
      });
    }
  });

  it('for a later node of the same locker: the sitting leader, though their shared view may lag', async () => {
    const l = newLocker();
    for (let round = 0; round < 8; round++) {
      const p = path();
      const first = node(l, `first-${round}`, p);
      void first.start();
      await waitFor('the first node to lead', () => first.isSelected(), { intervalMs: 1 });
      // Started the moment the first leads: the locker's view of p may not yet show the first's key.
      const later = node(l, `later-${round}`, p);
      const changes: string[][] = [];
      later.on('change', (value, id) => changes.push([value, id]));
      await later.start();
      expect({ round, id: later.id(), value: later.value(), selected: later.isSelected() }).toEqual({
        round,
        id: `first-${round}`,
        value: `v-first-${round}`,
        selected: false,
      });
      expect(changes).toEqual([[`v-first-${round}`, `first-${round}`]]); // no "no leader" in between
    }
  });

  it('for a node of another locker started with the same call: the one that leads', async () => {
    const p = path();
    const a = node(newLocker(), 'a', p);
    const b = node(newLocker(), 'b', p);
    await Promise.all([a.start(), b.start()]);
    const leader = [a, b].filter((n) => n.isSelected());
    expect(leader).toHaveLength(1);
    expect(a.id()).toBe(leader[0]!.localid());
    expect(b.id()).toBe(leader[0]!.localid());
  });

  it('behind a candidate that is not a locked node (a key put by hand, as etcdctl elect does)', async () => {
    const p = path();
    const raw = new Etcd3({ hosts: fx.cluster.endpoints });
    try {
      const lease = raw.lease(10, { autoKeepAlive: false });
      const leaseId = await lease.grant();
      const hex = BigInt(leaseId).toString(16);
      await raw.put(`${p}/${hex}`).value('outsider:::x').lease(leaseId).exec();
      const n = node(newLocker(), 'inside', p);
      await n.start();
      expect([n.id(), n.value(), n.isSelected()]).toEqual(['outsider', 'x', false]);
      await lease.revoke();
      await waitFor('the node to lead once the outsider is gone', () => n.isSelected(), { timeoutMs: 30_000 });
    } finally {
      raw.close();
    }
  });
});

describe('start() rejects with CLOSED when the node is stopped first', () => {
  it('stop() before the node knew the leader, start() after stop(), and a locker closed under it', async () => {
    const p = path();
    const l = newLocker();
    const leader = node(l, 'leader', p);
    await leader.start();

    const early = node(newLocker(), 'early', p);
    const pending = early.start();
    const stopped = early.stop();
    await expect(pending).rejects.toMatchObject({ code: 'CLOSED' });
    await stopped;
    await expect(early.start()).rejects.toMatchObject({ code: 'CLOSED' });

    // A node whose start() is still pending (it waits for the join) when its locker is closed.
    const other = newLocker();
    const late = node(other, 'late', p);
    const waiting = late.start();
    await other.close();
    await expect(waiting).rejects.toMatchObject({ code: 'CLOSED' });
    expect(leader.isSelected()).toBe(true);
  });
});
