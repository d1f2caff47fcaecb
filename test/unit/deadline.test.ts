import { describe, expect, it } from 'vitest';
import { deadlineFrom, renewIntervalMs } from '../../src/session/deadline.js';

describe('deadlineFrom', () => {
  it('counts from the send time, scaled by the drift bound, minus the margin', () => {
    expect(deadlineFrom(1_000, 10, 0.01, 50)).toBe(1_000 + 9_900 - 50);
    expect(deadlineFrom(0, 2, 0, 0)).toBe(2_000);
  });

  it('a later send gives a later deadline; a reply time plays no part', () => {
    const early = deadlineFrom(100, 5, 0.01, 0);
    const late = deadlineFrom(200, 5, 0.01, 0);
    expect(late - early).toBe(100);
  });

  it('never reaches the lease expiry etcd can see (send + TTL) for any positive drift or margin', () => {
    for (const ttl of [2, 5, 10, 60]) {
      for (const drift of [0, 0.01, 0.1]) {
        for (const margin of [0, 50, 500]) {
          expect(deadlineFrom(0, ttl, drift, margin)).toBeLessThanOrEqual(ttl * 1000);
        }
      }
    }
  });
});

describe('renewIntervalMs', () => {
  it('renews three times per TTL', () => {
    expect(renewIntervalMs(3)).toBe(1000);
    expect(renewIntervalMs(10)).toBeCloseTo(3333.33, 1);
  });
});
