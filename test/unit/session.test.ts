import { describe, expect, it } from 'vitest';
import { Session } from '../../src/session/session.js';
import type { Lease } from '../../src/session/lease.js';
import { isLockedError, type LockedError } from '../../src/errors.js';
import { FakeClock } from './fake-clock.js';
import { FakeLeaseCalls, FakeStream, drain, pending } from './fake-transport.js';
import type { KeepAliveStream } from '../../src/transport/transport.js';

// The session's lease lifecycle on a fake clock and fake etcd calls: grant,
// renewals every ttl/3 measured from their send, the watchdog, the retry
// pause, loss and close. TTL 3 s: renewals every 1,000 ms, the watchdog after
// 500 ms; with the default drift 1 % and margin 50 ms a keepalive sent at t
// proves the lease until t + 2,920 ms.
const TTL = 3;

function setup(): { clock: FakeClock; calls: FakeLeaseCalls; session: Session; errors: LockedError[] } {
  const clock = new FakeClock();
  const calls = new FakeLeaseCalls();
  const session = new Session(calls, { ttlSec: TTL, driftRate: 0.01, marginMs: 50, clock });
  const errors: LockedError[] = [];
  session.errors.add((e) => errors.push(e));
  return { clock, calls, session, errors };
}

async function granted(s: ReturnType<typeof setup>): Promise<Lease> {
  const lease = await s.session.lease();
  await drain(); // the keepalive stream opens
  return lease;
}

