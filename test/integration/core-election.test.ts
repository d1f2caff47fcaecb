import { describe, expect, it } from 'vitest';
import { type Candidate, isLockedError } from '../../src/api.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { queued, useCoreFixture } from './core-fixture.js';
import { countReceived } from './transport-spy.js';

// The promise / AbortSignal core under the facade, on a real etcd.
const fx = useCoreFixture();
const { client } = fx;

describe('campaign', () => {
  it('writes the key layout of concurrency.Election: <name>/<lease hex>, token = create revision', async () => {
    const c = client();
    const term = await c.election('/layout').campaign('v');
    expect(term.key).toBe(`/layout/${term.lease.id.toString(16)}`);
    const kv = (await fx.raw.get(term.key).exec()).kvs[0]!;
    expect(BigInt(kv.create_revision)).toBe(term.token);
    expect(BigInt(kv.lease)).toBe(term.lease.id);
    expect(kv.value.toString()).toBe('v');
    expect(term.isValid()).toBe(true);
  });

  it('is herd-free: each waiter watches only its predecessor (the next in line also the term record), so a resign wakes one waiter', async () => {
    const leader = await client().election('/herd').campaign('leader');
    const waiters = Array.from({ length: 5 }, () => client());
    const pending = waiters.map((c, i) => c.election('/herd').campaign(`w${i}`));
    const queue = await queued(waiters[0]!, '/herd', 6);
    const received = waiters.map((c) => countReceived(c));
    await leader.resign();
    const next = await Promise.race(pending);
    expect(next.key).toBe(queue[1]!.key); // the oldest waiter (the waiters joined concurrently: any order)
    const woken = received.map((r) => r.events.length);
    for (const r of received) r.stop();
    // The heir alone: its predecessor's delete and the record naming it (one revision), at most.
    const wokenOnes = woken.filter((n) => n > 0);
    expect(wokenOnes).toHaveLength(1);
    expect(wokenOnes[0]).toBeLessThanOrEqual(2);
    for (const c of waiters) await c.close();
    await Promise.allSettled(pending);
  });

  it('an aborted campaign leaves the queue (its key is deleted)', async () => {
    const holder = await client().election('/abort').campaign('holder');
    const waiter = client();
    const controller = new AbortController();
    const pending = waiter.election('/abort').campaign('waiter', { signal: controller.signal });
    await waitFor('queued', async () => (await waiter.election('/abort').candidates()).length === 2);
    controller.abort();
    await expect(pending).rejects.toSatisfy((err: unknown) => isLockedError(err, 'ABORTED'));
    await waitFor('key removed', async () => (await waiter.election('/abort').candidates()).length === 1);
    expect((await waiter.election('/abort').leader())!.key).toBe(holder.key);
  });

  it('the term signal aborts when the lease is revoked behind our back, and a fresh campaign gets a larger token', async () => {
    const c = client(5);
    const election = c.election('/revoked');
    const term = await election.campaign('v');
    await fx.raw.lease(5).grant(); // unrelated lease: revisions move on
    await fx.raw.leaseClient.leaseRevoke({ ID: term.lease.id.toString() });
    await waitFor('term to end', () => term.signal.aborted, { timeoutMs: 5_000 });
    expect(term.isValid()).toBe(false);
    expect(isLockedError(term.signal.reason, 'LEADERSHIP_LOST')).toBe(true);
    const next = await election.campaign('v');
    expect(next.lease.id).not.toBe(term.lease.id);
    expect(next.token).toBeGreaterThan(term.token);
  });
});

