import { describe, expect, it } from 'vitest';
import { CLUSTER_FAULTS, LANE_FAULTS, isClusterFault, type FaultKind } from '../harness/faults.js';
import { checkFence, type FenceLogEntry, type FenceReport, type FenceSnapshot } from '../harness/fence.js';
import type { FencePhase } from '../harness/protocol.js';
import { Rng } from '../harness/rng.js';
import { planFaults } from '../harness/runner.js';

/** The harness's own pure parts: the fault plan and the fenced-counter checker (no etcd). */
describe('planFaults', () => {
  const all: FaultKind[] = [...LANE_FAULTS, ...CLUSTER_FAULTS];

  it('plans every kind once, in a seeded order, before drawing the rest', () => {
    for (const seed of [1, 2, 3, 42, 20261127]) {
      const plan = planFaults(new Rng(seed), 30, all, 0.12);
      expect(plan).toHaveLength(30);
      expect([...plan.slice(0, all.length)].sort()).toEqual([...all].sort());
      expect(planFaults(new Rng(seed), 30, all, 0.12)).toEqual(plan);
    }
    expect(planFaults(new Rng(1), 30, all, 0.12)).not.toEqual(planFaults(new Rng(2), 30, all, 0.12));
  });

  it('keeps the cluster share for the faults drawn after the first of each kind', () => {
    const plan = planFaults(new Rng(7), all.length + 2000, all, 0.12);
    const cluster = plan.slice(all.length).filter(isClusterFault).length;
    expect(cluster).toBeGreaterThan(2000 * 0.12 * 0.75);
    expect(cluster).toBeLessThan(2000 * 0.12 * 1.25);
    expect(planFaults(new Rng(7), 50, [...LANE_FAULTS], 0.5).some(isClusterFault)).toBe(false);
  });

  it('with fewer faults than kinds, plans distinct kinds; a kind listed twice is drawn more often', () => {
    const few = planFaults(new Rng(5), 4, all, 0.12);
    expect(new Set(few).size).toBe(4);
    const weighted = planFaults(new Rng(9), 3002, ['churn', 'kill-leader', 'churn'], 0);
    expect(weighted.slice(0, 2).sort()).toEqual(['churn', 'kill-leader']);
    const churn = weighted.slice(2).filter((k) => k === 'churn').length;
    expect(churn).toBeGreaterThan(1800);
    expect(() => planFaults(new Rng(1), 3, [], 0.1)).toThrow(RangeError);
  });
});

