import { isLeaderFault } from './faults.js';
import type { ChaosResult, FaultRecord } from './runner.js';

/**
 * The judgement of a chaos run and its two renderings: JSON (everything) and a
 * markdown summary (faults by kind and whether leader faults hit the leader,
 * terms, overlaps, token regressions, late leaders against their bound, the
 * fenced counters, recovery p50 / p99 / max).
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
  /** The bound on that delay (the TTL), and how many exceeded it. */
  readonly lateBoundMs: number;
  readonly lateBeyondBound: number;
  /** Faults aimed at a leader, and how many of them did not hit one. */
  readonly leaderFaults: number;
  readonly leaderFaultsMissed: number;
  /** Faults injected while an affected lane was not stable. */
  readonly unstableBefore: number;
  /** The fenced counters of every lane together (null: no lane had one). */
  readonly fence: FenceSummary | null;
  /** Why the run failed, one line per reason (empty when ok). */
  readonly failures: string[];
  readonly recovery: RecoveryStats;
  readonly byKind: Record<string, RecoveryStats>;
  /** Overlaps and late leaders by the kind of fault in progress when they happened ('-': none). */
  readonly safetyByKind: Record<string, { overlaps: number; lateLeaders: number }>;
}

export interface FenceSummary {
  readonly lanes: number;
  /** Lanes whose counter was never checked (the run failed before the check). */
  readonly unchecked: number;
  readonly counter: number;
  readonly acknowledged: number;
  readonly appliedWithoutReply: number;
  readonly refused: number;
  readonly terms: number;
  readonly anomalies: number;
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
  const lateBoundMs = result.lateBoundMs;
  const lateBeyondBound = late.filter((l) => l.lateMs > lateBoundMs).length;
  const leaderFaults = result.faults.filter((f) => isLeaderFault(f.kind));
  const missed = leaderFaults.filter((f) => f.victimWasLeader !== true).length;
  const unstableBefore = result.faults.filter((f) => f.unstableBefore).length;
  const fence = fenceSummary(result);
  const failures: string[] = [];
  if (overlaps.length > 0) failures.push(`${overlaps.length} overlaps`);
  if (tokenRegressions > 0) failures.push(`${tokenRegressions} token regressions`);
  if (malformed > 0) failures.push(`${malformed} leaders without a token`);
  if (lateBeyondBound > 0) failures.push(`${lateBeyondBound} late leaders beyond ${lateBoundMs} ms`);
  if (recovery.recovered !== recovery.count)
    failures.push(`${recovery.count - recovery.recovered} faults not recovered within the bound`);
  if (missed > 0) failures.push(`${missed} leader faults that did not hit the leader`);
  if (unstableBefore > 0) failures.push(`${unstableBefore} faults injected while a lane was not stable`);
  if (fence && fence.anomalies > 0) failures.push(`${fence.anomalies} fenced-counter anomalies`);
  if (fence && fence.unchecked > 0) failures.push(`${fence.unchecked} fenced counters not checked`);
  return {
    ok: failures.length === 0,
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
    lateBoundMs,
    lateBeyondBound,
    leaderFaults: leaderFaults.length,
    leaderFaultsMissed: missed,
    unstableBefore,
    fence,
    failures,
    recovery,
    byKind,
    safetyByKind: safetyByKind(result),
  };
}