describe('observe', () => {
  it('subscribers of one election in one client share one watch; a late one gets the current leader at once', async () => {
    const c = client();
    const base = c.hub.size;
    const first: (string | null)[] = [];
    const a = c.election('/shared').track((leader) => first.push(leader?.value ?? null));
    await waitFor('first report', () => first.length === 1);
    const term = await client().election('/shared').campaign('L');
    await waitFor('the leader reported', () => first.at(-1) === 'L');
    const late: (string | null)[] = [];
    const b = c.election('/shared').track((leader) => late.push(leader?.value ?? null));
    await waitFor('the late subscriber told', () => late.length === 1);
    expect(late).toEqual(['L']);
    expect(b.leader?.token).toBe(term.token);
    expect(c.hub.size - base).toBe(1); // one prefix watch for both
    a.close();
    await term.resign();
    await waitFor('the late subscriber sees no leader', () => late.at(-1) === null);
    expect(first.at(-1)).toBe('L'); // closed: told nothing more
    b.close();
    expect(c.hub.size - base).toBe(0);
  });

  it('reports the lowest create revision even when several keys arrive in one watch response', async () => {
    const c = client();
    const seen: (Candidate | null)[] = [];
    const tracker = c.election('/batch').track((leader) => seen.push(leader));
    await waitFor('initial report', () => seen.length === 1);
    expect(seen[0]).toBeNull();
    const leases = await Promise.all([1, 2, 3].map(() => fx.raw.lease(10).grant()));
    // First key alone, then two newer keys in one transaction (one watch response).
    await fx.raw.put('/batch/a').value('A').lease(leases[0]!).exec();
    await fx.raw
      .if('/batch/b', 'Create', '==', 0)
      .then(fx.raw.put('/batch/b').value('B').lease(leases[1]!), fx.raw.put('/batch/c').value('C').lease(leases[2]!))
      .commit();
    await waitFor('leader A reported', () => seen.at(-1)?.value === 'A');
    await fx.raw.put('/batch/zz').value('Z').lease(leases[2]!).exec();
    // Deleting A and putting D in one txn: the next leader is B (lowest remaining create revision).
    await fx.raw
      .if('/batch/a', 'Create', '>', 0)
      .then(fx.raw.delete().key('/batch/a'), fx.raw.put('/batch/d').value('D'))
      .commit();
    await waitFor('leader B reported', () => seen.at(-1)?.value === 'B');
    expect(seen.map((s) => s?.value ?? null)).toEqual([null, 'A', 'B']);
    tracker.close();
    await fx.raw.delete().prefix('/batch/');
  });

  it('the async iterator yields each leader change until aborted', async () => {
    const watcher = client();
    const controller = new AbortController();
    const values: (string | null)[] = [];
    const done = (async () => {
      for await (const leader of watcher.election('/iter').observe({ signal: controller.signal })) {
        values.push(leader?.value ?? null);
        if (values.length === 3) controller.abort();
      }
    })();
    await waitFor('first report', () => values.length === 1);
    const first = await client().election('/iter').campaign('one');
    await waitFor('second report', () => values.length === 2);
    const secondClient = client();
    const second = secondClient.election('/iter').campaign('two');
    await waitFor('two queued', async () => (await secondClient.election('/iter').candidates()).length === 2);
    await first.resign();
    await done;
    expect(values).toEqual([null, 'one', 'two']);
    await (await second).resign();
  });
});

describe('withLeadership', () => {
  it('runs fn only while leading and aborts its signal when leadership is lost', async () => {
    const c = client(5);
    let aborted = false;
    let leaseId = 0n;
    const result = c.election('/work').withLeadership('v', async (signal, term) => {
      leaseId = term.lease.id;
      await fx.raw.leaseClient.leaseRevoke({ ID: term.lease.id.toString() });
      await waitFor('the work signal to abort', () => signal.aborted, { timeoutMs: 10_000 });
      aborted = signal.aborted;
      return 'stopped';
    });
    await expect(result).resolves.toBe('stopped');
    expect(aborted).toBe(true);
    expect(leaseId).not.toBe(0n);
  });

  it('resigns when fn returns, so the next candidate is elected', async () => {
    const a = client();
    const b = client();
    const aTerm = a.election('/work2').withLeadership('a', async () => 'done');
    await expect(aTerm).resolves.toBe('done');
    const bTerm = await b.election('/work2').campaign('b');
    expect(bTerm.isValid()).toBe(true);
  });
});

describe('term.txn', () => {
  it("applies only while the term leads and the caller's compares hold; tells which failed", async () => {
    const term = await client().election('/txn').campaign('v');
    const counter = Buffer.from('/txn-counter');
    const put = (value: string) => [{ request_put: { key: counter, value: Buffer.from(value) } }];
    const absent = { key: counter, target: 'Create' as const, result: 'Equal' as const, create_revision: '0' };

    // Both hold: applied.
    const first = await term.txn(put('1'), 'increment', { compare: [absent] });
    expect(first.succeeded).toBe(true);
    expect(await fx.raw.get('/txn-counter').string()).toBe('1');

    // Only the caller's compare fails: not applied, the term goes on, the failure ops' responses come back.
    const second = await term.txn(put('2'), 'increment', {
      compare: [absent],
      failure: [{ request_range: { key: counter } }],
    });
    expect(second.succeeded).toBe(false);
    expect(second.responses).toHaveLength(1);
    expect(second.responses[0]?.response_range.kvs[0]?.value.toString()).toBe('1');
    expect(term.isValid()).toBe(true);

    // The term's own guard fails: NOT_LEADER, and the term is over.
    await fx.raw.delete().key(term.key).exec();
    const third = term.txn(put('3'), 'increment', { compare: [] });
    await expect(third).rejects.toSatisfy((err: unknown) => isLockedError(err, 'NOT_LEADER'));
    expect(term.isValid()).toBe(false);
    expect(await fx.raw.get('/txn-counter').string()).toBe('1');
  });
});
