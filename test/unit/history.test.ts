import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  LeadershipRecorder,
  checkAgainstDeletions,
  MISSING_TOKEN,
  checkHistory,
  sharedNow,
  type LeadershipInterval,
} from '../../src/testing/history.js';

const iv = (candidate: string, token: string, startMs: number, endMs: number): LeadershipInterval => ({
  candidate,
  token,
  startMs,
  endMs,
});

describe('sharedNow', () => {
  it('is one monotonic clock for every process of the machine', () => {
    const before = sharedNow();
    const child = execFileSync(process.execPath, ['-e', 'console.log(Number(process.hrtime.bigint()) / 1e6)'], {
      encoding: 'utf8',
    });
    const after = sharedNow();
    const inChild = Number(child.trim());
    expect(inChild).toBeGreaterThanOrEqual(before);
    expect(inChild).toBeLessThanOrEqual(after);
  });
});

describe('LeadershipRecorder', () => {
  it('turns runs of true samples into intervals ending at the last true sample', () => {
    const r = new LeadershipRecorder();
    r.sample('a', false, null, 0);
    r.sample('a', true, '5', 10);
    r.sample('a', true, '5', 20);
    r.sample('a', true, '5', 30);
    r.sample('a', false, null, 45);
    r.sample('b', false, null, 40);
    r.sample('b', true, '9', 50);
    r.sample('b', true, '9', 60);
    expect(r.intervals()).toEqual([iv('a', '5', 10, 30), iv('b', '9', 50, 60)]);
    expect(r.isOpen('b')).toBe(true);
    expect(r.isOpen('a')).toBe(false);
    expect(r.samples).toBe(8);
    expect(r.candidates().sort()).toEqual(['a', 'b']);
  });

  it('starts a new interval when the token changes without a false sample', () => {
    const r = new LeadershipRecorder();
    r.sample('a', true, '5', 10);
    r.sample('a', true, '5', 20);
    r.sample('a', true, '7', 30);
    expect(r.intervals()).toEqual([iv('a', '5', 10, 20), iv('a', '7', 30, 30)]);
  });

  it('records a leader without a token as malformed for the checker', () => {
    const r = new LeadershipRecorder();
    r.sample('a', true, null, 10);
    const verdict = checkHistory(r.intervals());
    expect(r.intervals()[0]?.token).toBe(MISSING_TOKEN);
    expect(verdict.ok).toBe(false);
    expect(verdict.malformed).toHaveLength(1);
  });

  it('cuts the history at nowMs', () => {
    const r = new LeadershipRecorder();
    r.sample('a', true, '1', 10);
    r.sample('a', true, '1', 50);
    r.sample('b', true, '2', 60);
    expect(r.intervals(30)).toEqual([iv('a', '1', 10, 30)]);
  });

  it('rejects samples of one candidate out of time order', () => {
    const r = new LeadershipRecorder();
    r.sample('a', true, '1', 10);
    expect(() => r.sample('a', true, '1', 5)).toThrow(RangeError);
    r.sample('b', true, '2', 5);
  });
});