function fenceSummary(result: ChaosResult): FenceSummary | null {
  // A run with fencing has a verdict in every lane it could check; a locked run without any had it off.
  const verdicts = result.lanes.map((l) => l.fence).filter((v) => v !== undefined);
  if (verdicts.length === 0) return null;
  const sum = (f: (v: (typeof verdicts)[number]) => number): number => verdicts.reduce((n, v) => n + f(v), 0);
  return {
    lanes: verdicts.length,
    unchecked: result.lanes.length - verdicts.length,
    counter: sum((v) => Math.max(0, v.counter)),
    acknowledged: sum((v) => v.acknowledged),
    appliedWithoutReply: sum((v) => v.appliedWithoutReply),
    refused: sum((v) => v.refused),
    terms: sum((v) => v.terms),
    anomalies: sum((v) => v.anomalies.length),
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
      `recovery bound ${result.recoveryBoundMs} ms (default 3×TTL + 2 s); late-leader bound ${summary.lateBoundMs} ms (the TTL). ` +
      (result.experiment ? `Experiment: ${result.experiment}. ` : '') +
      'Lanes: ' +
      result.lanes.map((l) => `${l.name} (${l.mode})`).join(', ') +
      '.',
  );
  lines.push('');
  lines.push(`**Verdict: ${summary.ok ? 'PASS' : `FAIL (${summary.failures.join('; ')})`}**`);
  lines.push('');
  lines.push('| | |');
  lines.push('|---|---|');
  lines.push(`| faults | ${summary.faults} |`);
  lines.push(`| recovered within bound | ${summary.recovered} |`);
  lines.push(`| not recovered within bound | ${summary.unrecovered} |`);
  lines.push(
    `| leader faults that hit the leader | ${summary.leaderFaults - summary.leaderFaultsMissed} / ${summary.leaderFaults} |`,
  );
  lines.push(`| injected while a lane was not stable | ${summary.unstableBefore} |`);
  lines.push(`| leadership terms | ${summary.terms} (${summary.intervals} intervals) |`);
  lines.push(
    `| overlaps (split brain) | ${summary.overlaps}${summary.overlaps ? ` (longest ${ms(summary.maxOverlapMs)} ms)` : ''} |`,
  );
  lines.push(`| token regressions | ${summary.tokenRegressions} |`);
  lines.push(`| leaders without a token | ${summary.malformed} |`);
  lines.push(
    `| leading after etcd deleted the key | ${summary.lateLeaders}${summary.lateLeaders ? ` (longest ${ms(summary.maxLateMs)} ms; ${summary.lateBeyondBound} beyond the bound of ${summary.lateBoundMs} ms)` : ''} |`,
  );
  const fence = summary.fence;
  lines.push(
    fence
      ? `| fenced counters | ${fence.counter} increments in ${fence.lanes} lanes by ${fence.terms} terms: ${fence.acknowledged} acknowledged + ${fence.appliedWithoutReply} applied without a reply; ${fence.refused} refused by the fence; **${fence.anomalies} anomalies**${fence.unchecked ? `; ${fence.unchecked} lanes not checked` : ''} |`
      : '| fenced counters | not run |',
  );
  lines.push(
    `| recovery p50 / p99 / max (ms) | ${ms(summary.recovery.p50)} / ${ms(summary.recovery.p99)} / ${ms(summary.recovery.max)} |`,
  );
  lines.push('');
  lines.push('## Faults by kind');
  lines.push('');
  lines.push('| kind | faults | hit the leader | overlaps | late leaders | recovered | p50 ms | p99 ms | max ms |');
  lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [kind, s] of Object.entries(summary.byKind)) {
    const safety = summary.safetyByKind[kind] ?? { overlaps: 0, lateLeaders: 0 };
    const ofKind = result.faults.filter((f) => f.kind === kind);
    const hit = isLeaderFault(ofKind[0]!.kind) ? `${ofKind.filter((f) => f.victimWasLeader === true).length}` : '–';
    lines.push(
      `| ${kind} | ${s.count} | ${hit} | ${safety.overlaps} | ${safety.lateLeaders} | ${s.recovered} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.max)} |`,
    );
  }
  lines.push('');
  lines.push('## Lanes');
  lines.push('');
  lines.push(
    '| lane | mode | terms | overlaps | token regressions | late leaders (max ms) | fenced counter (acknowledged + without reply) · anomalies | errors seen by candidates |',
  );
  lines.push('|---|---|---:|---:|---:|---:|---|---|');
  for (const lane of result.lanes) {
    const errors = Object.entries(lane.errors)
      .map(([code, n]) => `${code} ${n}`)
      .join(', ');
    const maxLate = lane.lateLeaders.reduce((m, l) => Math.max(m, l.lateMs), 0);
    const f = lane.fence;
    const fenced = f ? `${f.counter} (${f.acknowledged} + ${f.appliedWithoutReply}) · ${f.anomalies.length}` : '–';
    lines.push(
      `| ${lane.name} | ${lane.mode} | ${lane.verdict.terms} | ${lane.verdict.overlaps.length} | ${lane.verdict.tokenRegressions.length} | ${lane.lateLeaders.length}${lane.lateLeaders.length ? ` (${ms(maxLate)})` : ''} | ${fenced} | ${errors || '–'} |`,
    );
  }
  const fenceAnomalies = result.lanes.flatMap((l) => (l.fence?.anomalies ?? []).map((a) => ({ lane: l.name, ...a })));
  if (fenceAnomalies.length > 0) {
    lines.push('');
    lines.push('## Fenced-counter anomalies (first 30)');
    lines.push('');
    for (const a of fenceAnomalies.slice(0, 30)) lines.push(`- ${a.lane} ${a.kind}: ${a.detail}`);
  }
  const missedFaults = result.faults.filter((f) => isLeaderFault(f.kind) && f.victimWasLeader !== true);
  const unstable = result.faults.filter((f) => f.unstableBefore);
  if (missedFaults.length + unstable.length > 0) {
    lines.push('');
    lines.push('## Faults that did not test what they say (first 30)');
    lines.push('');
    for (const f of missedFaults.slice(0, 30)) {
      lines.push(
        `- #${f.index} ${f.kind} [${f.lanes.join(',')}]: hit ${f.victim ?? '?'}, not the leader (waited ${ms(f.leaderWaitMs ?? null)} ms for one)`,
      );
    }
    for (const f of unstable.slice(0, 30)) {
      lines.push(
        `- #${f.index} ${f.kind} [${f.lanes.join(',')}]: injected while not stable: ${f.unstableReason ?? '?'}`,
      );
    }
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
    lines.push(
      `| lane | leader (token) | ms after the deletion was seen (bound ${summary.lateBoundMs}) | during fault | deletion seen, ms after its injection |`,
    );
    lines.push('|---|---|---:|---|---:|');
    for (const l of lateLeaders.slice(0, 20)) {
      const fault = faultAt(result.faults, l.lane, l.interval.endMs);
      lines.push(
        `| ${l.lane} | ${l.interval.candidate} (${l.interval.token}) | ${ms(l.lateMs)}${l.lateMs > summary.lateBoundMs ? ' **beyond**' : ''} | ${fault ? `#${fault.index} ${fault.kind} (${fault.detail})` : '–'} | ${fault ? ms(l.deletedAtMs - fault.injectAt) : '–'} |`,
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
