import { describe, expect, it } from 'vitest';
import type { Candidate } from '../../src/election/candidates.js';
import { heirOf } from '../../src/election/preemption.js';
import {
  best,
  decodePriority,
  decodeRank,
  encodePriority,
  outranks,
  publishedRank,
  rankKey,
  rankQueue,
  type RankEntry,
} from '../../src/election/rank.js';

// Priorities are pure logic: the rank key's encoding (its string order is the
// numbers' order, so a key range is "every priority above p"), and the order
// in which candidates are served (priority, then first join).

const candidate = (token: bigint, leaseId: bigint): Candidate => ({
  key: `/e/${leaseId.toString(16)}`,
  token,
  modRevision: token,
  leaseId,
  value: '',
});
const rank = (leaseId: bigint, priority: number, since: bigint): RankEntry => ({
  key: rankKey('/e', priority, leaseId),
  leaseId,
  priority,
  since,
  preemptAfterMs: 1000,
});
const kv = (key: string, value: string, createRevision: number) => ({
  key: Buffer.from(key),
  value: Buffer.from(value),
  create_revision: String(createRevision),
  mod_revision: String(createRevision),
  version: '1',
  lease: '0',
});

describe('rank keys', () => {
  const numbers = [
    -Number.MAX_VALUE,
    -1e9,
    -2.5,
    -1,
    -Number.MIN_VALUE,
    0,
    Number.MIN_VALUE,
    0.5,
    1,
    2,
    1e9,
    Number.MAX_VALUE,
  ];

  it('encode priorities so that the strings sort as the numbers do, and decode back', () => {
    const encoded = numbers.map(encodePriority);
    expect([...encoded].sort()).toEqual(encoded);
    expect(new Set(encoded).size).toBe(numbers.length);
    for (const n of numbers) expect(decodePriority(encodePriority(n))).toBe(n);
    expect(encodePriority(-0)).toBe(encodePriority(0));
    expect(decodePriority('not hex at all!!')).toBeNull();
  });

  it('decode a rank key: the priority from its name, `since` from its value or else its create revision', () => {
    const own = decodeRank('/e', kv(rankKey('/e', 3, 0x1fn), '{"preemptAfterMs":250}', 40));
    expect(own).toMatchObject({ leaseId: 0x1fn, priority: 3, since: 40n, preemptAfterMs: 250 });
    const moved = decodeRank('/e', kv(rankKey('/e', 0, 0x2n), '{"preemptAfterMs":1000,"since":"12"}', 90));
    expect(moved).toMatchObject({ priority: 0, since: 12n });
    const unreadable = decodeRank('/e', kv(rankKey('/e', -1, 0x3n), 'garbage', 7));
    expect(unreadable).toMatchObject({ priority: -1, since: 7n, preemptAfterMs: 1000 });
    expect(decodeRank('/e', kv('/e.locked-rank/zz/1', '{}', 1) as never)).toBeNull();
  });

  it('a join publishes a rank key only for a priority other than 0, or after a step-aside', () => {
    expect(publishedRank('/e', { priority: 0, preemptAfterMs: 1000 }, 1n, null)).toBeNull();
    expect(publishedRank('/e', { priority: 2, preemptAfterMs: 1000 }, 1n, null)?.value).toBe('{"preemptAfterMs":1000}');
    expect(publishedRank('/e', { priority: 0, preemptAfterMs: 1000 }, 1n, 5n)?.value).toBe(
      '{"preemptAfterMs":1000,"since":"5"}',
    );
  });
});

describe('serving order', () => {
  it('a higher priority first; equal priorities by first join', () => {
    expect(outranks({ priority: 2, since: 9n }, { priority: 1, since: 1n })).toBe(true);
    expect(outranks({ priority: 1, since: 1n }, { priority: 1, since: 2n })).toBe(true);
    expect(outranks({ priority: 1, since: 2n }, { priority: 1, since: 2n })).toBe(false);
    expect(outranks({ priority: -1, since: 1n }, { priority: 0, since: 9n })).toBe(false);
  });

  it('candidates without a rank key rank 0 since their key; rank keys of candidates not queued are ignored', () => {
    const queue = [candidate(10n, 1n), candidate(11n, 2n), candidate(12n, 3n)];
    const ranked = rankQueue(queue, [rank(3n, 0, 5n), rank(9n, 100, 1n)]); // lease 9 has no candidate key
    expect(ranked.map((r) => [r.priority, r.since, r.published])).toEqual([
      [0, 10n, false],
      [0, 11n, false],
      [0, 5n, true], // stepped aside: keeps its first join
    ]);
    expect(best(ranked)?.candidate.token).toBe(12n);
    expect(best(ranked, 12n)?.candidate.token).toBe(10n);
  });

  it('a resignation names the next in line only if it is the best-ranked', () => {
    const queue = [candidate(10n, 1n), candidate(11n, 2n), candidate(12n, 3n)];
    expect(heirOf(rankQueue(queue, []), 10n)?.token).toBe(11n); // no priorities: as etcd's own order
    expect(heirOf(rankQueue(queue, [rank(3n, 1, 12n)]), 10n)).toBeNull(); // the best waits behind: none
    expect(heirOf(rankQueue(queue, [rank(2n, 1, 11n), rank(3n, 1, 12n)]), 10n)?.token).toBe(11n);
    expect(heirOf(rankQueue(queue.slice(0, 1), []), 10n)).toBeNull();
  });
});
