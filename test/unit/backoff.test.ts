import { describe, expect, it } from 'vitest';
import { Backoff } from '../../src/core/backoff.js';

describe('Backoff', () => {
  it('grows exponentially to its cap, with full jitter, and resets', () => {
    const top = new Backoff(100, 1000, () => 0.999999);
    const seen = Array.from({ length: 6 }, () => Math.round(top.next()));
    expect(seen).toEqual([100, 200, 400, 800, 1000, 1000]);
    top.reset();
    expect(Math.round(top.next())).toBe(100);
  });

  it('never waits less than half the base', () => {
    const bottom = new Backoff(100, 1000, () => 0);
    expect(bottom.next()).toBe(50);
  });
});
