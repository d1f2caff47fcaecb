import { describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { locked, type LockedNode, type Locker } from '../../src/api.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { EventLog } from './events.js';
import { useSeedFixture } from './seed-fixture.js';
import { countReceived, onStreams, spyTransport } from './transport-spy.js';

// Every behaviour of the seed README against a real (1-member) etcd.
const fx = useSeedFixture('seed-test');
const { newLocker, node, path } = fx;

function leaders(group: LockedNode[]): LockedNode[] {
  return group.filter((n) => n.isSelected());
}

describe('the seed README, line by line', () => {
  it('three competing nodes: exactly one select, and every node agrees on change, id() and value()', async () => {
    const p = path();
    const group = [1, 2, 3].map((i) => node(newLocker(), { id: `node${i}`, path: p, value: i * 10, ttl: 5 }));
    const log = new EventLog(group);
    group.forEach((n) => void n.start());
    await waitFor('one leader', () => leaders(group).length === 1);
    const leader = leaders(group)[0]!;
    await waitFor('every node to know the leader', () => group.every((n) => n.id() === leader.localid()));
    expect(log.of('select')).toHaveLength(1);
    expect(log.of('select')[0]!.node).toBe(leader.localid());
    expect(log.of('select')[0]!.args).toEqual([String(leader.localvalue()), leader.localid()]);
    for (const n of group) {
      expect(n.id()).toBe(leader.localid());
      expect(n.value()).toBe(String(leader.localvalue()));
      const changes = log.of('change', n.localid());
      expect(changes.at(-1)!.args).toEqual([String(leader.localvalue()), leader.localid()]);
    }
    expect(log.of('error')).toHaveLength(0);
  });

  it('refresh on the leader and ping on every node while a leader is known', async () => {
    const p = path();
    const group = [1, 2].map((i) => node(newLocker(), { id: `r${i}`, path: p, value: 'v', ttl: 2 }));
    const log = new EventLog(group);
    group.forEach((n) => void n.start());
    await waitFor('one leader', () => leaders(group).length === 1);
    const leader = leaders(group)[0]!;
    const other = group.find((n) => n !== leader)!;
    // ttl 2 s renews every ~667 ms: two refreshes and pings come within a few seconds.
    await waitFor('two refreshes on the leader', () => log.of('refresh', leader.localid()).length >= 2, {
      timeoutMs: 10_000,
    });
    await waitFor('two pings on the follower', () => log.of('ping', other.localid()).length >= 2, {
      timeoutMs: 10_000,
    });
    expect(log.of('refresh', other.localid())).toHaveLength(0);
    expect(log.of('refresh', leader.localid())[0]!.args).toEqual(['v', leader.localid()]);
    expect(log.of('ping', other.localid())[0]!.args).toEqual(['v', leader.localid()]);
    expect(log.of('deselect')).toHaveLength(0); // no flapping: the seed re-contested every TTL
  });

  it('graceful stop() resigns at once: deselect on the old leader, select on the next, well under 1 s', async () => {
    const p = path();
    const group = [1, 2, 3].map((i) => node(newLocker(), { id: `g${i}`, path: p, value: i, ttl: 10 }));
    const log = new EventLog(group);
    group.forEach((n) => void n.start());
    await waitFor('one leader', () => leaders(group).length === 1);
    await Promise.all(group.map((n) => n.start())); // all have joined the queue
    const first = leaders(group)[0]!;
    const stoppedAt = performance.now();
    await first.stop();
    expect(first.isSelected()).toBe(false);
    expect(log.of('deselect', first.localid())).toHaveLength(1);
    await waitFor('a new leader', () => log.of('select').length === 2, { timeoutMs: 5_000 });
    const handoverMs = log.of('select')[1]!.atMs - stoppedAt;
    expect(handoverMs).toBeLessThan(1_000); // ttl is 10 s: only the resign can explain this
    expect(leaders(group)).toHaveLength(1);
    await waitFor('everyone to see the new leader', () =>
      group.filter((n) => n !== first).every((n) => n.id() === leaders(group)[0]?.localid()),
    );
  });

  it('a node started while another leads knows the leader as soon as start() resolves', async () => {
    const p = path();
    const a = node(newLocker(), { id: 'a', path: p, value: 'A', ttl: 5 });
    await a.start();
    await waitFor('a leads', () => a.isSelected());
    const b = node(newLocker(), { id: 'b', path: p, value: 'B', ttl: 5 });
    const changes: unknown[][] = [];
    b.on('change', (...args: unknown[]) => changes.push(args));
    await b.start();
    expect(b.id()).toBe('a');
    expect(b.value()).toBe('A');
    expect(changes).toEqual([['A', 'a']]);
    expect(b.isSelected()).toBe(false);
  });

  it('start(done) calls back like the seed, once the node knows the leader', async () => {
    const p = path();
    const leader = node(newLocker(), { id: 'cb-leader', path: p, value: 1, ttl: 5 });
    await leader.start();
    await waitFor('the leader', () => leader.isSelected());
    const n = node(newLocker(), { id: 'cb', path: p, value: 2, ttl: 5 });
    // What the node knows at the callback itself (null there would mean `done` came too early).
    const known = await new Promise<[string | null, string | null]>((resolve) => {
      void n.start(() => resolve([n.id(), n.value()]));
    });
    expect(known).toEqual(['cb-leader', '1']);
  });

  it('accepts an array of hosts, locker(path, opts), and an existing Etcd3 client', async () => {
    const p = path();
    const etcd = new Etcd3({ hosts: fx.cluster.endpoints });
    try {
      const viaArray = node(newLocker(fx.cluster.endpoints.split(',')), { id: 'arr', path: p, value: 1, ttl: 5 });
      const viaClient = node(newLocker(etcd), { id: 'cli', path: p, value: 2, ttl: 5 });
      const viaPathArg = fx.adopt(newLocker()(p, { id: 'pathform', value: 3, ttl: 5 }));
      const group = [viaArray, viaClient, viaPathArg];
      await Promise.all(group.map((n) => n.start()));
      await waitFor('one leader among them', () => leaders(group).length === 1);
      await waitFor('agreement', () => group.every((n) => n.id() === leaders(group)[0]?.localid()));
      // The client we passed in stays ours: still usable after the nodes stopped and the locker closed.
      await fx.release();
      expect(await etcd.get(`${p}/none`).string()).toBeNull();
    } finally {
      etcd.close();
    }
  });

  it('proclaim() changes the value while leading; every node sees change', async () => {
    const p = path();
    const group = [1, 2].map((i) => node(newLocker(), { id: `p${i}`, path: p, value: 'old', ttl: 5 }));
    const log = new EventLog(group);
    await Promise.all(group.map((n) => n.start()));
    await waitFor('one leader', () => leaders(group).length === 1);
    const leader = leaders(group)[0]!;
    await leader.proclaim('new');
    await waitFor('every node sees the new value', () => group.every((n) => n.value() === 'new'));
    for (const n of group) expect(log.of('change', n.localid()).at(-1)!.args).toEqual(['new', leader.localid()]);
    expect(leader.localvalue()).toBe('new');
  });

  it('fencing tokens grow from term to term and a fenced write fails once the term is over', async () => {
    const p = path();
    const group = [1, 2].map((i) => node(newLocker(), { id: `f${i}`, path: p, value: i, ttl: 5 }));
    await Promise.all(group.map((n) => n.start()));
    await waitFor('one leader', () => leaders(group).length === 1);
    const first = leaders(group)[0]!;
    const firstTerm = first.term()!;
    const firstToken = first.token()!;
    expect(typeof firstToken).toBe('bigint');
    await firstTerm.put('/fenced/resource', 'written by the first term');
    await first.stop();
    const second = group.find((n) => n !== first)!;
    await waitFor('the second leads', () => second.isSelected());
    expect(second.token()!).toBeGreaterThan(firstToken);
    await expect(firstTerm.put('/fenced/resource', 'stale write')).rejects.toMatchObject({ code: 'NOT_LEADER' });
    await second.term()!.put('/fenced/resource', 'written by the second term');
    const etcd = new Etcd3({ hosts: fx.cluster.endpoints });
    try {
      expect(await etcd.get('/fenced/resource').string()).toBe('written by the second term');
    } finally {
      etcd.close();
    }
  });
});

describe('unreachable etcd', () => {
  it('emits error, is never selected, and does not crash (with and without a listener)', async () => {
    const deadPort = await import('../../src/testing/free-port.js').then((m) => m.freePort());
    const l = newLocker(`127.0.0.1:${deadPort}`);
    const withListener = node(l, { id: 'e1', path: path(), value: 1, ttl: 2 });
    const errors: Error[] = [];
    withListener.on('error', (err: Error) => errors.push(err));
    const silent = node(l, { id: 'e2', path: path(), value: 1, ttl: 2 });
    void withListener.start();
    void silent.start();
    await waitFor('an error event', () => errors.length > 0, { timeoutMs: 20_000 });
    expect(errors[0]).toMatchObject({ code: 'UNAVAILABLE' });
    expect(withListener.isSelected()).toBe(false);
    expect(silent.isSelected()).toBe(false);
    expect(withListener.id()).toBeNull();
  });

  it('stopOnError restores the seed behaviour: the node stops after the first error', async () => {
    const deadPort = await import('../../src/testing/free-port.js').then((m) => m.freePort());
    const n = node(newLocker(`127.0.0.1:${deadPort}`), { id: 's', path: path(), value: 1, ttl: 2, stopOnError: true });
    const errors: Error[] = [];
    n.on('error', (err: Error) => errors.push(err));
    const started = n.start();
    await expect(started).rejects.toMatchObject({ code: 'UNAVAILABLE' }); // the error that stopped it
    expect(errors).toHaveLength(1);
    expect(n.isSelected()).toBe(false);
  });
});

describe('many nodes on one path in one locker', () => {
  it("share one watch of the leader's key and wait on their predecessors: a failover is one revision and one member-local read", async () => {
    // Counts the events the locker's watches receive with a revision after the failover began.
    const l = newLocker();
    const received = countReceived(l.client);
    try {
      const p = path();
      const group = Array.from({ length: 40 }, (_, i) => node(l, { path: p, value: `n${i}`, ttl: 5 }));
      await Promise.all(group.map((n) => n.start()));
      await waitFor(
        'one leader known to all',
        () => leaders(group).length === 1 && group.every((n) => n.id() !== null),
      );
      const [leader] = leaders(group);
      await waitFor('all queued', async () => (await l.client.election(p).candidates()).length === group.length);
      // Each of the 39 waiting nodes watches its predecessor's key (the next node with the term record, in
      // one watch, for the resignation that names it heir), and the term watches its own key. The 40 nodes'
      // one view of the leader's key rides the next node's watch, which covers that key (key-feed.ts): no
      // watch of its own once it has found the leader and the next node has made its watch (until then,
      // for a moment, 41 watches).
      await waitFor('the watches in place', () => l.client.hub.size === 39 + 1 || null);
      const startedAt = BigInt((await l.client.transport.range({ key: Buffer.from(p) })).header.revision);
      const spy = spyTransport(l.client);
      await leader!.stop();
      const rest = group.filter((n) => n !== leader);
      await waitFor('a successor known to all', () => {
        const now = leaders(rest);
        return now.length === 1 && rest.every((n) => n.id() === now[0]!.localid());
      });
      const fromFailover = received.events.filter((r) => r > startedAt);
      spy.restore();
      // One revision, the resignation's: its delete and the record naming the heir on the heir's watch, in
      // one response (the view rides it; its own watch's delete too, had it not yet: herd-free.test.ts shows
      // the ride itself).
      expect(new Set(fromFailover).size).toBe(1);
      expect(fromFailover.length).toBeLessThanOrEqual(3);
      // The leader resigns naming its heir (one txn; a member-local read of who is next if its last
      // confirmation did not say); the heir leads on that record, the delete and the record in one
      // response of its heir watch: no read; the leader-key view reads the new leader once, member-local.
      const optional = ['confirm leader keys', 'read next candidate'];
      const required = spy.calls.map((c) => c.what).filter((w) => !optional.includes(w));
      expect(required).toEqual(['resign', 'read election leader (member-local)']);
    } finally {
      received.stop();
    }
  });
});

describe('stop() of a leader', () => {
  async function leaderWithSuccessor(
    l: Locker,
    other: Locker,
  ): Promise<{ leader: LockedNode; next: LockedNode; p: string }> {
    const p = path();
    const leader = node(l, { path: p, value: 'leader', ttl: 5 });
    await leader.start();
    await waitFor('the leader', () => leader.isSelected());
    const next = node(other, { path: p, value: 'next', ttl: 5 });
    await next.start();
    await waitFor('the successor queued', async () => (await other.client.election(p).candidates()).length === 2);
    return { leader, next, p };
  }

  it('resigns with a guarded delete while another node of its locker shares the lease', async () => {
    const l = newLocker();
    const sibling = node(l, { path: path(), value: 'sibling', ttl: 5 }); // same locker, same TTL: same lease
    await sibling.start();
    await waitFor('the sibling leads its own path', () => sibling.isSelected());
    const { leader, next } = await leaderWithSuccessor(l, newLocker());
    const spy = spyTransport(l.client);
    try {
      await leader.stop();
      await waitFor('the successor', () => next.isSelected());
      expect(spy.of('resign')).toHaveLength(1);
      expect(sibling.isSelected()).toBe(true); // the shared lease lives on
    } finally {
      spy.restore();
    }
  });

  it('as the last node on its lease, steps down, resigns (marked graceful), then revokes the lease, before its clean-up', async () => {
    const l = newLocker();
    let leaderNode: LockedNode | null = null;
    let stopping = false; // record from the stop() call on (the watchdog may recycle a keepalive stream before)
    const order: string[] = [];
    // The leader's resign and lease revoke (sent, answered), and its member-local read of the heir (sent).
    const named: Partial<Record<string, string>> = {
      resign: 'resign',
      'lease revoke': 'revoke',
      'read next candidate': 'heir read',
    };
    let confirming = 0; // the renewals' confirmations of the leader's key on the wire
    const stopTrace = l.client.transport.trace.add({
      request({ what }) {
        if (what === 'confirm leader keys') confirming++;
        const step = stopping ? named[what] : undefined;
        if (step) order.push(`${step} sent (selected: ${String(leaderNode?.isSelected())})`);
      },
      settled({ what }, error) {
        if (what === 'confirm leader keys') confirming--;
        const step = stopping && !error ? named[what] : undefined;
        if (step && step !== 'heir read') order.push(`${step} answered`);
      },
    });
    const restoreStreams = onStreams(l.client, 'keepalive', (stream) => {
      const cancel = stream.cancel.bind(stream);
      stream.cancel = () => {
        if (stopping) order.push('keepalive stream cancelled');
        cancel();
      };
    });
    const spy = spyTransport(l.client);
    try {
      const { leader, next, p } = await leaderWithSuccessor(l, newLocker());
      leaderNode = leader;
      leader.on('deselect', () => order.push('deselect'));
      stopping = true;
      const stopped = leader.stop();
      // Within the call: the node has stepped down, then etcd is told (the resign, or first a member-local read
      // of the heir if the leader's last confirmation did not say who is next), before any clean-up or wait —
      // unless a confirmation, which will say who is next, is on the wire: then the resign waits for it.
      const told = order.includes('heir read sent (selected: false)') ? 'heir read sent' : 'resign sent';
      const waitsForConfirmation = confirming > 0 && order.length === 1;
      expect(order).toEqual(waitsForConfirmation ? ['deselect'] : ['deselect', `${told} (selected: false)`]);
      expect(leader.stop()).toBe(stopped); // a second stop() waits for the same leave
      await stopped;
      expect(order.filter((step) => !step.startsWith('heir read'))).toEqual([
        'deselect',
        'resign sent (selected: false)',
        'resign answered',
        'revoke sent (selected: false)',
        'revoke answered',
        'keepalive stream cancelled',
      ]);
      await waitFor('the successor', () => next.isSelected());
      expect(spy.of('resign')).toHaveLength(1);
      expect((await l.client.election(p).candidates()).map((c) => c.value)).toEqual([next.localdata()]);
    } finally {
      spy.restore();
      restoreStreams();
      stopTrace();
    }
  });

  it('a locker closed right after a fire-and-forget stop() still revokes the lease at once', async () => {
    const l = locked(fx.cluster.endpoints); // closed by the test itself
    const p = path();
    const leader = node(l, { path: p, value: 'leader', ttl: 15 });
    await leader.start();
    await waitFor('the leader', () => leader.isSelected());
    const other = newLocker();
    const next = node(other, { path: p, value: 'next', ttl: 15 });
    await next.start();
    await waitFor('the successor queued', async () => (await other.client.election(p).candidates()).length === 2);
    void leader.stop();
    await l.close();
    // Had the close cut the revoke off, the successor would wait for the lease to expire: at least 10 s.
    await waitFor('the successor', () => next.isSelected(), { timeoutMs: 5_000 });
  });
});
