import { describe, expect, it } from 'vitest';
import { CLUSTER_FAULTS, LANE_FAULTS, isClusterFault, type FaultKind } from '../harness/faults.js';
import { Rng } from '../harness/rng.js';
import { planFaults } from '../harness/runner.js';

/** The harness's own pure parts (no etcd): the fault plan. */
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
