import { describe, expect, it } from 'vitest';
import type { CandidateReads } from '../../src/election/candidates.js';
import { Preemption } from '../../src/election/preemption.js';
import { rankKey, type RankEntry } from '../../src/election/rank.js';
import type { Transport } from '../../src/transport/transport.js';
import { FakeClock } from './fake-clock.js';

// Whether a leader's resignation reads the queue to name its heir by rank: only when its own priority
// is not 0 or it knows of another one. No one setting a priority costs nothing.
const rank = (leaseId: bigint, priority: number): RankEntry => ({
  key: rankKey('/e', priority, leaseId),
  leaseId,
  priority,
  since: leaseId,
  preemptAfterMs: 1000,
});

function preemption(priority: number, seen: RankEntry[]): Preemption {
  const reads = { name: '/e' } as unknown as CandidateReads;
  const term = { token: 7n, leaseId: 1n, priority, rankKey: null, preemptAfterMs: 1000, ttlMs: 2000 };
  const deps = { reads, clock: new FakeClock(), transport: {} as Transport };
  return new Preemption(deps, term, { entries: seen, revision: 7n }, () => Promise.resolve());
}

describe('Preemption.inUse', () => {
  it('is false with no rank keys at a priority of 0, true at any other priority', () => {
    expect(preemption(0, []).inUse).toBe(false);
    expect(preemption(0, [rank(2n, 0)]).inUse).toBe(false); // a candidate at 0 that made way once
    expect(preemption(5, [rank(1n, 5)]).inUse).toBe(true);
  });

  it('is true once a rank key of another priority was seen, at the turn or at a renewal', () => {
    expect(preemption(0, [rank(2n, 0), rank(3n, -1)]).inUse).toBe(true);
    const p = preemption(0, []);
    p.saw([rank(2n, 0)]);
    expect(p.inUse).toBe(false);
    p.saw([rank(3n, 1)]);
    expect(p.inUse).toBe(true);
  });

  it('is true once someone asked the leader to hand over (a touch of its key)', () => {
    const p = preemption(0, []);
    p.stop(); // no decision: only what it knows
    p.written(9n);
    expect(p.inUse).toBe(true);
    const own = preemption(0, []);
    own.written(7n); // the join's own revision: not an ask
    expect(own.inUse).toBe(false);
  });
});
