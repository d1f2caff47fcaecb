import type { ITxnRequest } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { LockedClient, type Term } from '../../src/api.js';
import { systemClock } from '../../src/core/clock.js';
import { decodeTermRecord, termRecordKey } from '../../src/election/term-record.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { queued, useCoreFixture } from './core-fixture.js';
import { spyTransport } from './transport-spy.js';

// Taking over (docs/DESIGN.md): after a graceful resignation the successor leads at once; after any
// other loss of the leader's key — a hand-made delete, a lease etcd revoked early — no candidate
// leads before the old leader's proven deadline has passed, whether it was queued or joins later.
// Both leaders live in this process, so their deadlines and the successor's election are read on one
// monotonic clock (performance.now, the library's clock).
const fx = useCoreFixture();
const TTL_SEC = 3;
/**
 * "At once": below one TTL. A hold-off lasts at least TTL × (1 + drift) from the claim, so the bound
 * still tells the two apart, and leaves a loaded 2-core machine most of a TTL for the handover itself.
 */
const AT_ONCE_MS = TTL_SEC * 1000;
let seq = 0;

function name(): string {
  return `/take-over/${++seq}`;
}

async function record(election: string): Promise<ReturnType<typeof decodeTermRecord>> {
  const text = await fx.raw.get(termRecordKey(election)).string();
  return text === null ? null : decodeTermRecord(text);
}

/** The term record of a resignation by `token` (TTL_SEC), naming `heir`. */
function resignedRecord(token: bigint, heir: bigint | null): ReturnType<typeof decodeTermRecord> {
  return { state: 'resigned', token, ttlMs: TTL_SEC * 1000, heir };
}

/** Campaigns and records when the campaign resolved (ms, the library's clock). */
async function timed(pending: Promise<Term>): Promise<{ term: Term; at: number }> {
  const term = await pending;
  return { term, at: performance.now() };
}

/** A leader and a successor queued behind it, whose campaign is timed. */
async function leaderAndSuccessor(
  n: string,
): Promise<{ leader: Term; next: LockedClient; pending: Promise<{ term: Term; at: number }> }> {
  const leader = await fx.client(TTL_SEC).election(n).campaign('a');
  const next = fx.client(TTL_SEC);
  const pending = timed(next.election(n).campaign('b'));
  await queued(next, n, 2);
  return { leader, next, pending };
}

/**
 * A leader whose last confirmation saw a successor that has left since (so the leader's hint is
 * stale), and a third candidate queued behind the leader now.
 */
async function staleHint(n: string): Promise<{
  leader: Term;
  leaderClient: LockedClient;
  secondToken: bigint;
  thirdToken: bigint;
  pendingThird: Promise<{ term: Term; at: number }>;
}> {
  const leaderClient = fx.client(TTL_SEC);
  const leader = await leaderClient.election(n).campaign('a');
  const second = fx.client(TTL_SEC);
  const giveUp = new AbortController();
  const pendingSecond = second.election(n).campaign('b', { signal: giveUp.signal });
  pendingSecond.catch(() => undefined);
  const [, secondCandidate] = await queued(second, n, 2);
  // Two confirmations of the leader's key after the second joined: the second is the leader's hint.
  await new Promise<void>((resolve) => {
    let seen = 0;
    const off = leader.onRenewed(() => {
      if (++seen < 2) return;
      off();
      resolve();
    });
  });
  giveUp.abort();
  await expect(pendingSecond).rejects.toMatchObject({ code: 'ABORTED' });
  const third = fx.client(TTL_SEC);
  const pendingThird = timed(third.election(n).campaign('c'));
  const [, candidate] = await queued(third, n, 2);
  return { leader, leaderClient, secondToken: secondCandidate!.token, thirdToken: candidate!.token, pendingThird };
}

