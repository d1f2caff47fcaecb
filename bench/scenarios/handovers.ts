import type { CandidateKind } from '../candidates/protocol.js';
import { Fleet, type Candidate } from '../lib/fleet.js';
import { label } from '../lib/labels.js';
import { table } from '../lib/markdown.js';
import type { Section } from '../lib/report.js';
import { countMedianP90, fmt, summarize, type Summary } from '../lib/stats.js';
import { barChart, type Bar } from '../lib/svg.js';
import { etcdctlRun, etcdctlStartMs, type EtcdctlSample } from './etcdctl.js';
import { failoverRun, fillPool, type FailoverSample } from './failover.js';
import { crossProcessFloor, leaseExpiryFloor, writeWatchFloor } from './floor.js';

/**
 * Scenarios 1–4: time to first leader, graceful handover, crash handover at
 * each TTL, and the floors (write + watch; lease expiry), for every
 * implementation, on one cluster, in one run; the implementations take turns
 * run by run (etcdctl's runs, a process per candidate, come after).
 */
export interface HandoverOptions {
  readonly endpoints: string;
  readonly kinds: CandidateKind[];
  readonly ttls: number[];
  readonly runs: number;
  readonly floorSamples: number;
  readonly etcdctl: boolean;
  readonly etcdctlCrash: boolean;
  readonly random: () => number;
  readonly log: (line: string) => void;
}

interface KindResult {
  readonly kind: string;
  readonly byTtl: { ttlSec: number; samples: FailoverSample[]; failures: string[] }[];
}

export interface HandoverData {
  readonly kinds: KindResult[];
  readonly etcdctl: { samples: EtcdctlSample[]; failures: string[]; startMs: number[] } | null;
  readonly writeWatchMs: number[];
  readonly plusLinearizableReadMs: number[];
  readonly plusRevisionReadMs: number[];
  /** Delete sent → its watch event in another, idle process. */
  readonly crossProcessMs: number[];
  readonly leaseExpiryExcessMs: number[];
  readonly leaseExpiryTtlSec: number;
}

export async function measureHandovers(o: HandoverOptions): Promise<HandoverData> {
  const writeWatchMs: number[] = [];
  const plusLinearizableReadMs: number[] = [];
  const plusRevisionReadMs: number[] = [];
  const crossProcessMs: number[] = [];
  const floorBatch = async (tag: string): Promise<void> => {
    const half = Math.ceil(o.floorSamples / 2);
    const samples = await writeWatchFloor(o.endpoints, half, `/bench/floor/${tag}/`);
    writeWatchMs.push(...samples.writeWatchMs);
    plusLinearizableReadMs.push(...samples.plusLinearizableReadMs);
    plusRevisionReadMs.push(...samples.plusRevisionReadMs);
    const across = await crossProcessFloor(o.endpoints, half, `/bench/floor/${tag}-across/`);
    crossProcessMs.push(...across);
    o.log(
      `  floor (write + watch), ${samples.writeWatchMs.length} samples: median ${fmt(summarize(samples.writeWatchMs).median)} ms; across processes ${fmt(summarize(across).median)} ms`,
    );
  };
  await floorBatch('before');
  // The kinds take turns, run by run, so that a slow spell of the shared machine falls on all of them alike.
  const lanes = o.kinds.map((kind) => {
    const result: KindResult = { kind, byTtl: [] };
    return { kind, fleet: new Fleet(), pool: [] as Candidate[], result };
  });
  const kinds = lanes.map((lane) => lane.result);
  try {
    for (const ttlSec of o.ttls) {
      const entries = lanes.map((lane) => {
        const entry = { ttlSec, samples: [] as FailoverSample[], failures: [] as string[] };
        lane.result.byTtl.push(entry);
        return entry;
      });
      for (let run = 0; run < o.runs; run++) {
        for (const [i, lane] of lanes.entries()) {
          const { kind, fleet } = lane;
          const entry = entries[i]!;
          const name = `/bench/${kind}/${ttlSec}/${run}/${process.pid}`;
          try {
            lane.pool = await fillPool(fleet, lane.pool, kind, o.endpoints);
            const s = await failoverRun(lane.pool, {
              fleet,
              kind,
              endpoints: o.endpoints,
              ttlSec,
              name,
              random: o.random,
            });
            entry.samples.push(s);
            o.log(
              `  ${kind} TTL ${ttlSec} s run ${run + 1}/${o.runs}: first ${fmt(s.firstLeaderMs)} ms, graceful ${fmt(s.gracefulMs)} ms, crash ${fmt(s.crashMs)} ms (floor ${fmt(s.crashFloorMs)})`,
            );
          } catch (err) {
            const message = err instanceof Error ? err.message : String(err);
            entry.failures.push(message);
            o.log(`  ${kind} TTL ${ttlSec} s run ${run + 1}: FAILED ${message}`);
            await Promise.all(lane.pool.map((c) => c.exit()));
            lane.pool = [];
          }
        }
      }
    }
  } finally {
    await Promise.all(lanes.map((lane) => lane.fleet.close()));
  }
  let etcdctl: HandoverData['etcdctl'] = null;
  if (o.etcdctl) {
    etcdctl = { samples: [], failures: [], startMs: [] };
    const fleet = new Fleet();
    for (let i = 0; i < Math.min(o.runs, 5); i++) etcdctl.startMs.push(await etcdctlStartMs(o.endpoints));
    for (let run = 0; run < o.runs; run++) {
      try {
        const crash = o.etcdctlCrash && run < 2;
        const s = await etcdctlRun(fleet, o.endpoints, `/bench/etcdctl/${run}/${process.pid}`, { crash });
        etcdctl.samples.push(s);
        o.log(
          `  etcdctl run ${run + 1}/${o.runs}: first ${fmt(s.firstLeaderMs)} ms, graceful ${fmt(s.gracefulMs)} ms${s.crashMs ? `, crash ${fmt(s.crashMs)} ms` : ''}`,
        );
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        etcdctl.failures.push(message);
        o.log(`  etcdctl run ${run + 1}: FAILED ${message}`);
      }
    }
  }
  await floorBatch('after');
  const leaseExpiryTtlSec = 2;
  const leaseExpiryExcessMs = await leaseExpiryFloor(
    o.endpoints,
    o.floorSamples,
    leaseExpiryTtlSec,
    `/bench/floor/lease-${process.pid}/`,
  );
  o.log(`  floor (lease expiry beyond TTL): median ${fmt(summarize(leaseExpiryExcessMs).median)} ms`);
  return {
    kinds,
    etcdctl,
    writeWatchMs,
    plusLinearizableReadMs,
    plusRevisionReadMs,
    crossProcessMs,
    leaseExpiryExcessMs,
    leaseExpiryTtlSec,
  };
}

