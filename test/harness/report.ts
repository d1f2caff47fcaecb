import type { ChaosResult, FaultRecord } from './runner.js';

/**
 * The judgement of a chaos run and its two renderings: JSON (everything) and a
 * markdown summary (faults by kind, terms, overlaps, token regressions,
 * recovery p50 / p99 / max).
 */
export interface RecoveryStats {
  readonly count: number;
  readonly recovered: number;
  readonly p50: number | null;
  readonly p99: number | null;
  readonly max: number | null;
}

export interface ChaosSummary {
  readonly ok: boolean;
  readonly faults: number;
  readonly recovered: number;
  readonly unrecovered: number;
  readonly intervals: number;
  readonly terms: number;
  readonly overlaps: number;
  readonly maxOverlapMs: number;
  readonly tokenRegressions: number;
  readonly malformed: number;
  /** Terms still reported after etcd had deleted their key, and the worst delay. */
  readonly lateLeaders: number;
  readonly maxLateMs: number;
  readonly recovery: RecoveryStats;
  readonly byKind: Record<string, RecoveryStats>;
  /** Overlaps and late leaders by the kind of fault in progress when they happened ('-': none). */
  readonly safetyByKind: Record<string, { overlaps: number; lateLeaders: number }>;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export function recoveryStats(records: FaultRecord[]): RecoveryStats {
  const times = records
    .map((r) => r.recoveryMs)
    .filter((ms): ms is number => ms !== null)
    .sort((a, b) => a - b);
  return {
    count: records.length,
    recovered: records.filter((r) => r.recovered).length,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    max: times.length > 0 ? times[times.length - 1]! : null,
  };
}

export function summarize(result: ChaosResult): ChaosSummary {
  const verdicts = result.lanes.map((l) => l.verdict);
  const byKind: Record<string, RecoveryStats> = {};
  const kinds = [...new Set(result.faults.map((f) => f.kind))].sort();
  for (const kind of kinds) byKind[kind] = recoveryStats(result.faults.filter((f) => f.kind === kind));
  const overlaps = verdicts.flatMap((v) => v.overlaps);
  const recovery = recoveryStats(result.faults);
  const tokenRegressions = verdicts.reduce((n, v) => n + v.tokenRegressions.length, 0);
  const malformed = verdicts.reduce((n, v) => n + v.malformed.length, 0);
  const late = result.lanes.flatMap((l) => l.lateLeaders);
  return {
    ok:
      overlaps.length === 0 &&
      tokenRegressions === 0 &&
      malformed === 0 &&
      late.length === 0 &&
      recovery.recovered === recovery.count,
    faults: result.faults.length,
    recovered: recovery.recovered,
    unrecovered: recovery.count - recovery.recovered,
    intervals: verdicts.reduce((n, v) => n + v.intervals, 0),
    terms: verdicts.reduce((n, v) => n + v.terms, 0),
    overlaps: overlaps.length,
    maxOverlapMs: overlaps.reduce((m, o) => Math.max(m, o.overlapMs), 0),
    tokenRegressions,
    malformed,
    lateLeaders: late.length,
    maxLateMs: late.reduce((m, l) => Math.max(m, l.lateMs), 0),
    recovery,
    byKind,
    safetyByKind: safetyByKind(result),
  };
}

export function safetyByKind(result: ChaosResult): Record<string, { overlaps: number; lateLeaders: number }> {
  const out: Record<string, { overlaps: number; lateLeaders: number }> = {};
  const entry = (kind: string): { overlaps: number; lateLeaders: number } =>
    (out[kind] ??= { overlaps: 0, lateLeaders: 0 });
  for (const lane of result.lanes) {
    for (const o of lane.verdict.overlaps)
      entry(faultAt(result.faults, lane.name, o.b.startMs)?.kind ?? '-').overlaps++;
    for (const l of lane.lateLeaders)
      entry(faultAt(result.faults, lane.name, l.interval.endMs)?.kind ?? '-').lateLeaders++;
  }
  return out;
}

const ms = (v: number | null): string => (v === null ? '–' : `${Math.round(v)}`);

export function renderMarkdown(result: ChaosResult, summary: ChaosSummary, command: string): string {
  const lines: string[] = [];
  lines.push(`# Chaos run: target \`${result.target}\`, seed ${result.seed}`);
  lines.push('');
  lines.push(`Command: \`${command}\``);
  lines.push('');
  lines.push(
    `Started ${result.startedAt}, ran ${(result.durationMs / 60000).toFixed(1)} min. TTL ${result.ttlSec} s; ` +
      `recovery bound (ttl + 2 s) ${result.recoveryBoundMs} ms. ` +
      (result.experiment ? `Experiment: ${result.experiment}. ` : '') +
      'Lanes: ' +
      result.lanes.map((l) => `${l.name} (${l.mode})`).join(', ') +
      '.',
  );
  lines.push('');
  lines.push(`**Verdict: ${summary.ok ? 'PASS' : 'FAIL'}**`);
  lines.push('');
  lines.push('| | |');
  lines.push('|---|---|');
  lines.push(`| faults | ${summary.faults} |`);
  lines.push(`| recovered within bound | ${summary.recovered} |`);
  lines.push(`| not recovered within bound | ${summary.unrecovered} |`);
  lines.push(`| leadership terms | ${summary.terms} (${summary.intervals} intervals) |`);
  lines.push(
    `| overlaps (split brain) | ${summary.overlaps}${summary.overlaps ? ` (longest ${ms(summary.maxOverlapMs)} ms)` : ''} |`,
  );
  lines.push(`| token regressions | ${summary.tokenRegressions} |`);
  lines.push(`| leaders without a token | ${summary.malformed} |`);
  lines.push(
    `| leading after etcd deleted the key | ${summary.lateLeaders}${summary.lateLeaders ? ` (longest ${ms(summary.maxLateMs)} ms)` : ''} |`,
  );
  lines.push(
    `| recovery p50 / p99 / max (ms) | ${ms(summary.recovery.p50)} / ${ms(summary.recovery.p99)} / ${ms(summary.recovery.max)} |`,
  );
  lines.push('');
  lines.push('## Faults by kind');
  lines.push('');
  lines.push('| kind | faults | overlaps | late leaders | recovered | p50 ms | p99 ms | max ms |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [kind, s] of Object.entries(summary.byKind)) {
    const safety = summary.safetyByKind[kind] ?? { overlaps: 0, lateLeaders: 0 };
    lines.push(
      `| ${kind} | ${s.count} | ${safety.overlaps} | ${safety.lateLeaders} | ${s.recovered} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} |`,
    );
  }
  lines.push('');
  lines.push('## Lanes');
  lines.push('');
  lines.push('| lane | mode | terms | overlaps | token regressions | late leaders | errors seen by candidates |');
  lines.push('|---|---|---:|---:|---:|---:|---|');
  for (const lane of result.lanes) {
    const errors = Object.entries(lane.errors)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    lines.push(
      `| ${lane.name} | ${lane.mode} | ${lane.verdict.terms} | ${lane.verdict.overlaps.length} | ${lane.verdict.tokenRegressions.length} | ${lane.lateLeaders.length} | ${errors || '–'} |`,
    );
  }
  const overlaps = result.lanes.flatMap((l) => l.verdict.overlaps.map((o) => ({ lane: l.name, ...o })));
  if (overlaps.length > 0) {
    lines.push('');
    lines.push('## Overlaps (first 20)');
    lines.push('');
    lines.push('| lane | earlier leader (token) | later leader (token) | overlap ms | during fault |');
    lines.push('|---|---|---|---:|---|');
    for (const o of overlaps.slice(0, 20)) {
      const fault = faultAt(result.faults, o.lane, o.b.startMs);
      lines.push(
        `| ${o.lane} | ${o.a.candidate} (${o.a.token}) | ${o.b.candidate} (${o.b.token}) | ${ms(o.overlapMs)} | ${fault ? `#${fault.index} ${fault.kind}` : '–'} |`,
      );
    }
  }
  const regressions = result.lanes.flatMap((l) => l.verdict.tokenRegressions.map((r) => ({ lane: l.name, ...r })));
  if (regressions.length > 0) {
    lines.push('');
    lines.push('## Token regressions (first 20)');
    lines.push('');
    for (const r of regressions.slice(0, 20)) {
      lines.push(
        `- ${r.lane}: ${r.previous.candidate} (${r.previous.token}) then ${r.next.candidate} (${r.next.token})`,
      );
    }
  }
  const lateLeaders = result.lanes.flatMap((l) => l.lateLeaders.map((x) => ({ lane: l.name, ...x })));
  if (lateLeaders.length > 0) {
    lines.push('');
    lines.push('## Leading after etcd deleted the key (first 20)');
    lines.push('');
    lines.push('| lane | leader (token) | ms after the deletion was seen | during fault |');
    lines.push('|---|---|---:|---|');
    for (const l of lateLeaders.slice(0, 20)) {
      const fault = faultAt(result.faults, l.lane, l.interval.endMs);
      lines.push(
        `| ${l.lane} | ${l.interval.candidate} (${l.interval.token}) | ${ms(l.lateMs)} | ${fault ? `#${fault.index} ${fault.kind}` : '–'} |`,
      );
    }
  }
  const stale = result.lanes.flatMap((l) => (l.staleViews ?? []).map((x) => ({ lane: l.name, ...x })));
  if (stale.length > 0) {
    lines.push('');
    lines.push(`## Views that disagreed with a fresh read for more than 2 s (${stale.length}; first 30)`);
    lines.push('');
    for (const s of stale.slice(0, 30)) {
      const fault = faultAt(result.faults, s.lane, s.atMs - 2000); // the disagreement began 2 s before the report
      lines.push(
        `- ${s.lane} ${s.candidate} during ${fault ? `#${fault.index} ${fault.kind} (${fault.detail})` : 'no fault'}: ${s.message}`,
      );
    }
  }
  const late = result.faults.filter((f) => !f.recovered);
  if (late.length > 0) {
    lines.push('');
    lines.push('## Faults not recovered within the bound (first 30)');
    lines.push('');
    for (const f of late.slice(0, 30)) {
      const eventual =
        f.eventualRecoveryMs === null ? 'never (within the wait)' : `after ${ms(f.eventualRecoveryMs)} ms`;
      lines.push(
        f.harnessError
          ? `- #${f.index} ${f.kind} [${f.lanes.join(',')}]: harness error: ${f.harnessError}`
          : `- #${f.index} ${f.kind} [${f.lanes.join(',')}] ${f.detail}: recovered ${eventual}; at the bound: ${f.reason ?? '?'}`,
      );
      for (const state of f.stateAtBound ?? []) lines.push(`  - ${state}`);
    }
  }
  lines.push('');
  return lines.join('\n');
}

/** The fault in progress (between inject and recovery) on `lane` at `atMs`, if any. */
function faultAt(faults: FaultRecord[], lane: string, atMs: number): FaultRecord | undefined {
  return faults.find(
    (f) =>
      f.lanes.includes(lane) &&
      f.injectAt - 1 <= atMs &&
      atMs <= f.healAt + (f.eventualRecoveryMs ?? f.recoveryMs ?? 0) + 1,
  );
}
