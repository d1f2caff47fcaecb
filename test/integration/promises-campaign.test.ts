/**
 * README promises of the core API that no other test checked, on a real etcd: a campaign's failure
 * handling (a lease etcd reports gone is retried on a new lease; a non-transient error rejects at
 * once; no key is left behind in any case), the error codes ABORTED and COMPACTED, a multi-op
 * `term.txn`, and `resign()` of a term that is no longer the leader. Each assertion names the bug
 * that would make it fail.
 */
import { describe, expect, it } from 'vitest';
import { LockedError, isLockedError, type LockedClient } from '../../src/api.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { queued, useCoreFixture } from './core-fixture.js';
import { spyTransport } from './transport-spy.js';

const fx = useCoreFixture();
const { client } = fx;

/** The keys etcd holds under `name/` (the election's candidates). */
async function keysOf(name: string): Promise<string[]> {
  return fx.raw.getAll().prefix(`${name}/`).keys();
}

/** The etcd error a rejected promise ends with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.unreachable('expected a rejection'),
    (err: unknown) => err,
  );
}

describe('campaign failure handling (README: "removes its key in every case")', () => {
  it('a lease etcd revoked while the campaign waits: the campaign joins again on a new lease and leads, leaving no stale key', async () => {
    const name = '/promise/lease-lost';
    const holder = await client(2).election(name).campaign('holder');
    const c = client(2);
    const pending = c.election(name).campaign('waiter');
    const [, waiting] = await queued(c, name, 2);
    // etcd forgets the waiter's lease (and its key): its next keepalive is answered with TTL 0.
    await fx.raw.leaseClient.leaseRevoke({ ID: waiting!.leaseId.toString() });
    // Retried on a new lease: a key of another lease joins the queue (a campaign that gave up would not).
    const [, rejoined] = await waitFor('the campaign to join again', async () => {
      const now = await c.election(name).candidates();
      return now.length === 2 && now[1]!.leaseId !== waiting!.leaseId ? now : null;
    });
    await holder.resign();
    const term = await pending; // rejected, had LEASE_LOST been given to the caller
    expect(term.lease.id).toBe(rejoined!.leaseId);
    expect(term.lease.id).not.toBe(waiting!.leaseId);
    expect(await keysOf(name)).toEqual([term.key]);
    await term.resign();
  });

  it('a non-transient error from etcd (a request too large) rejects at once: one join, INVALID_ARGUMENT, no key', async () => {
    const name = '/promise/too-large';
    const c = client();
    const spy = spyTransport(c);
    try {
      // etcd's --max-request-bytes is 1.5 MiB: it refuses the join ("request is too large").
      const err = await rejection(c.election(name).campaign('x'.repeat(1_600_000)));
      expect(isLockedError(err, 'INVALID_ARGUMENT')).toBe(true);
      expect((err as LockedError).transient).toBe(false);
      expect(spy.of('create candidate key')).toHaveLength(1); // not retried
    } finally {
      spy.restore();
    }
    expect(await keysOf(name)).toEqual([]);
  });

  it('a non-transient error after the join (permission denied on the claim) rejects at once and deletes the key', async () => {
    const name = '/promise/denied';
    const c = client();
    const spy = spyTransport(c, (what) =>
      what === 'claim term' ? new LockedError('PERMISSION', 'injected: permission denied') : null,
    );
    try {
      const err = await rejection(c.election(name).campaign('v'));
      expect(isLockedError(err, 'PERMISSION')).toBe(true);
      expect(spy.of('create candidate key')).toHaveLength(1);
      expect(spy.of('claim term')).toHaveLength(1);
    } finally {
      spy.restore();
    }
    expect(await keysOf(name)).toEqual([]);
  });

  it('a join whose reply is lost three times (applied on etcd each time): the rejection leaves no key', async () => {
    const name = '/promise/lost-replies';
    const c = client();
    const joins = lostReplies(c, 'create candidate key');
    try {
      const err = await rejection(c.election(name).campaign('v'));
      expect(isLockedError(err, 'UNAVAILABLE')).toBe(true);
      expect(joins.count).toBe(3);
    } finally {
      joins.restore();
    }
    // A key left here, on the client's live lease, would be first in line and block the election.
    expect(await keysOf(name)).toEqual([]);
  });
});

/**
 * Makes `what` requests of `c` apply on etcd and then fail as if their reply was lost (a request
 * deadline): the case where a retry cannot know whether the first attempt wrote.
 */
function lostReplies(c: LockedClient, what: string): { readonly count: number; restore(): void } {
  let count = 0;
  const restore = c.transport.trace.add({
    // The request is sent here, on the raw etcd3 client; the library's call fails once etcd applied it.
    request(call) {
      if (call.method !== 'txn' || call.what !== what) return;
      return c.transport.client.kv.txn(call.request).then(() => {
        count++;
        throw new LockedError('UNAVAILABLE', `${what}: injected: deadline exceeded after etcd applied it`);
      });
    },
  });
  return {
    get count() {
      return count;
    },
    restore,
  };
}

