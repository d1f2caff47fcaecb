import { describe, expect, it } from 'vitest';
import type { LockedNode, Locker } from '../../src/api.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { useSeedFixture } from './seed-fixture.js';
import type { TracedMessage } from '../../src/transport/trace.js';
import { countReceived, spyTransport, type TransportSpy } from './transport-spy.js';

// Herd-free across processes: seed nodes in separate lockers (each its own
// client, as separate processes are) wake only where they must. A node waits
// on its predecessor's key alone and follows the leader's key alone, so a
// non-leader's join or leave wakes no client but its successor's; a proclaim
// wakes each follower once; a failover costs each client at most one event on
// its view and one member-local read (the successor: its own wait and the
// record that names it heir too, in the same revision). The node next in line
// watches the term record and the leader's key in one range (heir-watch.ts):
// it also hears the joins and leaves of the keys that sort before the leader's
// — one client more, never the queue; its view of the leader's key rides that
// watch (key-feed.ts), so a proclaim or a handover is one response there too.
const fx = useSeedFixture('herd-free');
const N = 8;

interface Member {
  readonly locker: Locker;
  readonly node: LockedNode;
  readonly received: ReturnType<typeof countReceived>;
  readonly spy: TransportSpy;
}

async function fleet(p: string): Promise<Member[]> {
  const members: Member[] = [];
  for (let i = 0; i < N; i++) {
    const locker = fx.newLocker();
    const node = fx.node(locker, { path: p, value: `n${i}`, ttl: 5 });
    await node.start(); // one after another: n0 leads, the others queue in order
    members.push({ locker, node, received: countReceived(locker.client), spy: spyTransport(locker.client) });
  }
  await waitFor('all queued', async () => (await members[0]!.locker.client.election(p).candidates()).length === N);
  return members;
}

/** The current etcd revision: events after it are the step's. */
async function mark(m: Member): Promise<bigint> {
  return BigInt((await m.locker.client.transport.range({ key: Buffer.from('/mark') })).header.revision);
}

const eventsAfter = (m: Member, from: bigint): number => m.received.events.filter((r) => r > from).length;
const requestsAfter = (m: Member, from: number): string[] =>
  m.spy.calls
    .slice(from)
    .map((c) => c.what)
    .filter((w) => w !== 'confirm leader keys' && w !== 'read next candidate');

describe('seed nodes in separate clients', () => {
  it('a join at the end wakes no client; a leave wakes its successor alone; a proclaim each follower once', async () => {
    const p = fx.path();
    const m = await fleet(p);
    try {
      let from = await mark(m[0]!);
      const joiner = fx.node(fx.newLocker(), { path: p, value: 'late', ttl: 5 });
      await joiner.start();
      await waitFor(
        'the late node queued',
        async () => (await m[0]!.locker.client.election(p).candidates()).length === N + 1,
      );
      await mark(m[0]!); // a later revision: anything due for the join has been sent
      const keys = (await m[0]!.locker.client.election(p).candidates()).map((c) => c.key);
      // Whether a key is in the range of the next node's watch: it sorts before the leader's.
      const beforeLeader = (key: string): number =>
        Buffer.compare(Buffer.from(key), Buffer.from(keys[0]!)) < 0 ? 1 : 0;
      expect(m.map((x) => eventsAfter(x, from))).toEqual(m.map((_, i) => (i === 1 ? beforeLeader(keys[N]!) : 0)));

      from = await mark(m[0]!);
      await m[4]!.node.stop(); // a non-leader leaves
      await waitFor("its successor's wait moved on", () => eventsAfter(m[5]!, from) >= 1 || null);
      await mark(m[0]!);
      const woken = m.map((x, i) => (i === 4 ? 0 : eventsAfter(x, from)));
      expect(woken).toEqual(m.map((_, i) => (i === 5 ? 1 : i === 1 ? beforeLeader(keys[4]!) : 0)));

      from = await mark(m[0]!);
      await m[0]!.node.proclaim('busy');
      const followers = [1, 2, 3, 5, 6, 7];
      await waitFor('every follower saw the new value', () => followers.every((i) => m[i]!.node.value() === 'busy'));
      expect(followers.map((i) => eventsAfter(m[i]!, from))).toEqual(followers.map(() => 1));
    } finally {
      for (const x of m) x.received.stop();
    }
  });

  it('a failover costs each client at most one event on its view and one member-local read', async () => {
    const p = fx.path();
    const m = await fleet(p);
    try {
      const from = await mark(m[0]!);
      const callsFrom = m.map((x) => x.spy.calls.length);
      await m[0]!.node.stop();
      const rest = m.slice(1);
      await waitFor('the successor known to all', () => rest.every((x) => x.node.id() === m[1]!.node.localid()));
      await mark(m[1]!);
      // The successor: the leader's deletion and the record naming it heir, on its heir watch (its view rides it).
      expect(eventsAfter(m[1]!, from)).toBeLessThanOrEqual(2);
      for (const x of m.slice(2)) expect(eventsAfter(x, from)).toBe(1);
      for (let i = 1; i < N; i++) {
        const reads = requestsAfter(m[i]!, callsFrom[i]!).filter((w) => w.startsWith('read election leader'));
        expect(reads.length).toBeLessThanOrEqual(1);
        expect(reads.every((w) => w === 'read election leader (member-local)')).toBe(true);
      }
    } finally {
      for (const x of m) x.received.stop();
    }
  });

  it('the node next in line hears a proclaim and the handover in one watch response each: its view rides its heir watch', async () => {
    const p = fx.path();
    const [first, second] = [fx.newLocker(), fx.newLocker()];
    const leader = fx.node(first, { path: p, value: 'a', ttl: 5 });
    await leader.start();
    const next = fx.node(second, { path: p, value: 'b', ttl: 5 });
    await next.start();
    const client = second.client;
    // Its view's own watch of the leader's key gave way to the heir watch, which covers that key.
    await waitFor('the view riding the heir watch', () => next.value() === 'a' && client.hub.size === 1);
    const responses: string[] = [];
    const stop = client.transport.trace.add({
      received(received: TracedMessage) {
        if (received.kind === 'watch') responses.push(received.message.events.map((e) => e.type).join(','));
      },
    });
    try {
      await leader.proclaim('busy');
      await waitFor('the proclaim seen', () => next.value() === 'busy');
      await leader.stop();
      await waitFor('the successor leads, and its view knows', () => next.isSelected() && next.value() === 'b');
      expect(responses).toEqual(['Put', 'Delete,Put']);
    } finally {
      stop();
      await next.stop();
    }
  });
});