const cells = (s: Summary): string[] => [String(s.n), fmt(s.median), fmt(s.p90), fmt(s.max)];
const bar = (name: string, s: Summary, accent: boolean, note?: string): Bar => ({
  label: name,
  value: s.median,
  p90: s.p90,
  max: s.max,
  accent,
  ...(note ? { note } : {}),
});
const pooled = (k: KindResult, pick: (s: FailoverSample) => number): Summary =>
  summarize(k.byTtl.flatMap((t) => t.samples.map(pick)));
const failures = (d: HandoverData): string[] => [
  ...d.kinds.flatMap((k) => k.byTtl.flatMap((t) => t.failures.map((f) => `${label(k.kind)}, TTL ${t.ttlSec} s: ${f}`))),
  ...(d.etcdctl?.failures.map((f) => `etcdctl: ${f}`) ?? []),
];

export function handoverSections(d: HandoverData): Section[] {
  const header = ['implementation', 'runs', 'median ms', 'p90 ms', 'max ms'];
  const floor = summarize(d.writeWatchMs);
  const across = d.crossProcessMs.length > 0 ? summarize(d.crossProcessMs) : null;
  const expiry = summarize(d.leaseExpiryExcessMs);
  const failed = failures(d);
  const failNote = failed.length
    ? `\n\nFailed runs (not in the statistics):\n${failed.map((f) => `- ${f}`).join('\n')}`
    : '';
  const ctlStart = d.etcdctl ? summarize(d.etcdctl.startMs) : null;

  // 1. first leader
  const firstRows = d.kinds.map((k) => [label(k.kind), ...cells(pooled(k, (s) => s.firstLeaderMs))]);
  const firstBars = d.kinds.map((k) =>
    bar(
      label(k.kind),
      pooled(k, (s) => s.firstLeaderMs),
      k.kind === 'locked',
    ),
  );
  if (d.etcdctl && ctlStart) {
    const s = summarize(d.etcdctl.samples.map((x) => x.firstLeaderMs));
    firstRows.push([`${label('etcdctl')} ¹`, ...cells(s)]);
    firstBars.push(bar(`${label('etcdctl')} ¹`, s, false));
  }
  const first: Section = {
    id: '1-first-leader',
    title: '1. Time to first leader, 3 candidates',
    body: [
      'Three candidate processes, each already connected to etcd, are told to start at the same moment; the time is from that moment to the first "you lead" signal of the library (`select`, `elected`, the Campaign reply), on CLOCK_MONOTONIC shared by all processes. Pooled over the runs at every TTL. The implementations take turns run by run, so that a slow spell of the machine falls on all of them alike (etcdctl\'s runs come after the others\').',
      '',
      table(header, firstRows),
      '',
      ctlStart
        ? `¹ etcdctl is a new process per candidate: its time includes starting the binary and connecting (one \`etcdctl get\` takes ${fmt(ctlStart.median)} ms median here).`
        : '',
      failNote,
    ].join('\n'),
    svg: barChart({
      title: '1. Time to first leader (3 candidates)',
      unit: 'ms',
      groups: [{ bars: firstBars }],
      log: true,
    }),
    headline: {
      'first leader, 3 candidates (median)': Object.fromEntries([
        ...d.kinds.map((k) => [k.kind, `${fmt(pooled(k, (s) => s.firstLeaderMs).median)} ms`]),
        ...(d.etcdctl
          ? [['etcdctl', `${fmt(summarize(d.etcdctl.samples.map((x) => x.firstLeaderMs)).median)} ms ¹`]]
          : []),
      ]),
    },
    raw: d,
  };

  // 2. graceful handover, beside the floor
  const gracefulRows = d.kinds.map((k) => {
    const s = pooled(k, (x) => x.gracefulMs);
    return [label(k.kind), ...cells(s), `${fmt(s.median / floor.median, 1)}×`];
  });
  const gracefulBars = d.kinds.map((k) =>
    bar(
      label(k.kind),
      pooled(k, (s) => s.gracefulMs),
      k.kind === 'locked',
    ),
  );
  if (d.etcdctl) {
    const s = summarize(d.etcdctl.samples.map((x) => x.gracefulMs));
    gracefulRows.push([label('etcdctl'), ...cells(s), `${fmt(s.median / floor.median, 1)}×`]);
    gracefulBars.push(bar(label('etcdctl'), s, false));
  }
  gracefulRows.push(['floor: one write + one watch delivery (4)', ...cells(floor), '1.0×']);
  gracefulBars.push(bar('floor: write + watch', floor, false));
  if (across) {
    gracefulRows.push([
      'floor across processes: one write + its watch delivery in another, idle process (4)',
      ...cells(across),
      `${fmt(across.median / floor.median, 1)}×`,
    ]);
    gracefulBars.push(bar('floor across processes', across, false));
  }
  const recheckFloor = summarize(d.plusRevisionReadMs);
  gracefulRows.push([
    "floor with the successor's re-check: … + one serializable read at the event's revision (4)",
    ...cells(recheckFloor),
    `${fmt(recheckFloor.median / floor.median, 1)}×`,
  ]);
  const lockedGraceful = d.kinds.find((k) => k.kind === 'locked');
  const lockedRatio = lockedGraceful ? pooled(lockedGraceful, (s) => s.gracefulMs).median / floor.median : NaN;
  const lockedGracefulMedian = lockedGraceful ? pooled(lockedGraceful, (s) => s.gracefulMs).median : NaN;
  const acrossNote = across
    ? `; ${fmt(lockedGracefulMedian / across.median, 2)}× the floor across processes (${fmt(across.median)} ms)`
    : '';
  const alternatives: [string, number][] = [
    ...d.kinds
      .filter((k) => k.kind !== 'locked')
      .map((k): [string, number] => [k.kind, pooled(k, (s) => s.gracefulMs).median]),
    ...(d.etcdctl
      ? [['etcdctl', summarize(d.etcdctl.samples.map((x) => x.gracefulMs)).median] as [string, number]]
      : []),
  ];
  // The same runs split by whether the leader or its successor is a process in its first run.
  const freshRows = d.kinds
    .filter((k) => k.kind !== 'locked-v2')
    .map((k) => {
      const all = k.byTtl.flatMap((t) => t.samples);
      const part = (fresh: boolean): string[] =>
        countMedianP90(all.filter((x) => x.gracefulFresh === fresh).map((x) => x.gracefulMs));
      return [label(k.kind), ...part(false), ...part(true)];
    });
  const fastest = alternatives.reduce<[string, number] | null>((a, b) => (a === null || b[1] < a[1] ? b : a), null);
  const graceful: Section = {
    id: '2-graceful-handover',
    title: '2. Graceful handover',
    body: [
      "The leader leaves the library's graceful way (locked: `stop()`; etcd3: `campaign.resign()`; v3election: `Resign`; etcdctl: SIGINT, on which it resigns; locked 2.4.1: `stop()`, which releases nothing, so the key stays until its TTL runs out). Time from that call to the next candidate's \"you lead\". The last column is the median over the floor's median (scenario 4), measured in the same run.",
      '',
      table([...header, '÷ floor'], gracefulRows),
      '',
      `Target: locked's median within 1.5× the floor, and no slower than any alternative. Measured: ${fmt(lockedRatio, 2)}× the floor${acrossNote}; ${fmt(lockedGracefulMedian / recheckFloor.median, 2)}× the floor with the re-check.`,
      '',
      "A handover crosses processes: the successor's process sits idle until the delete arrives, then takes it in through its own HTTP/2 and gRPC stack. The floor across processes measures what that costs with plain etcd3 clients: the same write and delivery as the floor, with the watch in a process of its own that was idle for 20–50 ms before the write.",
      '',
      "**Processes in their first run.** Each run's crash (scenario 3) kills the graceful successor's process, so the next run starts a new one; when that process is the next handover's leader or successor, the handover is the first for its code: V8 compiles functions on their first call, protobufjs generates a message type's encoder and decoder on first use, and npm etcd3 (which locked uses) makes a gRPC client per member and service on first use. The same runs, split:",
      '',
      table(
        [
          'implementation',
          'runs, both processes had run before',
          'median ms',
          'p90 ms',
          'runs with a process in its first run',
          'median ms',
          'p90 ms',
        ],
        freshRows,
      ),
      '',
      "The protocol (DESIGN.md §2, as Go's `waitDeletes`) has the successor re-check after the delete event, since the event alone does not show that no older key is left or that its own key still stands. A client that watches only its predecessor re-checks with a read, so its floor is the second row: locked's core API reads member-local at the delete's revision (no Raft round; the store at a revision is the same on every member), npm etcd3 first cancels its watch and waits for etcd to confirm the cancel, then makes a linearizable read, and etcd's v3election service runs the re-check inside etcd. locked's seed facade (measured here) names its heir: the leader's resign deletes its key and writes the election's term record naming the candidate next in line, in one transaction, and that candidate, which watches the record and its predecessor's key in one watch (both events come in one response), leads on the record's event with no request (DESIGN.md, \"Taking over\"). Its floor is the first row. Each seed node follows the leader's key alone (herd-free), so a leader that has not yet had a confirmation since the others queued (its first renewal's) learns whom to name from that confirmation's answer, awaited if it is in flight (`npm run bench:steps -- --phase=renewal`: 2.2–3.2 ms before the resign leaves, against 0.5–0.8 ms).",
      '',
      "Where locked's time goes, step by step across processes: `npm run bench:steps` ([graceful-steps.md](graceful-steps.md)).",
      failNote,
    ].join('\n'),
    svg: barChart({
      title: '2. Graceful handover (leave → next leader)',
      unit: 'ms',
      groups: [{ bars: gracefulBars }],
      log: true,
    }),
    targets: [
      {
        target: 'graceful handover: median within 1.5× the floor (write + watch)',
        measured: `${fmt(lockedGracefulMedian)} ms = ${fmt(lockedRatio, 2)}× the floor's ${fmt(floor.median)} ms${acrossNote}`,
        met: lockedRatio <= 1.5,
      },
      {
        target: 'graceful handover: no slower than any alternative',
        measured: fastest
          ? `locked ${fmt(lockedGracefulMedian)} ms; fastest alternative ${label(fastest[0])} ${fmt(fastest[1])} ms`
          : 'no alternative measured',
        met: fastest === null || lockedGracefulMedian <= fastest[1],
      },
    ],
    headline: {
      'graceful handover (median)': Object.fromEntries([
        ...d.kinds.map((k) => [k.kind, `${fmt(pooled(k, (s) => s.gracefulMs).median)} ms`]),
        ...(d.etcdctl ? [['etcdctl', `${fmt(summarize(d.etcdctl.samples.map((x) => x.gracefulMs)).median)} ms`]] : []),
        ['floor', `${fmt(floor.median)} ms`],
      ]),
    },
    raw: { floor, writeWatchMs: d.writeWatchMs },
  };

  // 3. crash handover at each TTL. locked's target follows its protocol since c62b1c5 (DESIGN.md
  // "Taking over"): after the lease's expiry its successor holds off one TTL × (1 + drift); the
  // others keep the old target, for comparison.
  const crashTarget = (kind: string, ttlSec: number): { text: string; p99: boolean; boundMs: number } =>
    kind === 'locked'
      ? { text: 'p99 ≤ 2 × TTL + 1 s', p99: true, boundMs: 2 * ttlSec * 1000 + 1000 }
      : { text: 'p90 ≤ TTL + 600 ms', p99: false, boundMs: ttlSec * 1000 + 600 };
  const crashCells = (s: Summary): string[] => [String(s.n), fmt(s.median), fmt(s.p90), fmt(s.p99), fmt(s.max)];
  const crashMet = (s: Summary, t: ReturnType<typeof crashTarget>): string =>
    `${t.text} (${t.boundMs} ms): ${(t.p99 ? s.p99 : s.p90) <= t.boundMs ? 'yes' : '**no**'}`;
  const crashRows: string[][] = [];
  const crashGroups = [...new Set(d.kinds.flatMap((k) => k.byTtl.map((t) => t.ttlSec)))].map((ttlSec) => {
    const bars: Bar[] = [];
    for (const k of d.kinds) {
      const t = k.byTtl.find((x) => x.ttlSec === ttlSec);
      if (!t) continue;
      const crash = summarize(t.samples.map((s) => s.crashMs));
      const floorS = summarize(t.samples.map((s) => s.crashFloorMs));
      const excess = summarize(t.samples.map((s) => s.crashExcessMs));
      crashRows.push([
        label(k.kind),
        `${ttlSec} s`,
        ...crashCells(crash),
        fmt(floorS.median),
        fmt(excess.median),
        fmt(excess.p90),
        crashMet(crash, crashTarget(k.kind, ttlSec)),
      ]);
      bars.push(bar(label(k.kind), crash, k.kind === 'locked'));
    }
    return { title: `TTL ${ttlSec} s`, bars };
  });
  const ctlCrash = d.etcdctl?.samples.flatMap((s) => (s.crashMs === undefined ? [] : [s.crashMs])) ?? [];
  if (ctlCrash.length) {
    const s = summarize(ctlCrash);
    crashRows.push([
      label('etcdctl'),
      '60 s',
      ...crashCells(s),
      '–',
      '–',
      '–',
      crashMet(s, crashTarget('etcdctl', 60)),
    ]);
  }
  const crash: Section = {
    id: '3-crash-handover',
    title: '3. Crash handover (SIGKILL of the leader)',
    body: [
      "The leader's process is killed with SIGKILL at a random phase of its keepalive cycle (after one of its renewals, plus a random wait of up to TTL/3); the time is from the kill to the next candidate's \"you lead\". The **floor** is the earliest moment etcd may expire the dead leader's lease — its last acknowledged renewal + TTL − the kill (for locked 2.4.1, whose refresh never succeeds, its key's last write + TTL). The **excess** is everything after that floor: etcd's lease-expiry check (every 500 ms in etcd 3.4), the revoke through Raft, one watch delivery and the library's reaction.",
      '',
      table(
        [
          'implementation',
          'TTL',
          'runs',
          'median ms',
          'p90 ms',
          'p99 ms',
          'max ms',
          'floor median',
          'excess median',
          'excess p90',
          'target: met',
        ],
        crashRows,
      ),
      '',
      "**Targets.** locked 3: p99 ≤ 2 × TTL + 1 s. Since c62b1c5 (docs/DESIGN.md, \"Taking over\") locked's successor does not trust the dead leader's key deletion: it claims the election's term record, finds a holder that did not resign, and waits one TTL × 1.01 more before it leads, so its excess holds that wait and its crash handover takes up to about 2 × TTL. The other implementations lead on the deletion, as before, and are judged on the old target, p90 ≤ TTL + 600 ms, for comparison. With fewer than 100 runs the p99 (nearest rank) is the slowest run.",
      '',
      `etcd's own part, measured alone (4): a lease of ${d.leaseExpiryTtlSec} s never kept alive is seen deleted ${fmt(expiry.median)} ms (median), ${fmt(expiry.p90)} ms (p90), ${fmt(expiry.max)} ms (max) after its grant request + TTL.`,
      d.etcdctl && !ctlCrash.length
        ? '\n`etcdctl elect` has no TTL flag (its session is 60 s): its crash handover is not run by default (`--etcdctl-crash` runs two); the v3election rows are the same algorithm with a TTL we choose.'
        : '',
      failNote,
    ].join('\n'),
    targets: (d.kinds.find((k) => k.kind === 'locked')?.byTtl ?? []).map((t) => {
      const s = summarize(t.samples.map((x) => x.crashMs));
      const bound = crashTarget('locked', t.ttlSec).boundMs;
      return {
        target: `crash handover at TTL ${t.ttlSec} s: p99 ≤ 2 × TTL + 1 s (locked since c62b1c5; was p90 ≤ TTL + 600 ms)`,
        measured: `p99 ${fmt(s.p99)} ms of ${s.n} runs (bound ${bound} ms); median ${fmt(s.median)}, p90 ${fmt(s.p90)} ms`,
        met: s.p99 <= bound,
      };
    }),
    svg: barChart({
      title: '3. Crash handover (SIGKILL → next leader)',
      unit: 'ms',
      groups: crashGroups,
    }),
    headline: Object.fromEntries(
      [...new Set(d.kinds.flatMap((k) => k.byTtl.map((t) => t.ttlSec)))].map((ttlSec) => [
        `crash handover, TTL ${ttlSec} s (median / p90 / p99)`,
        Object.fromEntries(
          d.kinds.flatMap((k) => {
            const t = k.byTtl.find((x) => x.ttlSec === ttlSec);
            if (!t) return [];
            const s = summarize(t.samples.map((x) => x.crashMs));
            return [[k.kind, `${fmt(s.median)} / ${fmt(s.p90)} / ${fmt(s.p99)} ms`]];
          }),
        ),
      ]),
    ),
    raw: null,
  };

  // 4. floors
  const floorSection: Section = {
    id: '4-floor',
    title: '4. The physical floor of a handover on this cluster',
    body: [
      'Measured in the same run as 1–3, with plain etcd3 clients, each on its own connections (like two candidate processes; etcd3 sends each request to a random member).',
      '',
      table(
        ['what', 'samples', 'median ms', 'p90 ms', 'max ms'],
        [
          ['one write (delete) + one watch delivery to another client', ...cells(floor)],
          ...(across ? [['… the watch in another process, idle for 20–50 ms before the write', ...cells(across)]] : []),
          [
            '… + one linearizable read (a re-check as locked and etcd3 do it)',
            ...cells(summarize(d.plusLinearizableReadMs)),
          ],
          ["… + one serializable read at the event's revision instead", ...cells(summarize(d.plusRevisionReadMs))],
          [
            `lease expiry: grant (TTL ${d.leaseExpiryTtlSec} s, never kept alive) + TTL → its key's delete delivered`,
            ...cells(expiry),
          ],
        ],
      ),
      '',
      'The first row is the least any graceful handover can cost (the resign is one write; the successor learns of it from one watch event); the second is the same between two processes, as in a handover between candidates, where the successor\'s process wakes up and takes the event in through its own HTTP/2 and gRPC stack. The next two add the successor\'s re-check "am I first now?" (DESIGN.md §2: never assume leadership from one delete event): a linearizable read costs a Raft ReadIndex round and waits for the apply, on the order of the write itself; a member-local read *at the revision of the delete event* answers the same question for that revision (create revisions only grow, so no older key can appear later) without the round. The lease-expiry row is what etcd adds to any crash handover beyond the lease TTL: the expiry check runs every 500 ms, then the revoke goes through Raft and the delete through the watch.',
    ].join('\n'),
    svg: barChart({
      title: '4. Floors: write + watch, and lease expiry beyond TTL',
      unit: 'ms',
      groups: [{ bars: [bar('write + watch delivery', floor, true), bar('lease expiry beyond TTL', expiry, false)] }],
      log: true,
    }),
    headline: {
      'floor: one write + one watch (median)': { locked: `${fmt(floor.median)} ms` },
      ...(across ? { 'floor: … the watch in another process (median)': { locked: `${fmt(across.median)} ms` } } : {}),
      'floor: lease expiry beyond TTL (median / p90)': { locked: `${fmt(expiry.median)} / ${fmt(expiry.p90)} ms` },
    },
    raw: {
      writeWatchMs: d.writeWatchMs,
      plusLinearizableReadMs: d.plusLinearizableReadMs,
      plusRevisionReadMs: d.plusRevisionReadMs,
      crossProcessMs: d.crossProcessMs,
      leaseExpiryExcessMs: d.leaseExpiryExcessMs,
    },
  };
  return [first, graceful, crash, floorSection];
}
