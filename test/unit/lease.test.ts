import { describe, expect, it } from 'vitest';
import { Lease } from '../../src/session/lease.js';
import { isLockedError } from '../../src/errors.js';
import { FakeClock } from './fake-clock.js';
import { instant, type Instant } from '../../src/core/clock.js';

function lease(clock: FakeClock, ttlSec = 2): Lease {
  return new Lease(0x1234abn, ttlSec, instant(clock), clock, 0.01, 50);
}

/** The instant `offsetMs` after now, on both clocks. */
function at(clock: FakeClock, offsetMs: number): Instant {
  return { mono: clock.now() + offsetMs, wall: clock.wallNow() + offsetMs };
}

describe('Lease', () => {
  it('names itself in lower-case hex like Go election keys', () => {
    expect(lease(new FakeClock()).hex).toBe('1234ab');
  });

  it('is live until send time + TTL x (1 - drift) - margin, then its signal aborts by timer', () => {
    const clock = new FakeClock();
    const l = lease(clock);
    expect(l.validUntil).toBe(clock.now() + 1980 - 50);
    clock.advance(1929);
    expect(l.isLive()).toBe(true);
    expect(l.signal.aborted).toBe(false);
    clock.advance(1);
    expect(l.isLive()).toBe(false);
    expect(l.signal.aborted).toBe(true);
    expect(isLockedError(l.signal.reason, 'LEASE_LOST')).toBe(true);
  });

  it('answers false at once after a pause, before any timer has run', () => {
    const clock = new FakeClock();
    const l = lease(clock);
    clock.jump(5_000); // the process was stopped; no timer ran
    expect(l.signal.aborted).toBe(false);
    expect(l.isLive()).toBe(false);
  });

  it('a renewal extends from the keepalive send time, not from the reply', () => {
    const clock = new FakeClock();
    const l = lease(clock);
    const sentAt = at(clock, 600);
    clock.advance(1_500); // the reply arrives 900 ms after the request was sent
    l.renewed(sentAt, 2);
    expect(l.validUntil).toBe(sentAt.mono + 1980 - 50);
    clock.advance(sentAt.mono + 1930 - clock.now() - 1);
    expect(l.isLive()).toBe(true);
    clock.advance(1);
    expect(l.isLive()).toBe(false);
  });

  it('is not live after a suspend that stopped the monotonic clock but not the wall clock', () => {
    const clock = new FakeClock();
    const l = lease(clock);
    clock.advance(500);
    clock.suspend(10_000); // a VM or laptop suspend: performance.now() did not move
    expect(l.isLive()).toBe(false);
    expect(l.signal.aborted).toBe(true);
  });

  it('an older reply never shortens the deadline', () => {
    const clock = new FakeClock();
    const l = lease(clock);
    l.renewed(at(clock, 500), 2);
    const extended = l.validUntil;
    l.renewed(at(clock, 100), 2);
    expect(l.validUntil).toBe(extended);
  });

  it('once ended it stays ended, whatever replies come later', () => {
    const clock = new FakeClock();
    const l = lease(clock);
    l.end('test');
    l.renewed(at(clock, 0), 60);
    expect(l.isLive()).toBe(false);
    expect(clock.pending).toBe(0);
  });
});