describe('error codes', () => {
  it('ABORTED: a campaign whose signal aborts (with no reason of its own) rejects with ABORTED and leaves the queue', async () => {
    const name = '/promise/aborted';
    const holder = await client().election(name).campaign('holder');
    const c = client();
    const controller = new AbortController();
    const pending = c.election(name).campaign('waiter', { signal: controller.signal });
    await queued(c, name, 2);
    controller.abort();
    const err = await rejection(pending);
    expect(isLockedError(err, 'ABORTED')).toBe(true);
    expect((err as LockedError).transient).toBe(false);
    await waitFor('the key removed', async () => (await keysOf(name)).length === 1);
    expect(await keysOf(name)).toEqual([holder.key]);
  });

  it("ABORTED: a signal already aborted rejects before any request; the caller's own reason is kept", async () => {
    const c = client();
    const spy = spyTransport(c);
    try {
      const err = await rejection(c.election('/promise/pre-aborted').campaign('v', { signal: AbortSignal.abort() }));
      expect(isLockedError(err, 'ABORTED')).toBe(true);
      const mine = new Error('shutting down');
      const controller = new AbortController();
      controller.abort(mine);
      expect(await rejection(c.election('/promise/pre-aborted').campaign('v', { signal: controller.signal }))).toBe(
        mine,
      );
      expect(spy.calls).toEqual([]);
    } finally {
      spy.restore();
    }
  });

  it('COMPACTED: a tracker whose watch needs a compacted revision is told COMPACTED (transient), then reads again and follows on', async () => {
    const name = '/promise/compacted';
    const c = client();
    const hub = c.hub as unknown as { watch: typeof c.hub.watch };
    const watch = hub.watch.bind(c.hub);
    let compacted = false;
    // Before the tracker's first watch reaches etcd, the store moves on and is compacted past the
    // revision the watch starts from (what a long network stall with an auto-compacting etcd does).
    hub.watch = (target, handlers) => {
      if (compacted) return watch(target, handlers);
      compacted = true;
      let inner: { cancel(): void } | null = null;
      void (async () => {
        await fx.raw.put('/promise/compacted-elsewhere').value('x').exec();
        const put = await fx.raw.put('/promise/compacted-elsewhere').value('y').exec();
        await fx.raw.kv.compact({ revision: put.header.revision, physical: true }); // above the watch's start
        expect(BigInt(put.header.revision)).toBeGreaterThan(target.startRevision);
        inner = watch(target, handlers);
      })();
      return { cancel: () => inner?.cancel() };
    };
    const errors: LockedError[] = [];
    const leaders: (string | null)[] = [];
    const tracker = c.election(name).track(
      (leader) => leaders.push(leader?.value ?? null),
      (err) => errors.push(err),
    );
    try {
      await waitFor('the compaction reported', () => errors.length > 0);
      expect(errors[0]!.code).toBe('COMPACTED');
      expect(errors[0]!.transient).toBe(true);
      const term = await client().election(name).campaign('after');
      await waitFor('the tracker follows on after its new read', () => leaders.at(-1) === 'after');
      expect(errors).toHaveLength(1);
      await term.resign();
    } finally {
      tracker.close();
      hub.watch = watch;
    }
  });

  it("COMPACTED: a watch from the compaction revision, a deletion's, ends with COMPACTED; the deletion is never skipped in silence (etcd-io/etcd#18089)", async () => {
    const key = '/promise/compacted-tombstone';
    await fx.raw.put(key).value('a').exec();
    const deleted = BigInt((await fx.raw.delete().key(key).exec()).header.revision);
    await fx.raw.put(key).value('b').exec(); // the next revision: what a watch that skipped the deletion hears first
    await fx.raw.kv.compact({ revision: deleted.toString(), physical: true });
    const c = client();
    const seen: string[] = [];
    const ends: LockedError[] = [];
    const handle = c.hub.watch(
      { key: Buffer.from(key), startRevision: deleted },
      {
        onEvents: (events) => seen.push(...events.map((e) => `${e.type}@${String(e.kv.mod_revision)}`)),
        onEnd: (err) => ends.push(err),
      },
    );
    try {
      await waitFor('the watch answered', () => seen.length > 0 || ends.length > 0);
      // Asked from the revision before (watch-start.ts), which is compacted. Asked from `deleted` itself,
      // etcd 3.4.23 answers with the put alone: a waiter on that key would never hear it go.
      expect(seen).toEqual([]);
      expect(ends.map((e) => e.code)).toEqual(['COMPACTED']);
    } finally {
      handle.cancel();
    }
  });
});