describe('checkFence', () => {
  /** A history: each write is (candidate, token, value, revision, outcome); the log holds the applied ones. */
  interface Write {
    readonly c: string;
    readonly token: number;
    readonly value: number;
    readonly rev: number;
    readonly outcome: Exclude<FencePhase, 'try'> | null;
    readonly applied: boolean;
  }
  const seqs = new Map<string, number>();
  function history(writes: Write[]): { reports: FenceReport[]; snapshot: FenceSnapshot } {
    seqs.clear();
    const reports: FenceReport[] = [];
    const log: FenceLogEntry[] = [];
    let at = 0;
    for (const w of writes) {
      const seq = (seqs.get(w.c) ?? 0) + 1;
      seqs.set(w.c, seq);
      const base = { t: 'fence' as const, candidate: w.c, token: String(w.token), value: w.value, seq };
      reports.push({ ...base, phase: 'try', at: at++ });
      if (w.outcome) {
        reports.push({
          ...base,
          phase: w.outcome,
          at: at++,
          ...(w.outcome === 'ok' ? { revision: String(w.rev) } : {}),
        });
      }
      if (w.applied) {
        log.push({
          value: w.value,
          token: String(w.token),
          candidate: w.c,
          seq,
          modRevision: String(w.rev),
          version: 1,
        });
      }
    }
    const counter = log.reduce((m, e) => Math.max(m, e.value), 0);
    return { reports, snapshot: { counter: counter || null, log, malformed: [], revision: '1000' } };
  }
  const ok = (c: string, token: number, value: number, rev: number): Write => ({
    c,
    token,
    value,
    rev,
    outcome: 'ok',
    applied: true,
  });

  it('passes an exact history, counting increments applied without a reply', () => {
    const { reports, snapshot } = history([
      ok('a', 10, 1, 100),
      ok('a', 10, 2, 101),
      { c: 'a', token: 10, value: 3, rev: 102, outcome: 'unknown', applied: true }, // reply lost, applied
      { c: 'a', token: 10, value: 4, rev: 0, outcome: 'refused', applied: false },
      { c: 'b', token: 20, value: 4, rev: 0, outcome: null, applied: false }, // killed in flight, not applied
      ok('b', 20, 4, 110),
      { c: 'b', token: 20, value: 5, rev: 111, outcome: null, applied: true }, // killed after it applied
    ]);
    const v = checkFence(reports, snapshot);
    expect(v.anomalies).toEqual([]);
    expect(v).toMatchObject({ ok: true, counter: 5, acknowledged: 3, appliedWithoutReply: 2, refused: 1, terms: 2 });
  });

  it('finds a lost increment, a doubled one, a gap and a count mismatch', () => {
    const lost = history([ok('a', 10, 1, 100), ok('a', 10, 2, 101)]);
    lost.snapshot = { ...lost.snapshot, log: lost.snapshot.log.slice(0, 1), counter: 1 };
    expect(checkFence(lost.reports, lost.snapshot).anomalies.map((a) => a.kind)).toContain('lost');

    const doubled = history([ok('a', 10, 1, 100), ok('b', 20, 1, 105)]);
    expect(checkFence(doubled.reports, doubled.snapshot).anomalies.map((a) => a.kind)).toContain('doubled');

    const overwritten = history([ok('a', 10, 1, 100)]);
    overwritten.snapshot = { ...overwritten.snapshot, log: [{ ...overwritten.snapshot.log[0]!, version: 2 }] };
    expect(checkFence(overwritten.reports, overwritten.snapshot).anomalies.map((a) => a.kind)).toContain('doubled');

    const gap = history([ok('a', 10, 1, 100), ok('a', 10, 2, 101)]);
    gap.snapshot = { ...gap.snapshot, counter: 3 };
    const kinds = checkFence(gap.reports, gap.snapshot).anomalies.map((a) => a.kind);
    expect(kinds).toContain('gap');
    expect(kinds).toContain('count');
  });

  it('finds a write by an earlier term after a later term had written (fencing failed)', () => {
    const { reports, snapshot } = history([ok('a', 10, 1, 100), ok('b', 20, 2, 110), ok('a', 10, 3, 120)]);
    const v = checkFence(reports, snapshot);
    expect(v.ok).toBe(false);
    expect(v.anomalies).toEqual([
      { kind: 'out-of-order', detail: expect.stringMatching(/term 10 wrote value 3 at revision 120, after term 20/) },
    ]);
  });

  it('finds an increment applied though refused, and one never attempted', () => {
    const refused = history([
      ok('a', 10, 1, 100),
      { c: 'a', token: 10, value: 2, rev: 101, outcome: 'conflict', applied: true },
    ]);
    expect(checkFence(refused.reports, refused.snapshot).anomalies.map((a) => a.kind)).toContain(
      'applied-though-refused',
    );

    const phantom = history([ok('a', 10, 1, 100), ok('a', 10, 2, 101)]);
    const reports = phantom.reports.filter((r) => !(r.seq === 2 && r.phase === 'try'));
    expect(checkFence(reports, phantom.snapshot).anomalies.map((a) => a.kind)).toEqual(['phantom']);
  });

  it('fails when etcd could not be read', () => {
    const v = checkFence([], { error: 'deadline exceeded' });
    expect(v.ok).toBe(false);
    expect(v.anomalies[0]!.kind).toBe('unreadable');
  });
});
