/**
 * `tsx test/chaos/compare.ts A.json B.json [--out FILE]`: two chaos reports
 * (e.g. `--target locked` and `--target etcd3` under the same faults) side by
 * side in markdown, on stdout or in FILE.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { summarize, type ChaosSummary } from '../harness/report.js';
import type { ChaosResult } from '../harness/runner.js';

interface Loaded {
  readonly file: string;
  readonly command: string;
  readonly result: ChaosResult;
  readonly summary: ChaosSummary;
}

function load(file: string): Loaded {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as ChaosResult & { command?: string };
  // Reports written before the etcd-side check have no lateLeaders; before the late bound, no lateBoundMs.
  const result: ChaosResult = {
    ...raw,
    lateBoundMs: (raw as Partial<ChaosResult>).lateBoundMs ?? Math.max(2, Math.ceil(raw.ttlSec)) * 1000,
    lanes: raw.lanes.map((l) => ({ ...l, lateLeaders: l.lateLeaders ?? [], staleViews: l.staleViews ?? [] })),
  };
  return { file, command: raw.command ?? '?', result, summary: summarize(result) };
}

const ms = (v: number | null): string => (v === null ? '–' : `${Math.round(v)}`);

function render(runs: Loaded[]): string {
  const lines: string[] = [];
  const head = runs.map((r) => `${r.result.target} (seed ${r.result.seed})`);
  lines.push(`| | ${head.join(' | ')} |`);
  lines.push(`|---|${runs.map(() => '---:').join('|')}|`);
  const row = (name: string, f: (r: Loaded) => string): void => {
    lines.push(`| ${name} | ${runs.map(f).join(' | ')} |`);
  };
  row('faults', (r) => `${r.summary.faults}`);
  row('leadership terms', (r) => `${r.summary.terms}`);
  row('overlaps (two leaders at once)', (r) => `${r.summary.overlaps}`);
  row('longest overlap ms', (r) => ms(r.summary.overlaps ? r.summary.maxOverlapMs : null));
  row('leading after etcd deleted the key', (r) => `${r.summary.lateLeaders}`);
  row('token regressions', (r) => `${r.summary.tokenRegressions}`);
  row('recovered within the bound', (r) => `${r.summary.recovered} / ${r.summary.faults}`);
  row('recovery bound ms', (r) => `${r.result.recoveryBoundMs}`);
  row('fenced-counter anomalies', (r) => (r.summary.fence ? `${r.summary.fence.anomalies}` : '–'));
  row(
    'recovery p50 / p99 / max ms',
    (r) => `${ms(r.summary.recovery.p50)} / ${ms(r.summary.recovery.p99)} / ${ms(r.summary.recovery.max)}`,
  );
  lines.push('');
  lines.push(`| kind | ${runs.map((r) => `${r.result.target}: faults · overlaps · late · recovered`).join(' | ')} |`);
  lines.push(`|---|${runs.map(() => '---').join('|')}|`);
  const kinds = [...new Set(runs.flatMap((r) => Object.keys(r.summary.byKind)))].sort();
  for (const kind of kinds) {
    const cells = runs.map((r) => {
      const k = r.summary.byKind[kind];
      const s = r.summary.safetyByKind[kind] ?? { overlaps: 0, lateLeaders: 0 };
      return k ? `${k.count} · ${s.overlaps} · ${s.lateLeaders} · ${k.recovered}` : '–';
    });
    lines.push(`| ${kind} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  for (const r of runs) lines.push(`- ${r.result.target}: \`${r.command}\` → ${r.file}`);
  return lines.join('\n') + '\n';
}

function main(): void {
  const { values, positionals } = parseArgs({ options: { out: { type: 'string' } }, allowPositionals: true });
  if (positionals.length < 2) {
    process.stderr.write('usage: tsx test/chaos/compare.ts A.json B.json [--out FILE]\n');
    process.exit(2);
  }
  const text = render(positionals.map(load));
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
}

main();
