import { describe, expect, it } from 'vitest';
import { Lease } from '../../src/session/lease.js';
import { isLockedError } from '../../src/errors.js';
import { FakeClock } from './fake-clock.js';

function lease(clock: FakeClock, ttlSec = 2, sentAt = clock.now()): Lease {
  return new Lease(0x1234abn, ttlSec, sentAt, clock, 0.01, 50);
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
    const sentAt = clock.now() + 600;
    clock.advance(1_500); // the reply arrives 900 ms after the request was sent
    l.renewed(sentAt, 2);
    expect(l.validUntil).toBe(sentAt + 1980 - 50);
    clock.advance(sentAt + 1930 - clock.now() - 1);
    expect(l.isLive()).toBe(true);
    clock.advance(1);
    expect(l.isLive()).toBe(false);
  });

  it('an older reply never shortens the deadline', () => {
    const clock = new FakeClock();
    const l = lease(clock);
    l.renewed(clock.now() + 500, 2);
    const extended = l.validUntil;
    l.renewed(clock.now() + 100, 2);
    expect(l.validUntil).toBe(extended);
  });

  it('once ended it stays ended, whatever replies come later', () => {
    const clock = new FakeClock();
    const l = lease(clock);
    l.end('test');
    l.renewed(clock.now(), 60);
    expect(l.isLive()).toBe(false);
    expect(clock.pending).toBe(0);
  });
});
