import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LABELS } from '../lib/labels.js';
import { table } from '../lib/markdown.js';
import { RESULTS, storedHeadlines } from '../lib/report.js';

/** Scenario files in order, for the summary and its links. */
export const SECTION_IDS = [
  '1-first-leader',
  '2-graceful-handover',
  '3-crash-handover',
  '4-floor',
  '5-idle',
  '6-herd',
  '7-scale',
  '8-faults',
];

/**
 * bench/results/README.md: one table of headline numbers (metric ×
 * implementation) from every scenario that has results, and links to them.
 */
export function writeSummary(footer: string): void {
  const stored = storedHeadlines(SECTION_IDS);
  const kinds = [...new Set(stored.flatMap((s) => Object.values(s.headline).flatMap((h) => Object.keys(h))))];
  const order = [...Object.keys(LABELS), 'floor'];
  kinds.sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const rows = stored.flatMap((s) =>
    Object.entries(s.headline).map(([metric, byKind]) => [metric, ...kinds.map((k) => byKind[k] ?? '')]),
  );
  const header = ['', ...kinds.map((k) => (k === 'floor' ? 'floor (4)' : (LABELS[k] ?? k)))];
  const links = [
    ...stored.map((s) => `- [${s.title}](${s.id}.md)${provenance(s.id)}`),
    // Benchmarks with commands of their own (not part of `npm run bench`), when they have results.
    ...SEPARATE.filter(([id]) => existsSync(join(RESULTS, `${id}.md`))).map(
      ([id, title]) => `- [${title}](${id}.md)${provenance(id)}`,
    ),
  ].join('\n');
  const targets = stored.flatMap((s) => s.targets);
  const targetTable = targets.length
    ? table(
        ['target (issue 5)', 'measured', 'met'],
        targets.map((t) => [t.target, t.measured, t.met ? 'yes' : '**no**']),
      )
    : '';
  writeFileSync(
    join(RESULTS, 'README.md'),
    [
      '# Benchmarks: locked against the alternatives',
      '',
      'All on one local 3-member etcd. `npm run bench` runs every scenario in one go; `--only=` runs some again, and the others keep their stored results: the run each scenario comes from is named next to its link below. Each scenario file has the method, the full table (median, p90, max), a chart and notes.',
      '',
      table(header, rows),
      '',
      targetTable,
      '',
      links,
      '',
      footer,
      '',
    ].join('\n'),
  );
}

const SEPARATE: readonly (readonly [string, string])[] = [
  ['9-herd-fleet', '9. Herd across a fleet: N lockers as separate clients'],
  ['10-preemption', '10. Preemption: a higher-priority join → its leadership'],
];

/** `: <command> (commit …, time)` from a scenario file's footer, or nothing if it has none. */
function provenance(id: string): string {
  const file = join(RESULTS, `${id}.md`);
  if (!existsSync(file)) return '';
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('- Command: '));
  return line ? `: ${line.slice('- Command: '.length)}` : '';
}
