import { describe, expect, it } from 'vitest';
import { Term } from '../../src/election/term.js';
import { Lease } from '../../src/session/lease.js';
import type { CandidateReads } from '../../src/election/candidates.js';
import type { ConfirmedKey, TermConfirmations } from '../../src/election/term-confirmations.js';
import type { Transport } from '../../src/transport/transport.js';
import type { WatchHub } from '../../src/transport/watch-hub.js';
import { isLockedError } from '../../src/errors.js';
import { FakeClock } from './fake-clock.js';
import { instant } from '../../src/core/clock.js';

// The term's signal is the contract of withLeadership: it must never read as
// "still leading" after the deadline, even when user code runs before the
// deadline timer (a resumed process runs due timers in order). Pure logic:
// the etcd parts are inert stand-ins; nothing here talks to etcd.
function term(clock: FakeClock): { term: Term; lease: Lease; confirmations: ConfirmedKey[] } {
  const lease = new Lease(0xabcn, 2, instant(clock), clock, 0.01, 50);
  const hub = { watch: () => ({ cancel: () => undefined }) } as unknown as WatchHub;
  const registered: ConfirmedKey[] = [];
  const confirmations = {
    add: (k: ConfirmedKey) => {
      registered.push(k);
      return () => undefined;
    },
    inFlight: () => null,
  } as unknown as TermConfirmations;
  // A resignation's write succeeds (as an ordinary call: no call is parked); nobody is next in line.
  const transport = {
    txn: () => Promise.resolve({ succeeded: true, responses: [] }),
    parkTxn: () => null,
  } as unknown as Transport;
  const reads = { name: '/e', next: () => Promise.resolve(null) } as unknown as CandidateReads;
  const deps = { transport, hub, reads, clock, confirmations };
  const candidate = {
    key: '/e/abc',
    token: 7n,
    value: 'v',
    lease,
    rank: { priority: 0, key: null, preemptAfterMs: 1000 },
  };
  const t = new Term(deps, candidate, {
    revision: 7n,
    until: lease.provenUntil(),
    ranks: { entries: [], revision: 7n },
  });
  return { term: t, lease, confirmations: registered };
}

describe('Term signal', () => {
  it('reads as aborted after a pause past the deadline, before any timer has run', () => {
    const clock = new FakeClock();
    const { term: t } = term(clock);
    const fired: string[] = [];
    t.signal.addEventListener('abort', () => fired.push('abort'));
    expect(t.signal.aborted).toBe(false);
    clock.jump(3_000); // paused; the deadline timer has not run
    expect(fired).toEqual([]);
    expect(t.signal.aborted).toBe(true); // reading it checks the deadline...
    expect(fired).toEqual(['abort']); // ...and fires the listeners at once
    expect(isLockedError(t.signal.reason, 'LEADERSHIP_LOST')).toBe(true);
    expect(() => t.signal.throwIfAborted()).toThrow(/term 7 ended/);
  });

  it('isValid() ends the term the same way, and the deadline timer does it when the process runs', () => {
    const clock = new FakeClock();
    const paused = term(clock).term;
    clock.jump(3_000);
    expect(paused.isValid()).toBe(false);
    expect(paused.signal.aborted).toBe(true);

    const running = term(clock).term;
    clock.advance(1_929);
    expect(running.isValid()).toBe(true);
    clock.advance(1);
    expect(running.signal.aborted).toBe(true);
  });

  it('ends with the lease and stays ended', () => {
    const clock = new FakeClock();
    const { term: t, lease } = term(clock);
    lease.end('revoked');
    expect(t.signal.aborted).toBe(true);
    lease.renewed(instant(clock), 60);
    expect(t.isValid()).toBe(false);
  });

  it('moves its deadline with a confirmation of its key, not with a keepalive alone', () => {
    const clock = new FakeClock();
    const { term: t, lease } = term(clock);
    const renewals: number[] = [];
    t.onRenewed(() => renewals.push(clock.now()));
    clock.advance(1_000);
    lease.renewed(instant(clock), 2); // the lease is proven until ~2.93 s from now...
    expect(lease.validUntil).toBeGreaterThan(t.validUntil);
    clock.advance(929); // ...but the term, never confirmed since, ends at its own deadline
    expect(t.isValid()).toBe(true);
    clock.advance(1);
    expect(t.isValid()).toBe(false);
    expect(renewals).toEqual([]);

    const { term: confirmed, lease: lease2, confirmations } = term(clock);
    const confirmedKey = confirmations[0]!; // what the session's confirmations see of the term
    const moved: number[] = [];
    confirmed.onRenewed(() => moved.push(clock.now()));
    clock.advance(1_000);
    lease2.renewed(instant(clock), 2);
    confirmedKey.confirmed(lease2.provenUntil(), null, []);
    expect(moved).toEqual([clock.now()]);
    expect(confirmed.validUntil).toBe(lease2.validUntil);
    clock.advance(1_500);
    expect(confirmed.isValid()).toBe(true);
    confirmedKey.lost('leader key /e/abc is gone');
    expect(confirmed.isValid()).toBe(false);
  });

  it('is created on first use: a term that ended before anyone asked gives an aborted signal with the reason', async () => {
    const clock = new FakeClock();
    const { term: t } = term(clock);
    const ended: string[] = [];
    t.onEnd(() => ended.push('first'));
    const resigned = t.resign(); // ends the term before anything is sent
    expect(ended).toEqual(['first']);
    expect(t.signal.aborted).toBe(true);
    expect(String((t.signal.reason as Error).message)).toMatch(/term 7 ended: resigned/);
    t.onEnd(() => ended.push('late')); // registered after the end: still called, once
    await Promise.resolve();
    expect(ended).toEqual(['first', 'late']);
    await resigned;
  });

  it('a signal created before a pause still checks the deadline, and is an AbortSignal to the platform', () => {
    const clock = new FakeClock();
    const { term: t } = term(clock);
    const signal = t.signal;
    expect(signal).toBeInstanceOf(AbortSignal);
    const linked = AbortSignal.any([signal]);
    expect(linked.aborted).toBe(false);
    clock.jump(3_000);
    expect(signal.aborted).toBe(true);
    expect(linked.aborted).toBe(true);
    expect(t.signal).toBe(signal);
  });
});
