import { summarize, type ChaosSummary } from '../../test/harness/report.js';
import { runChaos, type Target } from '../../test/harness/runner.js';
import type { FaultKind } from '../../test/harness/faults.js';
import { label } from '../lib/labels.js';
import { table } from '../lib/markdown.js';
import type { Section } from '../lib/report.js';
import { fmt } from '../lib/stats.js';
import { barChart } from '../lib/svg.js';

/**
 * Scenario 8, split-brain under faults, through the safety harness of the
 * chaos suite (test/harness, used as is): the same seeded pause and cut faults
 * against locked (seed facade and withLeadership lanes) and npm etcd3's
 * Election, each on its own fresh 3-member etcd. The harness's checker counts
 * overlaps (two candidates leading at once, on the shared monotonic clock) and
 * terms still reported after etcd deleted their key.
 */
export const FAULT_KINDS: FaultKind[] = [
  'pause-leader-1ttl',
  'pause-leader-3ttl',
  'cut-leader-both',
  'cut-leader-up',
  'cut-leader-down',
];

export interface FaultsRow {
  readonly target: Target;
  readonly seed: number;
  readonly summary: ChaosSummary;
}

export async function measureFaults(options: {
  faults: number;
  seed: number;
  ttlSec: number;
  log: (line: string) => void;
}): Promise<FaultsRow[]> {
  const rows: FaultsRow[] = [];
  for (const target of ['locked', 'etcd3'] as Target[]) {
    const result = await runChaos({
      faults: options.faults,
      seed: options.seed,
      target,
      lanes: 2,
      candidatesPerLane: 3,
      ttlSec: options.ttlSec,
      kinds: FAULT_KINDS,
      runName: `bench${options.seed}`,
    });
    const summary = summarize(result);
    rows.push({ target, seed: options.seed, summary });
    options.log(
      `  faults ${target}: ${summary.faults} faults, ${summary.overlaps} overlaps (max ${fmt(summary.maxOverlapMs)} ms), ${summary.lateLeaders} late leaders, ${summary.recovered}/${summary.faults} recovered`,
    );
  }
  return rows;
}

export function faultsSection(rows: FaultsRow[], ttlSec: number): Section {
  const name = (t: Target): string => (t === 'locked' ? label('locked') : label('etcd3'));
  const ms = (v: number | null): string => (v === null ? '–' : fmt(v, 0));
  const body = rows.map((r) => [
    name(r.target),
    String(r.summary.faults),
    String(r.summary.terms),
    String(r.summary.overlaps),
    r.summary.overlaps ? ms(r.summary.maxOverlapMs) : '–',
    String(r.summary.lateLeaders),
    r.summary.lateLeaders ? ms(r.summary.maxLateMs) : '–',
    String(r.summary.tokenRegressions),
    `${r.summary.recovered} / ${r.summary.faults}`,
    `${ms(r.summary.recovery.p50)} / ${ms(r.summary.recovery.max)}`,
  ]);
  const kinds = [...new Set(rows.flatMap((r) => Object.keys(r.summary.byKind)))].sort();
  const byKind = kinds.map((k) => [
    k,
    ...rows.map((r) => {
      const s = r.summary.safetyByKind[k] ?? { overlaps: 0, lateLeaders: 0 };
      const n = r.summary.byKind[k]?.count ?? 0;
      return `${n} faults · ${s.overlaps} overlaps · ${s.lateLeaders} late`;
    }),
  ]);
  const seed = rows[0]?.seed ?? 0;
  return {
    id: '8-faults',
    title: '8. Split-brain under pause and cut faults',
    body: [
      `The chaos suite's harness (test/harness, \`runChaos\`), the same seeded sequence of faults (seed ${seed}) against each target on its own fresh 3-member etcd: 2 elections ("lanes") of 3 candidate processes each, TTL ${ttlSec} s; for locked one lane uses the seed facade (\`isSelected()\`) and one \`withLeadership\`. Faults: the leader's process paused (SIGSTOP) for 1× or 3× the TTL, or its connection to etcd cut (both ways, requests only, replies only). An **overlap** is two candidates leading at the same instant on the shared monotonic clock; a **late leader** is a term still reported after etcd deleted its key.`,
      '',
      table(
        [
          'implementation',
          'faults',
          'terms',
          'overlaps',
          'longest overlap ms',
          'late leaders',
          'latest ms',
          'token regressions',
          'recovered',
          'recovery p50 / max ms',
        ],
        body,
      ),
      '',
      table(['fault', ...rows.map((r) => name(r.target))], byKind),
      '',
      `Reproduce one side: \`npm run chaos -- --faults ${rows[0]?.summary.faults ?? 0} --seed ${seed} --lanes 2 --ttl ${ttlSec} --kinds ${FAULT_KINDS.join(',')} --target locked\` (or \`--target etcd3\`).`,
    ].join('\n'),
    svg: barChart({
      title: '8. Overlaps (two leaders at once) under the same faults',
      unit: 'overlaps',
      groups: [
        {
          bars: rows.map((r) => ({
            label: name(r.target),
            value: Math.max(r.summary.overlaps, 0.001),
            accent: r.target === 'locked',
            note: `${r.summary.overlaps} overlaps, ${r.summary.lateLeaders} late`,
          })),
        },
      ],
    }),
    headline: {
      'split-brain under pause/cut faults: overlaps / faults': Object.fromEntries(
        rows.map((r) => [r.target, `${r.summary.overlaps} / ${r.summary.faults}`]),
      ),
    },
    raw: rows,
  };
}
