import { describe, expect, it } from 'vitest';
import { CampaignRetry } from '../../src/core/campaign-retry.js';
import { LockedError } from '../../src/errors.js';

// The retry policy of the seed node and `locked run` (pure logic; jitter fixed at its cap).
describe('CampaignRetry', () => {
  const unavailable = new LockedError('UNAVAILABLE', 'etcd unreachable');

  it('backs off from 100 ms, doubling, to min(5 s, TTL) on failures retrying can fix', () => {
    const retry = new CampaignRetry(2, () => 1);
    const waits = Array.from({ length: 7 }, () => retry.next({ kind: 'failed', error: unavailable }));
    expect(waits).toEqual([100, 200, 400, 800, 1600, 2000, 2000].map((afterMs) => ({ kind: 'again', afterMs })));
    expect(new CampaignRetry(60, () => 1).next({ kind: 'failed', error: unavailable })).toEqual({
      kind: 'again',
      afterMs: 100,
    });
  });

  it('a lost lease or key is retried like any transient failure', () => {
    const retry = new CampaignRetry(5, () => 1);
    expect(retry.next({ kind: 'failed', error: new LockedError('LEASE_LOST', 'gone') }).kind).toBe('again');
    expect(retry.next({ kind: 'failed', error: new LockedError('LEADERSHIP_LOST', 'gone') }).kind).toBe('again');
  });

  it('stops on a failure retrying cannot fix, with that error', () => {
    const denied = new LockedError('PERMISSION', 'permission denied');
    expect(new CampaignRetry(5, () => 1).next({ kind: 'failed', error: denied })).toEqual({
      kind: 'stop',
      error: denied,
    });
  });

  it('a term that ended within a TTL backs off; one that lasted a TTL starts the backoff over', () => {
    const retry = new CampaignRetry(2, () => 1);
    expect(retry.next({ kind: 'ended', heldMs: 500 })).toEqual({ kind: 'again', afterMs: 100 });
    expect(retry.next({ kind: 'ended', heldMs: 1_999 })).toEqual({ kind: 'again', afterMs: 200 });
    expect(retry.next({ kind: 'ended', heldMs: 2_000 })).toEqual({ kind: 'again', afterMs: 100 });
    expect(retry.next({ kind: 'failed', error: unavailable })).toEqual({ kind: 'again', afterMs: 200 });
    retry.reset();
    expect(retry.next({ kind: 'failed', error: unavailable })).toEqual({ kind: 'again', afterMs: 100 });
  });
});