describe('taking over', () => {
  it('a resignation is marked in the term record and names the queued successor, which leads at once without a write', async () => {
    const n = name();
    const { leader, next, pending } = await leaderAndSuccessor(n);
    expect(await record(n)).toMatchObject({ state: 'leading', token: leader.token, ttlMs: TTL_SEC * 1000 });
    const resignedAt = performance.now();
    await leader.resign();
    const { term, at } = await pending;
    // Far below the TTL that a non-graceful loss would cost (a loaded machine still does this in ms).
    expect(at - resignedAt).toBeLessThan(AT_ONCE_MS);
    // The heir led from the record its predecessor wrote: nothing was written since the resignation.
    const res = await fx.raw.get(termRecordKey(n)).exec();
    expect(decodeTermRecord(res.kvs[0]!.value.toString())).toEqual(resignedRecord(leader.token, term.token));
    expect(BigInt(res.kvs[0]!.mod_revision)).toBeLessThan(term.confirmedAt + 1n);
    // What the won turn left ends right after it: the session's confirmations read the key once, for the
    // term (the heir's proof, still registered, would read it a second time).
    const confirms: ITxnRequest[] = [];
    const off = next.transport.trace.add({
      request(call) {
        if (call.method === 'txn' && call.what === 'confirm leader keys') confirms.push(call.request);
      },
    });
    try {
      await waitFor('two confirmations after the successor led', () => confirms.length >= 2, { timeoutMs: 10_000 });
      const reads = confirms[1]!.success!.filter(
        (op) => Buffer.from(op.request_range?.key ?? []).toString() === term.key,
      );
      expect(reads).toHaveLength(1);
    } finally {
      off();
    }
  });

  it('a named heir that vanishes while leading (no resignation): the next candidate waits out its deadline', async () => {
    const n = name();
    const { leader, pending } = await leaderAndSuccessor(n);
    const third = fx.client(TTL_SEC);
    const pendingThird = timed(third.election(n).campaign('c'));
    await queued(third, n, 3);
    await leader.resign();
    const { term: heir } = await pending;
    const heirDeadline = heir.validUntil;
    const deletedAt = performance.now();
    await fx.raw.delete().key(heir.key).exec(); // as etcd revoking the heir's lease early would
    const { term, at } = await pendingThird;
    expect(at).toBeGreaterThanOrEqual(heirDeadline);
    expect(at - deletedAt).toBeGreaterThanOrEqual(TTL_SEC * 1000);
    // The third claimed, and recorded the heir's wait as its inheritance.
    expect(await record(n)).toMatchObject({ state: 'leading', token: term.token });
  });

  it('a stale hint (the next candidate left since the last confirmation): the next one is read again and named', async () => {
    const n = name();
    const { leader, leaderClient, thirdToken, pendingThird } = await staleHint(n);
    const spy = spyTransport(leaderClient);
    try {
      await leader.resign();
    } finally {
      spy.restore();
    }
    expect(spy.of('read next candidate')).toHaveLength(1); // after the hint's compare failed
    const { term } = await pendingThird;
    expect(term.token).toBe(thirdToken);
    expect(await record(n)).toEqual(resignedRecord(leader.token, thirdToken));
  });

  it('a stale hint and a stale read: the resignation goes through naming no heir, and the successor claims', async () => {
    const n = name();
    const { leader, leaderClient, secondToken, pendingThird } = await staleHint(n);
    // A member's stale state shows a candidate since deleted (the read is serializable): the reads of
    // the next candidate are made at the revision that created the second, which has left since.
    let staleReads = 0;
    const stopTrace = leaderClient.transport.trace.add({
      request(call) {
        if (call.method !== 'range' || call.what !== 'read next candidate') return;
        call.request.revision = secondToken.toString();
        staleReads++;
      },
    });
    try {
      await leader.resign();
    } finally {
      stopTrace();
    }
    expect(staleReads).toBe(1); // after the hint's compare failed
    expect(await fx.raw.get(leader.key).string()).toBeNull();
    const { term } = await pendingThird;
    expect(await record(n)).toMatchObject({ state: 'leading', token: term.token, holdMs: 0 });
    // The resignation, just before the claim, named nobody.
    const before = await fx.raw
      .get(termRecordKey(n))
      .revision((term.confirmedAt - 1n).toString())
      .string();
    expect(decodeTermRecord(before!)).toEqual(resignedRecord(leader.token, null));
  });

  it('the named heir leads on the record alone, with no request, when its delete event is late', async () => {
    const n = name();
    const leader = await fx.client(TTL_SEC).election(n).campaign('a');
    const next = fx.client(TTL_SEC);
    // Its heir watch never delivers the predecessor's delete (as if it were late): only the record can elect it.
    const hub = next.hub as unknown as { watch: typeof next.hub.watch };
    const watch = hub.watch.bind(next.hub);
    hub.watch = (target, handlers) =>
      watch(target, {
        ...handlers,
        onEvents: (events, revision) => {
          const kept = target.rangeEnd ? events.filter((e) => e.type !== 'Delete') : events;
          if (kept.length > 0) handlers.onEvents(kept, revision);
        },
      });
    const spy = spyTransport(next);
    try {
      const pending = timed(next.election(n).campaign('b'));
      await queued(next, n, 2);
      const before = spy.calls.length;
      const resignedAt = performance.now();
      await leader.resign();
      const { term, at } = await pending;
      // Nothing but, perhaps, its session's renewal-time confirmation of its key (the proof it leads on).
      expect(spy.calls.slice(before).filter((c) => c.what !== 'confirm leader keys')).toEqual([]);
      expect(at - resignedAt).toBeLessThan(AT_ONCE_MS);
      expect(term.isValid()).toBe(true);
      const res = await fx.raw.get(termRecordKey(n)).exec();
      expect(term.confirmedAt).toBe(BigInt(res.kvs[0]!.mod_revision)); // the resignation's revision
    } finally {
      spy.restore();
      hub.watch = watch;
    }
  });

  it('a named heir with a longer TTL than its predecessor claims before leading (still at once)', async () => {
    const n = name();
    const leader = await fx.client(TTL_SEC).election(n).campaign('a');
    const next = fx.client(TTL_SEC + 2);
    const pending = timed(next.election(n).campaign('b'));
    await queued(next, n, 2);
    const resignedAt = performance.now();
    await leader.resign();
    const { term, at } = await pending;
    expect(at - resignedAt).toBeLessThan(AT_ONCE_MS);
    expect(await record(n)).toMatchObject({ state: 'leading', token: term.token, ttlMs: (TTL_SEC + 2) * 1000 });
  });

  it('closing a leading client resigns its terms first: the successor leads at once', async () => {
    const n = name();
    const owner = fx.client(TTL_SEC);
    await owner.election(n).campaign('a');
    const next = fx.client(TTL_SEC);
    const pending = timed(next.election(n).campaign('b'));
    await queued(next, n, 2);
    const closedAt = performance.now();
    await owner.close();
    const { at } = await pending;
    expect(at - closedAt).toBeLessThan(AT_ONCE_MS);
  });

  it("a leader key deleted by hand: the successor leads only after the old leader's deadline", async () => {
    const n = name();
    const { leader, pending } = await leaderAndSuccessor(n);
    const deadline = leader.validUntil;
    const deletedAt = performance.now();
    await fx.raw.delete().key(leader.key).exec();
    const { term, at } = await pending;
    expect(at).toBeGreaterThanOrEqual(deadline);
    // The wait is the old leader's TTL on the successor's clock, counted from its claim's reply.
    expect(at - deletedAt).toBeGreaterThanOrEqual(TTL_SEC * 1000);
    expect(leader.isValid()).toBe(false); // its key watch ended it long before
    expect(await record(n)).toMatchObject({ state: 'leading', token: term.token });
  });

  it("a lease revoked behind the leader's back (etcd revoking early): nobody leads before the leader's deadline", async () => {
    const n = name();
    const { leader, pending } = await leaderAndSuccessor(n);
    const deadline = leader.validUntil;
    await fx.raw.leaseClient.leaseRevoke({ ID: leader.lease.id.toString() });
    const { at } = await pending;
    expect(at).toBeGreaterThanOrEqual(deadline);
  });

  it('a candidate of an empty election waits too when the last leader did not resign, and not when it did', async () => {
    const n = name();
    const first = await fx.client(TTL_SEC).election(n).campaign('a');
    const deadline = first.validUntil;
    await fx.raw.leaseClient.leaseRevoke({ ID: first.lease.id.toString() });
    const joinedAt = performance.now();
    const { term: second, at } = await timed(fx.client(TTL_SEC).election(n).campaign('b'));
    expect(at).toBeGreaterThanOrEqual(deadline);
    expect(at - joinedAt).toBeGreaterThanOrEqual(TTL_SEC * 1000 - 1);

    await second.resign();
    const rejoinedAt = performance.now();
    const { at: thirdAt } = await timed(fx.client(TTL_SEC).election(n).campaign('c'));
    expect(thirdAt - rejoinedAt).toBeLessThan(AT_ONCE_MS);
  });

  it('a longer TTL before a shorter one: what the shorter inherited is recorded, and its own successor waits it out', async () => {
    const n = name();
    const long = await fx.client(6).election(n).campaign('long');
    const short = fx.client(TTL_SEC);
    const giveUp = new AbortController();
    const pendingShort = short.election(n).campaign('short', { signal: giveUp.signal });
    pendingShort.catch(() => undefined);
    const [, shortCandidate] = await queued(short, n, 2);
    const longDeadline = long.validUntil;
    await fx.raw.delete().key(long.key).exec();
    // The short-TTL successor claims and records that it inherited the 6 s wait...
    await waitFor('the inherited wait recorded', async () => {
      const r = await record(n);
      return r?.state === 'leading' && r.token === shortCandidate!.token && r.holdMs === 6000;
    });
    // ...so a third candidate, once the second has left before leading, waits 6 s as well.
    const third = fx.client(TTL_SEC);
    const pendingThird = timed(third.election(n).campaign('third'));
    await queued(third, n, 2);
    giveUp.abort();
    await expect(pendingShort).rejects.toMatchObject({ code: 'ABORTED' });
    const { at } = await pendingThird;
    expect(at).toBeGreaterThanOrEqual(longDeadline);
  });

  it('a leader whose lease ran out on its own clock (a suspended machine) resigns, marked, before the revoke: no hold-off', async () => {
    const n = name();
    let skewMs = 0; // the leader's machine was suspended: both its clocks jump ahead of etcd's
    const clock = {
      ...systemClock,
      now: () => systemClock.now() + skewMs,
      wallNow: () => systemClock.wallNow() + skewMs,
    };
    const suspended = new LockedClient({ endpoints: fx.cluster.endpoints, ttl: TTL_SEC, clock });
    try {
      const leader = await suspended.election(n).campaign('a');
      const next = fx.client(TTL_SEC);
      const pending = timed(next.election(n).campaign('b'));
      await queued(next, n, 2);
      skewMs = 2 * TTL_SEC * 1000;
      const endedAt = performance.now();
      expect(leader.isValid()).toBe(false); // the lease is lost here; etcd still holds it
      const { at } = await pending;
      expect(at - endedAt).toBeLessThan(AT_ONCE_MS);
    } finally {
      await suspended.close();
    }
  });
});
