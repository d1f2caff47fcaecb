import type { CandidateKind } from '../candidates/protocol.js';
import { diff, scrape, traffic, type Traffic } from '../lib/etcd-metrics.js';
import { Fleet } from '../lib/fleet.js';
import { label } from '../lib/labels.js';
import { table } from '../lib/markdown.js';
import type { Section } from '../lib/report.js';
import { fmt, mb } from '../lib/stats.js';
import { barChart } from '../lib/svg.js';
import { pause, usageOf } from '../lib/usage.js';
import type { Usage } from '../candidates/protocol.js';

/**
 * Scenario 7, scale: one process leading N elections (each alone in its
 * election). Time until all are elected — started all at once, or at most
 * `window` campaigns in flight — then, idle, its RSS, its CPU and what etcd
 * receives. The process runs compiled JavaScript under plain node, with
 * `nodeFlags` when a case gives them (a V8 heap cap, as a deployment would).
 * Its RSS and heap are sampled every 10 s from the last win until `steadyMs`
 * later: V8 returns the heap it grew during the burst only once the process
 * has been quiet for a while (its memory reducer).
 */
export interface ScaleOptions {
  readonly endpoints: string;
  readonly metricsUrls: string[];
  readonly cases: ScaleCase[];
  readonly ttlSec: number;
  readonly windowMs: number;
  /** How long after the last win the last RSS sample is taken (≥ settling + `windowMs`). */
  readonly steadyMs: number;
  readonly timeoutMs: number;
  readonly log: (line: string) => void;
}

export interface ScaleCase {
  readonly kind: CandidateKind;
  readonly count: number;
  readonly window?: number;
  readonly nodeFlags?: string[];
}

