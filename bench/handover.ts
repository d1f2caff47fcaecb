/**
 * `npm run measure`: locked's handover times with its seed facade
 * (`locked(endpoints)({ path, value, ttl })`), three candidate processes, on a
 * local etcd this script starts (3 members, and 1 member unless --size=3):
 * time to first leader, graceful handover (stop() → next select), crash
 * handover (SIGKILL of the leader's process → next select) at TTL 2 s and 5 s,
 * each as median, p90 and max of --runs runs (default 5; --quick: 2).
 * Prints a table and writes bench/results/handover.md (raw samples under
 * bench/results/raw/).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdCluster } from '../src/testing/etcd-cluster.js';
import { Fleet, type Candidate } from './lib/fleet.js';
import { LoadSampler, machine, machineMarkdown } from './lib/machine.js';
import { table } from './lib/markdown.js';
import { fmt, seededRandom, summarize, type Summary } from './lib/stats.js';
import { failoverRun, fillPool, type FailoverSample } from './scenarios/failover.js';
import { barChart } from './lib/svg.js';

const RESULTS = join(__dirname, 'results');

interface Args {
  runs: number;
  sizes: (1 | 3)[];
  ttls: number[];
  seed: number;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string): string | undefined =>
    argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const quick = argv.includes('--quick');
  const runs = Number(get('runs') ?? (quick ? 2 : 5));
  const size = get('size');
  const sizes: (1 | 3)[] = size === '1' ? [1] : size === '3' ? [3] : [3, 1];
  const ttls = (get('ttls') ?? '2,5').split(',').map(Number);
  const seed = Number(get('seed') ?? Date.now() % 100_000);
  if (!(runs >= 1) || ttls.some((t) => !(t >= 1))) throw new RangeError('--runs must be ≥ 1 and --ttls seconds ≥ 1');
  return { runs, sizes, ttls, seed };
}

interface Row {
  readonly size: number;
  readonly ttlSec: number;
  readonly samples: FailoverSample[];
  readonly failures: string[];
}

async function measure(size: 1 | 3, args: Args, random: () => number): Promise<Row[]> {
  const cluster = await EtcdCluster.start({ size });
  const fleet = new Fleet();
  const rows: Row[] = [];
  try {
    let pool: Candidate[] = [];
    for (const ttlSec of args.ttls) {
      const row: Row = { size, ttlSec, samples: [], failures: [] };
      rows.push(row);
      for (let run = 0; run < args.runs; run++) {
        pool = await fillPool(fleet, pool, 'locked', cluster.endpoints);
        const name = `/bench/handover/${size}-${ttlSec}-${run}-${process.pid}`;
        try {
          const sample = await failoverRun(pool, {
            fleet,
            kind: 'locked',
            endpoints: cluster.endpoints,
            ttlSec,
            name,
            random,
          });
          row.samples.push(sample);
          console.log(
            `  ${size}-member etcd, TTL ${ttlSec} s, run ${run + 1}/${args.runs}: first ${fmt(sample.firstLeaderMs)} ms, graceful ${fmt(sample.gracefulMs)} ms, crash ${fmt(sample.crashMs)} ms (floor ${fmt(sample.crashFloorMs)} ms)`,
          );
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          row.failures.push(message);
          console.log(`  ${size}-member etcd, TTL ${ttlSec} s, run ${run + 1}: FAILED ${message}`);
          await Promise.all(pool.map((c) => c.exit()));
          pool = [];
        }
      }
    }
  } finally {
    await fleet.close();
    await cluster.stop();
  }
  return rows;
}

function summaryCells(s: Summary): string[] {
  return [String(s.n), fmt(s.median), fmt(s.p90), fmt(s.max)];
}

function render(rows: Row[]): { text: string; svg: string } {
  const header = ['etcd', 'scenario', 'TTL', 'runs', 'median ms', 'p90 ms', 'max ms'];
  const lines: string[][] = [];
  for (const size of [...new Set(rows.map((r) => r.size))]) {
    const mine = rows.filter((r) => r.size === size);
    const all = mine.flatMap((r) => r.samples);
    const label = `${size} member${size > 1 ? 's' : ''}`;
    const ttls = mine.map((r) => r.ttlSec).join(', ');
    lines.push([
      label,
      'first leader (3 candidates)',
      `${ttls} s`,
      ...summaryCells(summarize(all.map((s) => s.firstLeaderMs))),
    ]);
    lines.push([
      label,
      'graceful handover (stop → select)',
      `${ttls} s`,
      ...summaryCells(summarize(all.map((s) => s.gracefulMs))),
    ]);
    for (const r of mine) {
      lines.push([
        label,
        'crash handover (SIGKILL → select)',
        `${r.ttlSec} s`,
        ...summaryCells(summarize(r.samples.map((s) => s.crashMs))),
      ]);
      lines.push([
        label,
        '↳ floor: last keepalive + TTL − kill',
        `${r.ttlSec} s`,
        ...summaryCells(summarize(r.samples.map((s) => s.crashFloorMs))),
      ]);
      lines.push([
        label,
        '↳ excess over the floor',
        `${r.ttlSec} s`,
        ...summaryCells(summarize(r.samples.map((s) => s.crashExcessMs))),
      ]);
    }
  }
  const failures = rows.flatMap((r) => r.failures.map((f) => `- ${r.size}-member etcd, TTL ${r.ttlSec} s: ${f}`));
  const text = table(header, lines) + (failures.length ? `\n\nFailed runs:\n${failures.join('\n')}` : '');
  const groups = [...new Set(rows.map((r) => r.size))].map((size) => {
    const mine = rows.filter((r) => r.size === size);
    const all = mine.flatMap((r) => r.samples);
    const bar = (label: string, values: number[]) => {
      const s = summarize(values);
      return { label, value: s.median, p90: s.p90, max: s.max, accent: true };
    };
    return {
      title: `${size}-member etcd`,
      bars: [
        bar(
          'first leader',
          all.map((s) => s.firstLeaderMs),
        ),
        bar(
          'graceful handover',
          all.map((s) => s.gracefulMs),
        ),
        ...mine.map((r) =>
          bar(
            `crash handover, TTL ${r.ttlSec} s`,
            r.samples.map((s) => s.crashMs),
          ),
        ),
      ],
    };
  });
  const svg = barChart({
    title: 'locked: handover times (seed facade, 3 candidate processes)',
    unit: 'ms',
    groups,
    log: true,
  });
  return { text, svg };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const command = `npm run measure${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  console.log(
    `locked handover: ${args.runs} runs per TTL (${args.ttls.join(', ')} s), etcd of ${args.sizes.join(' and ')} member(s), seed ${args.seed}`,
  );
  const load = new LoadSampler();
  const random = seededRandom(args.seed);
  const rows: Row[] = [];
  for (const size of args.sizes) rows.push(...(await measure(size, args, random)));
  const loadSummary = load.stop();
  const m = machine();
  const { text, svg } = render(rows);
  console.log(`\n${text}\n`);
  mkdirSync(join(RESULTS, 'raw'), { recursive: true });
  writeFileSync(
    join(RESULTS, 'raw', 'handover.json'),
    JSON.stringify({ args, machine: m, load: loadSummary, rows }, null, 2),
  );
  writeFileSync(join(RESULTS, 'handover.svg'), svg);
  writeFileSync(
    join(RESULTS, 'handover.md'),
    [
      '# locked: handover times',
      '',
      'The seed facade (`locked(endpoints)({ path, value, ttl })`), three candidates, each in its own process, on a local etcd started by the benchmark. Times on CLOCK_MONOTONIC (`process.hrtime.bigint()`), shared by all processes.',
      '',
      '- **first leader**: all three call `start()` at once → the first `select`.',
      '- **graceful handover**: the leader calls `stop()` → the next `select` (another process).',
      "- **crash handover**: SIGKILL of the leader's process (at a random phase of its keepalive cycle) → the next `select`. The **floor** is when etcd may expire the dead leader's lease at the earliest: its last acknowledged keepalive + TTL − the kill; the **excess** over it is etcd's lease-expiry check (every 500 ms in etcd 3.4), the revoke through Raft, one watch delivery, and locked's re-check reads.",
      '',
      text,
      '',
      '![handover times](handover.svg)',
      '',
      machineMarkdown(m, loadSummary, command),
      `- Random phase seed: ${args.seed}`,
      '',
    ].join('\n'),
  );
  console.log(`wrote ${join(RESULTS, 'handover.md')}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