describe('checkHistory', () => {
  it('accepts a clean history of handovers', () => {
    const verdict = checkHistory([
      iv('a', '5', 0, 100),
      iv('b', '8', 100.5, 200),
      iv('a', '12', 250, 300),
      iv('c', '13', 301, 400),
    ]);
    expect(verdict).toEqual({ ok: true, intervals: 4, terms: 4, overlaps: [], tokenRegressions: [], malformed: [] });
  });

  it('accepts an empty history', () => {
    expect(checkHistory([]).ok).toBe(true);
  });

  it('finds an overlap between two candidates and measures it', () => {
    const verdict = checkHistory([iv('a', '5', 0, 100), iv('b', '8', 60, 200)]);
    expect(verdict.ok).toBe(false);
    expect(verdict.overlaps).toEqual([{ a: iv('a', '5', 0, 100), b: iv('b', '8', 60, 200), overlapMs: 40 }]);
    expect(verdict.tokenRegressions).toEqual([]);
  });

  it('counts touching ends and single samples inside another interval as overlaps', () => {
    const touching = checkHistory([iv('a', '5', 0, 100), iv('b', '8', 100, 200)]);
    expect(touching.overlaps).toHaveLength(1);
    expect(touching.overlaps[0]?.overlapMs).toBe(0);
    const point = checkHistory([iv('a', '5', 0, 100), iv('b', '8', 50, 50)]);
    expect(point.overlaps).toHaveLength(1);
  });

  it('finds an interval nested in a long one, whatever the input order', () => {
    const verdict = checkHistory([iv('c', '9', 120, 130), iv('a', '5', 0, 500), iv('b', '7', 10, 20)]);
    expect(verdict.overlaps.map((o) => [o.a.candidate, o.b.candidate])).toEqual([
      ['a', 'b'],
      ['a', 'c'],
    ]);
  });

  it('does not count a candidate overlapping itself', () => {
    const verdict = checkHistory([iv('a', '5', 0, 100), iv('a', '6', 100, 200)]);
    expect(verdict.overlaps).toEqual([]);
    expect(verdict.ok).toBe(true);
  });

  it('finds a token that goes back', () => {
    const verdict = checkHistory([iv('a', '10', 0, 100), iv('b', '7', 150, 200), iv('c', '11', 250, 300)]);
    expect(verdict.ok).toBe(false);
    expect(verdict.tokenRegressions).toEqual([{ previous: iv('a', '10', 0, 100), next: iv('b', '7', 150, 200) }]);
  });

  it('finds a token reused by another candidate', () => {
    const verdict = checkHistory([iv('a', '10', 0, 100), iv('b', '10', 150, 200)]);
    expect(verdict.tokenRegressions).toHaveLength(1);
  });

  it('compares tokens as integers, not strings', () => {
    const verdict = checkHistory([
      iv('a', '9', 0, 100),
      iv('b', '10', 150, 200),
      iv('c', '100000000000000000001', 250, 260),
    ]);
    expect(verdict.ok).toBe(true);
  });

  it('merges a term seen twice with no one between, but not around another term', () => {
    const same = checkHistory([iv('a', '5', 0, 100), iv('a', '5', 120, 200)]);
    expect(same.terms).toBe(1);
    expect(same.ok).toBe(true);
    const resumed = checkHistory([iv('a', '5', 0, 100), iv('b', '8', 120, 200), iv('a', '5', 220, 230)]);
    expect(resumed.terms).toBe(3);
    expect(resumed.tokenRegressions).toEqual([{ previous: iv('b', '8', 120, 200), next: iv('a', '5', 220, 230) }]);
  });

  it('judges the recorder output end to end', () => {
    const r = new LeadershipRecorder();
    for (let t = 0; t <= 100; t += 5) r.sample('a', t < 50, t < 50 ? '3' : null, t);
    for (let t = 1; t <= 101; t += 5) r.sample('b', t > 60, t > 60 ? '4' : null, t);
    const verdict = checkHistory(r.intervals());
    expect(verdict).toMatchObject({ ok: true, intervals: 2, terms: 2 });
  });
});

describe('checkAgainstDeletions', () => {
  it('accepts terms that ended before their key was deleted', () => {
    const deleted = new Map([
      ['5', 101],
      ['8', 300],
    ]);
    expect(
      checkAgainstDeletions([iv('a', '5', 0, 100), iv('b', '8', 150, 200), iv('c', '9', 310, 400)], deleted),
    ).toEqual([]);
  });

  it('finds a leader that still led after etcd deleted its key', () => {
    const deleted = new Map([['5', 100]]);
    expect(checkAgainstDeletions([iv('a', '5', 0, 160)], deleted)).toEqual([
      { interval: iv('a', '5', 0, 160), deletedAtMs: 100, lateMs: 60 },
    ]);
  });
});