describe('term.txn with several operations (README: "term.txn(ops, what?, { compare?, failure? })")', () => {
  it('applies all its ops at once, or none: with the failure ops answered in order, and nothing after the term is over', async () => {
    const election = client().election('/promise/txn');
    const term = await election.campaign('v');
    const k = (s: string): Buffer => Buffer.from(`/promise/txn-data/${s}`);
    await fx.raw.put('/promise/txn-data/c').value('old');
    const ops = (n: string) => [
      { request_put: { key: k('a'), value: Buffer.from(`a${n}`) } },
      { request_put: { key: k('b'), value: Buffer.from(`b${n}`) } },
      { request_delete_range: { key: k('c') } },
    ];
    const stored = async (): Promise<Record<string, string>> => fx.raw.getAll().prefix('/promise/txn-data/').strings();

    const applied = await term.txn(ops('1'), 'three ops');
    expect(applied.succeeded).toBe(true);
    expect(applied.responses).toHaveLength(3);
    expect(applied.responses[2]?.response_delete_range.deleted).toBe('1');
    expect(await stored()).toEqual({ '/promise/txn-data/a': 'a1', '/promise/txn-data/b': 'b1' });

    // The caller's compare fails: no op applies, and both failure ops answer, in the order given.
    const refused = await term.txn(ops('2'), 'three ops', {
      compare: [{ key: k('a'), target: 'Value', result: 'Equal', value: Buffer.from('not a1') }],
      failure: [{ request_range: { key: k('b') } }, { request_range: { key: k('a') } }],
    });
    expect(refused.succeeded).toBe(false);
    expect(refused.responses.map((r) => r.response_range.kvs[0]?.value.toString())).toEqual(['b1', 'a1']);
    expect(await stored()).toEqual({ '/promise/txn-data/a': 'a1', '/promise/txn-data/b': 'b1' });
    expect(term.isValid()).toBe(true);

    // A later term leads: the old term's guard fails, none of its ops applies, NOT_LEADER.
    await term.resign();
    const next = await client().election('/promise/txn').campaign('next');
    const stale = await rejection(term.txn(ops('3'), 'three ops'));
    expect(isLockedError(stale, 'NOT_LEADER')).toBe(true);
    expect(await stored()).toEqual({ '/promise/txn-data/a': 'a1', '/promise/txn-data/b': 'b1' });
    await next.resign();
  });
});

describe('resign() of a term that no longer leads', () => {
  it('changes nothing: the new leader keeps its key, and the term record keeps its claim (no false resignation)', async () => {
    const name = '/promise/stale-resign';
    const old = await client(2).election(name).campaign('old');
    const c = client(2);
    const pending = c.election(name).campaign('new');
    await queued(c, name, 2);
    await fx.raw.delete().key(old.key).exec(); // by hand: not a resignation, the successor holds off one TTL
    await waitFor('the old term to end', () => old.signal.aborted);
    const next = await pending;
    const record = async (): Promise<unknown> => JSON.parse((await fx.raw.get(`${name}.locked-term`).string())!);
    expect(await record()).toMatchObject({ state: 'leading', token: next.token.toString() });
    await old.resign();
    // A resignation written for the old token would tell the next claimant that nobody may still lead.
    expect(await record()).toMatchObject({ state: 'leading', token: next.token.toString() });
    expect(await keysOf(name)).toEqual([next.key]);
    expect(next.isValid()).toBe(true);
    await next.resign();
  });
});

describe('confirmation reads (README: "confirming all those keys at once (up to 40 keys per transaction)")', () => {
  it('65 leading terms on one lease stay leading through renewals: their keys are read in batches of 40 and 25, within etcd’s 128 ops', async () => {
    const c = client(5); // renew every 1.7 s; a term whose key went unconfirmed ends 5 s after its last proof
    const terms = await Promise.all(
      Array.from({ length: 65 }, (_, i) => c.election(`/promise/many/${i}`).campaign('v')),
    );
    const session = c.election('/promise/many/0').session;
    expect(terms.every((t) => t.lease === terms[0]!.lease)).toBe(true);
    const batches: { ops: number; failed: boolean }[] = [];
    const ofCall = new Map<object, { ops: number; failed: boolean }>();
    const stopTrace = c.transport.trace.add({
      request(call) {
        if (call.method !== 'txn' || call.what !== 'confirm leader keys') return;
        const batch = { ops: call.request.success?.length ?? 0, failed: false };
        batches.push(batch);
        ofCall.set(call, batch);
      },
      settled(call, error) {
        const batch = ofCall.get(call);
        ofCall.delete(call);
        if (batch && error) batch.failed = true;
      },
    });
    let renewals = 0;
    const off = session.renewed.add(() => renewals++);
    try {
      // Past one TTL of renewals: had the reads failed, every term would have reached its deadline.
      await waitFor('four renewals', () => renewals >= 4, { timeoutMs: 20_000 });
      await waitFor('two rounds of confirmations', () => batches.filter((b) => !b.failed).length >= 4);
      expect(batches.filter((b) => b.failed)).toEqual([]);
      // Three ops per key (the key, the candidate next in line, the election's highest rank keys): 40, then 25.
      expect(new Set(batches.map((b) => b.ops))).toEqual(new Set([120, 75]));
      expect(terms.filter((t) => !t.isValid())).toEqual([]);
    } finally {
      off();
      stopTrace();
    }
    await Promise.all(terms.map((t) => t.resign()));
  });
});
