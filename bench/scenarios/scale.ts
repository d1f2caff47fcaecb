import type { CandidateKind } from '../candidates/protocol.js';
import { diff, scrape, traffic, type Traffic } from '../lib/etcd-metrics.js';
import { Fleet } from '../lib/fleet.js';
import { label } from '../lib/labels.js';
import { table } from '../lib/markdown.js';
import type { Section } from '../lib/report.js';
import { fmt } from '../lib/stats.js';
import { barChart } from '../lib/svg.js';
import { pause, usageOf } from '../lib/usage.js';

/**
 * Scenario 7, scale: one process leading N elections (each alone in its
 * election). Time until all are elected — started all at once, or at most
 * `window` campaigns in flight — then, idle, its RSS, its CPU and what etcd
 * receives. The process runs compiled JavaScript under plain node, with
 * `nodeFlags` when a case gives them (a V8 heap cap, as a deployment would).
 */
export interface ScaleOptions {
  readonly endpoints: string;
  readonly metricsUrls: string[];
  readonly cases: ScaleCase[];
  readonly ttlSec: number;
  readonly windowMs: number;
  readonly timeoutMs: number;
  readonly log: (line: string) => void;
}

export interface ScaleCase {
  readonly kind: CandidateKind;
  readonly count: number;
  readonly window?: number;
  readonly nodeFlags?: string[];
}

export interface ScaleRow {
  readonly kind: CandidateKind;
  readonly count: number;
  readonly window: number | null;
  readonly nodeFlags: string[];
  readonly elected: number;
  readonly errors: number;
  /** The most frequent error messages (digits folded), with counts. */
  readonly topErrors: [string, number][];
  /** Start → last election won (NaN if not all were won within the timeout). */
  readonly allElectedMs: number;
  readonly idleCpuPercent: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly idle: Traffic;
  readonly idleWindowMs: number;
}

async function scaleOnce(o: ScaleOptions, { kind, count, window, nodeFlags = [] }: ScaleCase): Promise<ScaleRow> {
  const fleet = new Fleet();
  try {
    const [c] = await fleet.spawn(kind, o.endpoints, 1, nodeFlags);
    const child = c!;
    const joinMark = fleet.mark();
    child.send({
      op: 'join',
      config: { name: `/bench/scale/${kind}/${process.pid}-${window ?? 'all'}`, ttlSec: o.ttlSec, value: kind },
      count,
    });
    await fleet.next('the elections joined', (e) => e.report.ev === 'joined', joinMark, 60_000);
    const from = fleet.mark();
    const t0 = performance.now();
    child.send({ op: 'start', ...(window ? { window } : {}) });
    let elected = 0;
    let allElectedMs = NaN;
    try {
      await fleet.next('all elections won', (e) => e.report.ev === 'elected' && ++elected >= count, from, o.timeoutMs);
      allElectedMs = performance.now() - t0;
    } catch {
      // not all within the timeout: reported as such
    }
    const errorReports = fleet.reports('error', child.who, from);
    const errors = errorReports.length;
    const counts = new Map<string, number>();
    for (const e of errorReports) {
      if (e.report.ev !== 'error') continue;
      const m = e.report.message.replace(/\d+(\.\d+)?/g, 'N').slice(0, 140);
      counts.set(m, (counts.get(m) ?? 0) + 1);
    }
    const topErrors = [...counts.entries()].sort((a, b) => b[1] - a[1]).slice(0, 3);
    await pause(15_000); // settle: the last watches are in place and V8's collector has calmed down after the burst
    const m0 = await scrape(o.metricsUrls);
    const [u0] = await usageOf(fleet, [child]);
    const t1 = performance.now();
    await pause(o.windowMs);
    const m1 = await scrape(o.metricsUrls);
    const [u1] = await usageOf(fleet, [child]);
    const idleWindowMs = performance.now() - t1;
    return {
      kind,
      count,
      window: window ?? null,
      nodeFlags,
      elected,
      errors,
      topErrors,
      allElectedMs,
      idleCpuPercent: ((u1!.cpuMs - u0!.cpuMs) / idleWindowMs) * 100,
      rssBytes: u1!.rssBytes,
      heapUsedBytes: u1!.heapUsedBytes,
      idle: traffic(diff(m0, m1)),
      idleWindowMs,
    };
  } finally {
    await fleet.close();
  }
}

export async function measureScale(o: ScaleOptions): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  for (const c of o.cases) {
    const row = await scaleOnce(o, c);
    rows.push(row);
    o.log(
      `  scale ${c.kind} × ${c.count} (${started(row)}): ${row.elected} elected in ${fmt(row.allElectedMs)} ms, ${row.errors} errors, idle CPU ${fmt(row.idleCpuPercent, 2)} %, RSS ${fmt(row.rssBytes / 2 ** 20, 0)} MB, heap ${fmt(row.heapUsedBytes / 2 ** 20, 0)} MB`,
    );
  }
  return rows;
}