/** One usage sample, `atS` seconds after the last election was won (or the timeout). */
export interface MemorySample {
  readonly atS: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

/** Settling after the burst, before the idle window: the last watches are in place. */
const SETTLE_MS = 15_000;
const SAMPLE_EVERY_MS = 10_000;

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
  /** At the end of the idle window, `rssAtS` s after the last win. */
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  readonly rssAtS: number;
  /** The last sample, `steadyAtS` s after the last win (about `steadyMs`): idle all along. */
  readonly steadyRssBytes: number;
  readonly steadyHeapUsedBytes: number;
  readonly steadyAtS: number;
  readonly memory: MemorySample[];
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
    const quietFrom = performance.now();
    const memory: MemorySample[] = [];
    const sample = async (): Promise<Usage & MemorySample> => {
      const [u] = await usageOf(fleet, [child]);
      const at = { ...u!, atS: (performance.now() - quietFrom) / 1000 };
      memory.push({ atS: at.atS, rssBytes: at.rssBytes, heapUsedBytes: at.heapUsedBytes });
      return at;
    };
    /** Waits until `ms` after the last win, sampling every 10 s on the way. */
    const sampleUntil = async (ms: number): Promise<void> => {
      for (;;) {
        const left = quietFrom + ms - performance.now();
        if (left <= 0) return;
        await pause(Math.min(left, SAMPLE_EVERY_MS));
        if (quietFrom + ms - performance.now() > 1000) await sample(); // the caller samples at `ms` itself
      }
    };
    await sample();
    await sampleUntil(SETTLE_MS);
    const m0 = await scrape(o.metricsUrls);
    const u0 = await sample();
    const t1 = performance.now();
    await sampleUntil(SETTLE_MS + o.windowMs);
    const m1 = await scrape(o.metricsUrls);
    const u1 = await sample();
    const idleWindowMs = performance.now() - t1;
    await sampleUntil(o.steadyMs);
    const steady = o.steadyMs > SETTLE_MS + o.windowMs ? await sample() : u1;
    return {
      kind,
      count,
      window: window ?? null,
      nodeFlags,
      elected,
      errors,
      topErrors,
      allElectedMs,
      idleCpuPercent: ((u1.cpuMs - u0.cpuMs) / idleWindowMs) * 100,
      rssBytes: u1.rssBytes,
      heapUsedBytes: u1.heapUsedBytes,
      rssAtS: u1.atS,
      steadyRssBytes: steady.rssBytes,
      steadyHeapUsedBytes: steady.heapUsedBytes,
      steadyAtS: steady.atS,
      memory,
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
      `  scale ${c.kind} × ${c.count} (${started(row)}): ${row.elected} elected in ${fmt(row.allElectedMs)} ms, ${row.errors} errors, idle CPU ${fmt(row.idleCpuPercent, 2)} %, RSS ${mb(row.rssBytes)} MB at ${fmt(row.rssAtS, 0)} s, ${mb(row.steadyRssBytes)} MB at ${fmt(row.steadyAtS, 0)} s (heap ${mb(row.steadyHeapUsedBytes)} MB)`,
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
    `${mb(r.rssBytes)} (${fmt(r.rssAtS, 0)} s)`,
    `${mb(r.steadyRssBytes)} (${fmt(r.steadyAtS, 0)} s)`,
    mb(r.steadyHeapUsedBytes),
    fmt(r.idleCpuPercent, 2),
    fmt(r.idle.requests / (r.idleWindowMs / 1000), 2),
  ]);
  const best = rows.filter((r) => r.kind === 'locked-core');
  return {
    id: '7-scale',
    title: '7. Scale: many elections in one process',
    body: [
      `One process (compiled JavaScript under plain node, a fresh process per row) leads N elections, each alone in its election, TTL ${ttlSec} s. "All elected" is from the start command to the last win; then, after ${SETTLE_MS / 1000} s of settling, the process is left idle: its CPU (user + system over the idle window), the requests etcd received, and its RSS at the end of that window. Its RSS and heap are sampled every ${SAMPLE_EVERY_MS / 1000} s until the last column's time, the process idle all along (the times are seconds after the last win).`,
      '',
      "Right after the burst, RSS is mostly heap V8 grew to while starting the elections, not what they keep (`npm run bench:memory` measures that after a full collection: a few KB each). V8 returns it by itself once the process has been quiet for a while: its memory reducer (V8's src/heap/memory-reducer.cc) starts after a full collection, checks every 8 s whether the allocation rate has dropped, and then collects up to three times; an idle process with 10,000 elections still allocates a little at each renewal, so that takes one to two minutes here. The row with `--max-old-space-size` caps the old generation, as a deployment with many elections in one process may: V8 then collects during the burst, which is slower.",
      '',
      table(
        [
          'implementation',
          'elections',
          'started',
          'elected',
          'all elected s',
          'errors',
          'RSS MB after the idle window',
          'RSS MB, idle longer',
          'heap in use MB, then',
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
      'RSS over time (MB; columns are seconds after the last win):',
      '',
      memoryTable(rows),
      '',
      `Target (locked): 10,000 elections in one process under 200 MB RSS and under 2 % of a core while idle. Measured, idle since the burst: ${best.map((r) => `${started(r)}: ${mb(r.steadyRssBytes)} MB at ${fmt(r.steadyAtS, 0)} s (${mb(r.rssBytes)} MB at ${fmt(r.rssAtS, 0)} s), ${fmt(r.idleCpuPercent, 2)} %`).join('; ')}.`,
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
              ? `${fmt(r.allElectedMs / 1000, 1)} s, ${mb(r.steadyRssBytes)} MB idle`
              : `${r.elected} of ${r.count} elected`,
          })),
        },
      ],
    }),
    targets: best
      .filter((r) => r.count === 10_000)
      .map((r) => ({
        target: `10,000 elections in one process (${started(r)}): < 200 MB RSS and < 2 % of a core idle`,
        measured: `${mb(r.steadyRssBytes)} MB RSS ${fmt(r.steadyAtS, 0)} s after the last win (heap in use ${mb(r.steadyHeapUsedBytes)} MB; ${mb(r.rssBytes)} MB at ${fmt(r.rssAtS, 0)} s), ${fmt(r.idleCpuPercent, 2)} % CPU`,
        met: r.steadyRssBytes < 200 * 2 ** 20 && r.idleCpuPercent < 2,
      })),
    headline: {
      'scale: 10,000 elections in one process — all elected / RSS after the idle window → idle longer / idle CPU':
        Object.fromEntries(
          rows
            .filter(
              (r) =>
                r.count === 10_000 && (r.kind !== 'locked-core' || (r.window === null && r.nodeFlags.length === 0)),
            )
            .map((r) => [
              r.kind === 'locked-core' ? 'locked' : r.kind,
              `${Number.isFinite(r.allElectedMs) ? `${fmt(r.allElectedMs / 1000, 1)} s` : `${r.elected} won`} / ${mb(r.rssBytes)} → ${mb(r.steadyRssBytes)} MB / ${fmt(r.idleCpuPercent, 2)} %`,
            ]),
        ),
    },
    raw: rows,
  };
}

/** Each row's RSS at every 30 s after the last win (the sample nearest to it). */
function memoryTable(rows: ScaleRow[]): string {
  const lastS = Math.max(0, ...rows.flatMap((r) => r.memory.map((m) => m.atS)));
  const marks = Array.from({ length: Math.floor(lastS / 30 + 0.5) + 1 }, (_, i) => i * 30);
  return table(
    ['implementation', 'started', ...marks.map((t) => `${t} s`)],
    rows.map((r) => [
      label(r.kind),
      started(r),
      ...marks.map((t) => {
        const near = r.memory.reduce<MemorySample | null>(
          (best, m) => (best === null || Math.abs(m.atS - t) < Math.abs(best.atS - t) ? m : best),
          null,
        );
        return near && Math.abs(near.atS - t) <= 6 ? mb(near.rssBytes) : '–';
      }),
    ]),
  );
}
