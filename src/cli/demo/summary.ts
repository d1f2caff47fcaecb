import { table } from '../status.js';
import { fmtMs, type DemoReport } from './demo.js';
import { FAULT_LABEL, type FaultKind } from './faults.js';

/** The demo's closing report: per candidate, per fault, and the verdict of the split-brain check. */
export function summaryLines(report: DemoReport): string[] {
  const { intervals, verdict, faults } = report;
  const lines: string[] = [];
  const seconds = ((report.endMs - report.startMs) / 1000).toFixed(1);
  lines.push(
    `Summary: ${seconds} s, ${report.candidates.length} candidates, ${faults.length} fault${faults.length === 1 ? '' : 's'}, ${report.samples} reported samples${report.interrupted ? ' (interrupted)' : ''}`,
    '',
  );

  const perCandidate = report.candidates.map((id) => {
    const mine = intervals.filter((i) => i.candidate === id);
    const terms = new Set(mine.map((i) => i.token)).size;
    const ledMs = mine.reduce((sum, i) => sum + (i.endMs - i.startMs), 0);
    const hits = faults.filter((f) => f.victim === id).map((f) => f.kind);
    return [id, String(terms), fmtMs(ledMs), hits.join(', ') || '—'];
  });
  lines.push(
    ...table(['candidate', 'terms', 'time leading', 'faults suffered'], perCandidate).map((l) => `  ${l}`),
    '',
  );

  if (faults.length > 0) {
    const rows = faults.map((f) => [
      fmtMs(f.atMs - report.startMs),
      FAULT_LABEL[f.kind],
      f.victim + (f.victimToken ? ` (token ${f.victimToken})` : ''),
      f.failover ? f.failover.by : '—',
      f.failover ? f.failover.token : '—',
      f.failover ? fmtMs(f.failover.afterMs) : '—',
    ]);
    lines.push(
      ...table(['at', 'fault on the leader', 'victim', 'new leader', 'token', 'failover'], rows).map((l) => `  ${l}`),
      '',
    );
    const byKind = new Map<FaultKind, number[]>();
    for (const f of faults) if (f.failover) byKind.set(f.kind, [...(byKind.get(f.kind) ?? []), f.failover.afterMs]);
    const stats = [...byKind].map(([kind, ms]) => {
      const sorted = [...ms].sort((a, b) => a - b);
      const [low = 0, high = 0] = [sorted[0], sorted.at(-1)];
      return `${FAULT_LABEL[kind]} ${sorted.length > 1 ? `${fmtMs(low)} to ${fmtMs(high)} (${sorted.length})` : fmtMs(low)}`;
    });
    if (stats.length > 0) lines.push(`  failover time by fault: ${stats.join(' · ')}`, '');
  }

  lines.push(
    "Split-brain check (src/testing/history.ts checkHistory over every candidate's isSelected()/token() samples):",
    `  ${verdict.terms} terms in ${verdict.intervals} intervals · ${verdict.overlaps.length} overlaps · ${verdict.tokenRegressions.length} token regressions · ${verdict.malformed.length} malformed`,
  );
  if (report.rejectedSamples > 0)
    lines.push(`  ${report.rejectedSamples} samples arrived out of order and were not judged`);
  for (const o of verdict.overlaps.slice(0, 5)) {
    lines.push(
      `  OVERLAP ${fmtMs(o.overlapMs)}: ${o.a.candidate} (token ${o.a.token}) and ${o.b.candidate} (token ${o.b.token}) at ${fmtMs(o.b.startMs - report.startMs)}`,
    );
  }
  for (const r of verdict.tokenRegressions.slice(0, 5)) {
    lines.push(
      `  TOKEN REGRESSION: ${r.previous.candidate} had ${r.previous.token}, then ${r.next.candidate} had ${r.next.token}`,
    );
  }
  lines.push(
    verdict.ok
      ? '  VERDICT: OK: never two leaders at the same instant; fencing tokens strictly increased from term to term.'
      : '  VERDICT: FAILED: see above.',
  );
  return lines;
}