/** How a row's elections were started, and under which node flags. */
function started(r: ScaleRow): string {
  const how = r.window === null ? 'all at once' : `${r.window} in flight`;
  return r.nodeFlags.length > 0 ? `${how}, \`node ${r.nodeFlags.join(' ')}\`` : how;
}

export function scaleSection(rows: ScaleRow[], ttlSec: number): Section {
  const body = rows.map((r) => [
    label(r.kind),
    String(r.count),
    started(r),
    `${r.elected}`,
    Number.isFinite(r.allElectedMs) ? fmt(r.allElectedMs / 1000, 1) : 'not all',
    String(r.errors),
    fmt(r.rssBytes / 2 ** 20, 0),
    fmt(r.heapUsedBytes / 2 ** 20, 0),
    fmt(r.idleCpuPercent, 2),
    fmt(r.idle.requests / (r.idleWindowMs / 1000), 2),
  ]);
  const best = rows.filter((r) => r.kind === 'locked-core');
  return {
    id: '7-scale',
    title: '7. Scale: many elections in one process',
    body: [
      `One process (compiled JavaScript under plain node, a fresh process per row) leads N elections, each alone in its election, TTL ${ttlSec} s. "All elected" is from the start command to the last win; then, after 15 s of settling (right after such a burst V8's collector still works for some seconds), the process is left idle: its CPU (user + system over the window), its RSS, and the requests etcd received.`,
      '',
      'RSS is mostly the heap V8 grew to during the start-up burst, not what the elections keep: V8 collects its old generation lazily, and an idle process allocates too little to set a collection off, so the heap stays at its high-water mark (`npm run bench:memory` measures what each election keeps after a full collection). The row with `--max-old-space-size` caps the old generation, as a deployment with many elections in one process would; V8 then collects during the burst.',
      '',
      table(
        [
          'implementation',
          'elections',
          'started',
          'elected',
          'all elected s',
          'errors',
          'RSS MB',
          'heap in use MB',
          'idle CPU %',
          'idle requests/s',
        ],
        body,
      ),
      '',
      ...rows
        .filter((r) => r.topErrors.length > 0)
        .map(
          (r) =>
            `- ${label(r.kind)} × ${r.count} (${started(r)}), most frequent errors: ${r.topErrors.map(([m, n]) => `${n} × \`${m}\``).join('; ')}`,
        ),
      '',
      `Target (locked): 10,000 elections in one process under 200 MB RSS and under 2 % of a core while idle. Measured: ${best.map((r) => `${started(r)}: ${fmt(r.rssBytes / 2 ** 20, 0)} MB, ${fmt(r.idleCpuPercent, 2)} %`).join('; ')}.`,
    ].join('\n'),
    svg: barChart({
      title: `7. Time until all N elections are won (one process)`,
      unit: 's',
      groups: [
        {
          bars: rows.map((r) => ({
            label: `${label(r.kind)} × ${r.count}${r.window ? ` (${r.window} in flight)` : ''}${r.nodeFlags.length > 0 ? ` ${r.nodeFlags.join(' ')}` : ''}`,
            value: r.allElectedMs / 1000,
            accent: r.kind === 'locked-core',
            note: Number.isFinite(r.allElectedMs)
              ? `${fmt(r.allElectedMs / 1000, 1)} s, ${fmt(r.rssBytes / 2 ** 20, 0)} MB`
              : `${r.elected} of ${r.count} elected`,
          })),
        },
      ],
    }),
    targets: best
      .filter((r) => r.count === 10_000)
      .map((r) => ({
        target: `10,000 elections in one process (${started(r)}): < 200 MB RSS and < 2 % of a core idle`,
        measured: `${fmt(r.rssBytes / 2 ** 20, 0)} MB RSS (heap in use ${fmt(r.heapUsedBytes / 2 ** 20, 0)} MB), ${fmt(r.idleCpuPercent, 2)} % CPU`,
        met: r.rssBytes < 200 * 2 ** 20 && r.idleCpuPercent < 2,
      })),
    headline: {
      'scale: 10,000 elections in one process — all elected / RSS / idle CPU': Object.fromEntries(
        rows
          .filter(
            (r) => r.count === 10_000 && (r.kind !== 'locked-core' || (r.window === null && r.nodeFlags.length === 0)),
          )
          .map((r) => [
            r.kind === 'locked-core' ? 'locked' : r.kind,
            `${Number.isFinite(r.allElectedMs) ? `${fmt(r.allElectedMs / 1000, 1)} s` : `${r.elected} won`} / ${fmt(r.rssBytes / 2 ** 20, 0)} MB / ${fmt(r.idleCpuPercent, 2)} %`,
          ]),
      ),
    },
    raw: rows,
  };
}