describe('Session', () => {
  it('shares one grant among concurrent callers; the deadline counts from the grant request', async () => {
    const { clock, calls, session } = setup();
    calls.autoGrant = false;
    const sentAt = clock.now();
    const a = session.lease();
    const b = session.lease();
    expect(calls.grants).toHaveLength(1);
    expect(calls.grants[0]!.ttlSec).toBe(TTL);
    clock.advance(40); // the reply comes 40 ms later: it does not lengthen the lease
    calls.grants[0]!.call.resolve({ leaseId: 7n, ttlSec: TTL });
    const [la, lb] = await Promise.all([a, b]);
    expect(la).toBe(lb);
    expect(la.id).toBe(7n);
    expect(la.validUntil).toBe(sentAt + 2_920);
    expect(session.current()).toBe(la);
  });

  it('a failed grant is reported and rejects; the next call grants again', async () => {
    const s = setup();
    s.calls.autoGrant = false;
    const first = s.session.lease();
    s.calls.grants[0]!.call.reject(Object.assign(new Error('unavailable'), { code: 14 }));
    await expect(first).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(s.errors.map((e) => e.code)).toEqual(['UNAVAILABLE']);
    s.calls.autoGrant = true;
    await expect(s.session.lease()).resolves.toBeDefined();
    expect(s.calls.grants).toHaveLength(2);
  });

  it('opens the keepalive stream at once and renews every ttl/3, measured from each send', async () => {
    const s = setup();
    const renewals: { rttMs: number }[] = [];
    s.session.renewed.add((_l, r) => renewals.push(r));
    const lease = await granted(s);
    const stream = s.calls.stream;
    expect(stream.written).toEqual([{ ID: lease.id.toString() }]); // the first renewal goes with the stream
    s.clock.advance(10);
    stream.reply({ ID: lease.id.toString(), TTL: String(TTL) } as never);
    s.clock.advance(990);
    expect(stream.written).toHaveLength(2);
    const secondSentAt = s.clock.now();
    s.clock.advance(30);
    stream.reply({ ID: lease.id.toString(), TTL: String(TTL) } as never);
    expect(renewals.map((r) => r.rttMs)).toEqual([10, 30]);
    expect(lease.validUntil).toBe(secondSentAt + 2_920);
    s.clock.advance(970);
    expect(stream.written).toHaveLength(3);
    expect(s.calls.streams).toHaveLength(1); // one stream for every renewal
  });

  it('a keepalive unanswered for half an interval: the stream is dropped, reported, and reopened after a jittered pause', async () => {
    const s = setup();
    s.clock.randomValue = 0.25; // pause = 50 + 0.25 × 200 = 100 ms
    const lease = await granted(s);
    const first = s.calls.stream;
    first.reply({ TTL: String(TTL) } as never);
    s.clock.advance(1_000); // second keepalive sent, unanswered
    s.clock.advance(499);
    expect(first.cancelled).toBe(false);
    s.clock.advance(1);
    expect(first.cancelled).toBe(true);
    expect(s.errors.map((e) => [e.code, e.message])).toEqual([['UNAVAILABLE', 'no keepalive reply within 500 ms']]);
    s.clock.advance(99);
    await drain();
    expect(s.calls.streams).toHaveLength(1);
    s.clock.advance(1);
    await drain();
    expect(s.calls.streams).toHaveLength(2);
    expect(s.calls.stream.written).toEqual([{ ID: lease.id.toString() }]); // resent at once on the new stream
    expect(lease.isLive()).toBe(true);
  });

  it('a watchdog that fires late (the event loop was blocked) gives the request one more window', async () => {
    const s = setup();
    await granted(s);
    const stream = s.calls.stream;
    s.clock.jump(800); // blocked: the watchdog, due at +500, runs at +800
    s.clock.advance(0);
    expect(stream.cancelled).toBe(false);
    stream.reply({ TTL: String(TTL) } as never); // the reply that was waiting in the socket
    s.clock.advance(600);
    expect(stream.cancelled).toBe(false);
    expect(s.errors).toEqual([]);
  });

  it('a failed stream is reported and reopened after the pause; a failed open is retried the same way', async () => {
    const s = setup();
    s.clock.randomValue = 0; // pause = 50 ms
    await granted(s);
    s.calls.autoOpen = false;
    s.calls.stream.fail(Object.assign(new Error('connection reset'), { code: 14 }));
    expect(s.calls.stream.cancelled).toBe(true);
    s.clock.advance(50);
    expect(s.calls.keepAliveOpens).toHaveLength(2);
    s.calls.keepAliveOpens[1]!.reject(Object.assign(new Error('no connection'), { code: 14 }));
    await drain();
    s.clock.advance(50);
    expect(s.calls.keepAliveOpens).toHaveLength(3);
    s.calls.keepAliveOpens[2]!.resolve(new FakeStream() as unknown as KeepAliveStream);
    await drain();
    expect(s.calls.stream.written).toHaveLength(1);
    expect(s.errors.map((e) => e.code)).toEqual(['UNAVAILABLE', 'UNAVAILABLE']);
  });

  it('a lease etcd reports expired ends (LEASE_LOST); its terms stop first, then it is revoked; the next call grants anew', async () => {
    const s = setup();
    const lease = await granted(s);
    const order: string[] = [];
    const resigned = pending<void>();
    lease.onBeforeRevoke(() => {
      order.push('terms resign');
      return resigned.promise;
    });
    s.calls.stream.reply({ TTL: '0' } as never);
    expect(isLockedError(lease.signal.reason, 'LEASE_LOST')).toBe(true);
    expect(s.session.current()).toBeNull();
    expect(s.calls.stream.cancelled).toBe(true);
    await drain();
    expect(s.calls.revokes).toHaveLength(0); // not before its terms have told etcd
    resigned.resolve();
    await drain();
    expect(s.calls.revokes.map((r) => r.leaseId)).toEqual([lease.id]);
    expect(order).toEqual(['terms resign']);
    const next = await s.session.lease();
    expect(next.id).not.toBe(lease.id);
  });

  it('with no reply the lease ends at its deadline, and no keepalive is sent for it after that', async () => {
    const s = setup();
    s.clock.randomValue = 0;
    const lease = await granted(s);
    s.calls.autoOpen = false; // every reopen hangs
    s.clock.advance(2_919);
    expect(lease.isLive()).toBe(true);
    s.clock.advance(1);
    expect(lease.signal.aborted).toBe(true);
    await drain();
    expect(s.calls.revokes.map((r) => r.leaseId)).toEqual([lease.id]);
    const opens = s.calls.keepAliveOpens.length;
    s.clock.advance(10_000);
    expect(s.calls.keepAliveOpens).toHaveLength(opens);
  });

  it('close(): the terms resign first, then the lease is revoked, then the stream is cancelled; once', async () => {
    const s = setup();
    const lease = await granted(s);
    const order: string[] = [];
    const resigned = pending<void>();
    s.session.beforeClose(() => {
      order.push('resign');
      return resigned.promise;
    });
    s.calls.autoRevoke = false;
    let closedEvents = 0;
    s.session.closed.add(() => closedEvents++);
    const closing = s.session.close();
    expect(s.session.close()).toBe(closing);
    await expect(s.session.lease()).rejects.toMatchObject({ code: 'CLOSED' });
    s.calls.stream.reply({ TTL: String(TTL) } as never);
    s.clock.advance(1_000); // still renewing while its terms resign
    expect(s.calls.stream.written).toHaveLength(2);
    resigned.resolve();
    await drain();
    expect(s.calls.revokes.map((r) => r.leaseId)).toEqual([lease.id]);
    expect(lease.signal.aborted).toBe(true);
    expect(s.calls.stream.cancelled).toBe(false); // the revoke goes first
    s.calls.revokes[0]!.call.resolve();
    await closing;
    expect(s.calls.stream.cancelled).toBe(true);
    expect(closedEvents).toBe(1);
    expect(order).toEqual(['resign']);
    s.clock.advance(10_000);
    expect(s.calls.stream.written).toHaveLength(2);
  });

  it('a grant answered after close() is revoked at once and rejects CLOSED', async () => {
    const s = setup();
    s.calls.autoGrant = false;
    const asked = s.session.lease();
    await s.session.close();
    s.calls.grants[0]!.call.resolve({ leaseId: 9n, ttlSec: TTL });
    await expect(asked).rejects.toMatchObject({ code: 'CLOSED' });
    expect(s.calls.revokes.map((r) => r.leaseId)).toEqual([9n]);
    expect(s.calls.streams).toHaveLength(0);
  });
});
