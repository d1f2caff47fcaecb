/**
 * `npm run bench:steps [-- --impl=I --runs=N --ttl=S --phase=P --pin=M --wire --cpu]`: where the time of
 * a graceful handover goes, across processes. Three candidate processes of
 * implementation I on a local 3-member etcd this script starts: `locked` (the
 * seed facade, the default), `etcd3`, `v3election` or `etcdctl` (`etcdctl
 * elect`, one process per run and candidate, 60 s session). In each run the
 * leader leaves gracefully (its `stop()`; etcdctl: SIGINT, on which it resigns)
 * and the successor's "you lead" is timed from it on the monotonic clock all
 * processes share, as is the delete's arrival at an independent etcd3 watcher
 * in this script. locked's processes also record (bench/candidates/steps.ts)
 * when its requests leave and are answered and when watch events arrive.
 * The leader stops at a random phase of its renew interval, after a renewal that
 * came once the others had queued (`--phase=renewal`: right after that renewal,
 * when every candidate's keepalive and confirmation are in flight).
 * `--pin=raft-leader` or `--pin=follower` gives every candidate one member's endpoint
 * (the Raft leader's, or a follower's) instead of all three.
 * Median and p90 over the runs, printed and written to
 * bench/results/graceful-steps.md (another implementation:
 * graceful-steps-<impl>.md).
 *
 * With `--wire` (needs tcpdump, Debian's `tcpdump` package, and root), the
 * loopback traffic to the etcd members is captured too, and each run is also
 * timed on the wire: when the leader's request leaves its socket, when the
 * delete event reaches the successor's socket. That splits the handover into
 * the leader's process, etcd, and the successor's process. `--dump=FILE` also
 * writes each run (its steps, its wire times, the trail of each of the three processes:
 * requests, answers, watch events and stream writes) as JSON, with the
 * leader's stop() on the monotonic clock (`stopAt`, ms; `perf record -k mono` uses the
 * same clock) and the leader's and successor's PIDs, to line a run up with a profile.
 * `--cpu` (locked, Linux) has each candidate process record its CPU after each watch event, its election
 * and its stop (bench/candidates/cpu-reading.ts), and adds rows that split the successor's own time
 * into running, waiting for a CPU and sleeping (bench/lib/steps-cpu.ts); each reading costs the
 * process some 20–40 µs, on the path it measures.
 * `BENCH_CHILD_FLAGS` (space-separated) gives the candidate processes Node or V8 flags
 * that NODE_OPTIONS does not take, e.g. `BENCH_CHILD_FLAGS=--no-flush-bytecode`.
 */
import { writeFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { join } from 'node:path';
import { isDeleteEvent, type Step } from './candidates/steps.js';
import { monoMs } from './candidates/protocol.js';
import { EtcdCluster } from '../src/testing/etcd-cluster.js';
import { Fleet, type Entry } from './lib/fleet.js';
import { label } from './lib/labels.js';
import { QUEUE_SETTLE_MS, queuedAndRenewed, stopPhaseMs } from './scenarios/failover.js';
import { EtcdctlCandidate } from './scenarios/etcdctl.js';
import { LoadSampler, machine, machineMarkdown } from './lib/machine.js';
import { table } from './lib/markdown.js';
import type { Segment } from './lib/pcap.js';
import { countMedianP90, fmt } from './lib/stats.js';
import { CPU_STEPS, cpuRows } from './lib/steps-cpu.js';
import { pause } from './lib/usage.js';
import {
  WireCapture,
  handoverOnWire,
  wireRows,
  portOwners,
  wallOffsetMs,
  type HandoverOnWire,
  type HandoverRun,
} from './lib/wire-trace.js';

const RESULTS = join(__dirname, 'results');
const IMPLS = ['locked', 'etcd3', 'v3election', 'etcdctl'] as const;
type Impl = (typeof IMPLS)[number];

interface RunSteps {
  /** ms after the leader's stop() call; NaN when the step did not happen in that run. */
  readonly [step: string]: number;
}

const STEPS = [
  'leader: its read of the next candidate (the heir) leaves',
  'leader: its revoke or resign leaves',
  'leader: its request answered',
  'an independent etcd3 watcher (this script) has the delete',
  'successor: the delete event arrives (first watch response)',
  'successor: its confirming read leaves (a read-only txn; the heir leads on it)',
  'successor: that read answered',
  'successor: a claim leaves (one write to the term record; only if not named heir)',
  'successor: that claim answered',
  'successor: select',
  'other waiter: the delete event arrives (its watch of the leader key)',
  "successor's own time: from its delete event to select (ms, not after stop())",
  "successor's own time: from its delete event to its read leaving (ms, not after stop())",
  "successor's own time: from its read answered to select (ms, not after stop())",
] as const;

/** One graceful handover: the leaver's stop and the successor's select (monotonic ms), and what each process recorded. */
interface Handover {
  readonly stopAt: number;
  readonly selectAt: number;
  readonly leader: { readonly pid: number; readonly steps: Step[] };
  readonly successor: { readonly pid: number; readonly steps: Step[] };
  readonly other: Step[];
}

/** Runs one handover in election `name`; `beforeStop` runs once the others have queued, right before the leader leaves. */
type OneRun = (name: string, beforeStop: () => Promise<void>) => Promise<Handover>;

function stepsOf(h: Handover, deleteSeenAt: number): RunSteps {
  const after = (list: Step[], match: (what: string) => boolean): number => {
    const hit = list.find(([t, what]) => t >= h.stopAt && match(what));
    return hit ? hit[0] - h.stopAt : NaN;
  };
  const leaves = (what: string): boolean => what === 'sent lease revoke' || what === 'sent resign';
  const answered = (what: string): boolean => what === 'answered lease revoke' || what === 'answered resign';
  const successorEvent = after(h.successor.steps, isDeleteEvent);
  const successorSelect = h.selectAt - h.stopAt;
  const readSent = after(h.successor.steps, (w) => w === 'sent confirm first');
  const readAnswered = after(h.successor.steps, (w) => w === 'answered confirm first');
  return {
    [STEPS[0]]: after(h.leader.steps, (w) => w === 'sent read next candidate'),
    [STEPS[1]]: after(h.leader.steps, leaves),
    [STEPS[2]]: after(h.leader.steps, answered),
    [STEPS[3]]: deleteSeenAt - h.stopAt,
    [STEPS[4]]: successorEvent,
    [STEPS[5]]: readSent,
    [STEPS[6]]: readAnswered,
    [STEPS[7]]: after(h.successor.steps, (w) => w === 'sent claim term'),
    [STEPS[8]]: after(h.successor.steps, (w) => w === 'answered claim term'),
    [STEPS[9]]: successorSelect,
    [STEPS[10]]: after(h.other, isDeleteEvent),
    [STEPS[11]]: successorSelect - successorEvent,
    [STEPS[12]]: readSent - successorEvent,
    [STEPS[13]]: successorSelect - readAnswered,
  };
}

/** Three candidate processes of the benchmark's fleet, kept through every run; each run starts from an empty election. */
async function fleetRuns(
  fleet: Fleet,
  impl: Exclude<Impl, 'etcdctl'>,
  endpoints: string,
  ttlSec: number,
  phase: Phase,
): Promise<OneRun> {
  const childFlags = (process.env.BENCH_CHILD_FLAGS ?? '').split(' ').filter(Boolean);
  const pool = await fleet.spawn(impl, endpoints, 3, childFlags);
  const byWho = new Map(pool.map((c) => [c.who, c]));
  const elected = (e: Entry): boolean => byWho.has(e.who) && e.report.ev === 'elected';
  const stoppedOf = (who: number, from: number): Promise<Entry> =>
    fleet.next(`${who} stopped`, (e) => e.who === who && e.report.ev === 'stopped', from, 10_000);
  return async (name, beforeStop) => {
    await fleet.join(pool, { name, ttlSec, value: impl });
    const startMark = fleet.mark();
    for (const c of pool) c.send({ op: 'start' });
    const first = await fleet.next('a first leader', elected, startMark, 30_000);
    // Every candidate queued and quiet: a renewal of the leader once the others have had time to queue.
    await queuedAndRenewed(fleet, first, 7_000 + QUEUE_SETTLE_MS);
    if (phase === 'random') await pause(stopPhaseMs(Math.random, ttlSec));
    await beforeStop();
    const stopMark = fleet.mark();
    byWho.get(first.who)!.send({ op: 'stop' });
    const next = await fleet.next('the next leader', (e) => elected(e) && e.who !== first.who, stopMark, 15_000);
    const stopped = (await stoppedOf(first.who, stopMark)).report;
    const stepsMark = fleet.mark();
    for (const c of pool) c.send({ op: 'steps' });
    const reports = await Promise.all(
      pool.map((c) =>
        fleet.next(`steps of ${c.who}`, (e) => e.who === c.who && e.report.ev === 'steps', stepsMark, 10_000),
      ),
    );
    const stepsOfWho = (who: number): Step[] => {
      const r = reports.find((e) => e.who === who)!.report;
      return r.ev === 'steps' ? r.steps : [];
    };
    const other = pool.find((c) => c.who !== first.who && c.who !== next.who)!;
    // The others leave, so the next run starts from an empty election.
    const leaveMark = fleet.mark();
    const staying = pool.filter((c) => c.who !== first.who);
    for (const c of staying) c.send({ op: 'stop' });
    await Promise.all(staying.map((c) => stoppedOf(c.who, leaveMark)));
    for (const c of pool) c.send({ op: 'steps' }); // drop the leave's steps
    return {
      stopAt: stopped.ev === 'stopped' ? stopped.stopCalledAt : NaN,
      selectAt: next.report.t,
      leader: { pid: byWho.get(first.who)!.pid, steps: stepsOfWho(first.who) },
      successor: { pid: byWho.get(next.who)!.pid, steps: stepsOfWho(next.who) },
      other: stepsOfWho(other.who),
    };
  };
}

/** Three new `etcdctl elect` processes per run; the leader gets SIGINT; its successor's "elected" is its key read from its stdout. */
function etcdctlRuns(fleet: Fleet, endpoints: string): OneRun {
  return async (name, beforeStop) => {
    const from = fleet.mark();
    const candidates = [0, 1, 2].map((i) => new EtcdctlCandidate(fleet, endpoints, name, `v${i}`));
    const mine = new Set(candidates.map((c) => c.who));
    const elected = (e: Entry): boolean => mine.has(e.who) && e.report.ev === 'elected';
    try {
      const first = await fleet.next('a first etcdctl leader', elected, from, 15_000);
      // Let the two others queue (their process start and campaign): a settle, not an ordering, as in `npm run bench`.
      await pause(1000);
      const leader = candidates.find((c) => c.who === first.who)!;
      await beforeStop();
      const stopMark = fleet.mark();
      const stopAt = leader.signal('SIGINT');
      const next = await fleet.next(
        'the next etcdctl leader',
        (e) => elected(e) && e.who !== leader.who,
        stopMark,
        15_000,
      );
      const successor = candidates.find((c) => c.who === next.who)!;
      return {
        stopAt,
        selectAt: next.report.t,
        leader: { pid: leader.pid, steps: [] },
        successor: { pid: successor.pid, steps: [] },
        other: [],
      };
    } finally {
      await Promise.all(candidates.map((c) => c.end()));
    }
  };
}

/** Which members the candidates are given: all (etcd3 picks one at random per call), or one (`--pin`). */
type Pin = 'none' | 'raft-leader' | 'follower';

/** The candidates' endpoints: every member's, or, pinned, the Raft leader's or one follower's alone. */
async function endpointsFor(cluster: EtcdCluster, pin: Pin): Promise<string> {
  if (pin === 'none') return cluster.endpoints;
  const leader = await cluster.leaderIndex();
  const i = pin === 'raft-leader' ? leader : (leader + 1) % 3;
  console.log(`candidates pinned to member ${i} (the Raft leader is member ${leader})`);
  return cluster.endpoint(i);
}

/** When the leader stops: at a random phase of its renew interval, or right after a renewal (the worst case). */
type Phase = 'random' | 'renewal';

function parseArgs(argv: string[]): {
  impl: Impl;
  runs: number;
  ttlSec: number;
  wire: boolean;
  cpu: boolean;
  phase: Phase;
  pin: Pin;
  dump?: string;
} {
  const get = (name: string): string | undefined =>
    argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const impl = (get('impl') ?? 'locked') as Impl;
  if (!IMPLS.includes(impl)) throw new RangeError(`--impl must be one of ${IMPLS.join(', ')}, got ${impl}`);
  const runs = Number(get('runs') ?? 20);
  if (!(runs >= 1)) throw new RangeError(`--runs must be ≥ 1`);
  const ttlSec = Number(get('ttl') ?? 5);
  if (!(Number.isInteger(ttlSec) && ttlSec >= 1)) throw new RangeError(`--ttl must be a whole number of seconds ≥ 1`);
  const dump = get('dump');
  const phase = get('phase') ?? 'random';
  if (phase !== 'random' && phase !== 'renewal')
    throw new RangeError(`--phase must be random or renewal, got ${phase}`);
  const pin = get('pin') ?? 'none';
  if (pin !== 'none' && pin !== 'raft-leader' && pin !== 'follower')
    throw new RangeError(`--pin must be none, raft-leader or follower, got ${pin}`);
  const [wire, cpu] = [argv.includes('--wire'), argv.includes('--cpu')];
  if (cpu && impl !== 'locked')
    throw new RangeError("--cpu is for locked's processes (the only ones that record their steps)");
  return { impl, runs, ttlSec, wire, cpu, phase, pin, ...(dump ? { dump } : {}) };
}

async function main(): Promise<void> {
  const { impl, runs, ttlSec, wire, cpu, phase, pin, dump } = parseArgs(process.argv.slice(2));
  if (impl === 'locked') process.env.BENCH_STEPS = '1'; // inherited by the candidate processes
  if (cpu) process.env.BENCH_STEPS_CPU = '1';
  const load = new LoadSampler();
  const cluster = await EtcdCluster.start({ size: 3 });
  const fleet = new Fleet();
  // Sees the leader's delete from outside the candidates: splits "etcd wrote and delivered it" from
  // "the successor's process took it in".
  const observer = new Etcd3({ hosts: cluster.endpoints.split(',') });
  const samples: RunSteps[] = [];
  const handovers: Handover[] = [];
  const members = new Map(cluster.members.map((m, i) => [m.clientPort, i]));
  const wallOffset = wallOffsetMs();
  const wireRuns: HandoverRun[] = [];
  let capture: WireCapture | null = null;
  let segments: Segment[] = [];
  try {
    if (wire) capture = await WireCapture.start(cluster.members.flatMap((m) => [m.clientPort, m.peerPort]));
    const endpoints = await endpointsFor(cluster, pin);
    const oneRun =
      impl === 'etcdctl' ? etcdctlRuns(fleet, endpoints) : await fleetRuns(fleet, impl, endpoints, ttlSec, phase);
    for (let run = 0; run < runs; run++) {
      const name = `/bench/steps/${process.pid}/${run}`;
      // npm etcd3's Election keeps its keys under `election/<name>/`; the others under `<name>/`.
      const watcher = await observer
        .watch()
        .prefix(`${impl === 'etcd3' ? 'election/' : ''}${name}/`)
        .create();
      let deleteSeenAt = NaN;
      watcher.on('delete', () => {
        if (Number.isNaN(deleteSeenAt)) deleteSeenAt = monoMs();
      });
      let raftLeader = -1;
      let ownersBefore = new Map<number, number>();
      const h = await oneRun(name, async () => {
        if (!capture) return;
        raftLeader = await cluster.leaderIndex();
        ownersBefore = portOwners();
      });
      await watcher.cancel();
      if (capture) {
        const owners = new Map([...ownersBefore, ...portOwners()]);
        const portsOf = (pid: number): Set<number> =>
          new Set([...owners].filter(([, owner]) => owner === pid).map(([port]) => port));
        wireRuns.push({
          stopWall: h.stopAt + wallOffset,
          selectWall: h.selectAt + wallOffset,
          leaverPorts: portsOf(h.leader.pid),
          successorPorts: portsOf(h.successor.pid),
          members,
          raftLeader,
        });
      }
      samples.push({ ...stepsOf(h, deleteSeenAt), ...(cpu ? cpuRows(h.successor.steps, h.stopAt) : {}) });
      handovers.push(h);
      console.log(`  run ${run + 1}/${runs}: select ${fmt(samples.at(-1)![STEPS[9]]!)} ms after stop()`);
    }
  } finally {
    observer.close();
    await fleet.close();
    if (capture) segments = await capture.stop();
    await cluster.stop();
  }
  const measured = (step: string): number[] => samples.map((s) => s[step]!).filter((v) => Number.isFinite(v));
  // Only locked's processes record their steps: for the others, the rows this script measures itself.
  const steps =
    impl === 'locked' ? [...STEPS, ...(cpu ? CPU_STEPS : [])] : STEPS.filter((step) => measured(step).length > 0);
  const file = impl === 'locked' ? 'graceful-steps.md' : `graceful-steps-${impl}.md`;
  const args = [
    ...(impl === 'locked' ? [] : [`--impl=${impl}`]),
    `--runs=${runs}`,
    ...(impl === 'etcdctl' ? [] : [`--ttl=${ttlSec}`]), // etcdctl's session is 60 s
    ...(wire ? ['--wire'] : []),
    ...(cpu ? ['--cpu'] : []),
    ...(phase === 'renewal' && impl !== 'etcdctl' ? ['--phase=renewal'] : []),
  ];
  const command = `npm run bench:steps -- ${args.join(' ')}`;
  const md = [
    impl === 'locked'
      ? '# Graceful handover, step by step, across processes'
      : `# ${label(impl)}: graceful handover across processes`,
    '',
    ABOUT[impl](runs),
    '',
    table(
      ['step', 'runs', 'median ms', 'p90 ms'],
      steps.map((step) => [step, ...countMedianP90(measured(step))]),
    ),
    '',
    NOTES[impl],
    '',
    ...(capture
      ? wireSection(
          impl,
          wireRuns.map((r) => handoverOnWire(segments, r)),
        )
      : []),
    machineMarkdown(machine(), load.stop(), command),
    '',
  ].join('\n');
  writeFileSync(join(RESULTS, file), md);
  if (dump) {
    const onWire = wireRuns.map((r) => (capture ? handoverOnWire(segments, r) : null));
    const relative = (h: Handover, steps: Step[]): [number, string][] =>
      steps.filter(([t]) => t >= h.stopAt - 1).map(([t, what]) => [+(t - h.stopAt).toFixed(3), what]);
    const runsOut = samples.map((s, i) => {
      const h = handovers[i]!;
      const trail = {
        leader: relative(h, h.leader.steps),
        successor: relative(h, h.successor.steps),
        other: relative(h, h.other),
      };
      const procs = { stopAt: h.stopAt, leaderPid: h.leader.pid, successorPid: h.successor.pid };
      return { ...s, wire: onWire[i] ?? null, trail, ...procs };
    });
    writeFileSync(dump, JSON.stringify(runsOut, null, 1));
  }
  console.log(`\n${md}`);
  console.log(`wrote bench/results/${file}`);
}

const ABOUT: Record<Impl, (runs: number) => string> = {
  locked: (runs) =>
    `Three candidate processes of locked's seed facade on one local 3-member etcd; ${runs} runs. In each, the leader's process calls \`stop()\`; every process records when locked's requests leave and are answered and when watch events arrive (bench/candidates/steps.ts: a trace on each locked client's transport, which calls no hook when no trace is added). Times are ms after the leader's \`stop()\` call, on the monotonic clock all processes share.`,
  etcd3: (runs) =>
    `Three candidate processes of npm etcd3's Election on one local 3-member etcd; ${runs} runs. In each, the leader's process calls \`campaign.resign()\`. Times are ms after that call, on the monotonic clock all processes share.`,
  v3election: (runs) =>
    `Three candidate processes calling etcd's v3election service on one local 3-member etcd; ${runs} runs. In each, the leader's process calls \`Resign\`. Times are ms after that call, on the monotonic clock all processes share.`,
  etcdctl: (runs) =>
    `Three \`etcdctl elect\` processes on one local 3-member etcd; ${runs} runs. In each, the leader gets SIGINT, on which it resigns (a delete of its key). The successor's "elected" is when this script reads the key it prints (the same measure as \`npm run bench\`, so it includes a pipe read). Times are ms after the SIGINT, on the monotonic clock all processes share. Compare with [graceful-steps.md](graceful-steps.md).`,
};

const SCRIPT_ONLY =
  'Only locked\'s processes record their steps: for the others, this script times the leave, the delete at its own watcher and the successor\'s "you lead".';
const NOTES: Record<Impl, string> = {
  locked:
    "A seed node waits on its predecessor's key alone; the one next in line watches it and the election's term record in one watch: the leaver's `resign` names it heir there in the same transaction as the delete, etcd delivers both events in one response, and it leads on the record's event with no request (docs/DESIGN.md, \"Taking over\"); its node's view of the leader's key has the delete too (the second watch event). A linearizable read-only txn confirms its key and reads the record only when it was not named, or its proof had run out (a step that did not happen in a run is not counted in its row; a claim is made only when it was not named).",
  etcd3: SCRIPT_ONLY,
  v3election: SCRIPT_ONLY,
  etcdctl:
    "Go's concurrency.Election (which etcdctl runs) re-checks after the delete event with a read of the election's keys (`waitDeletes`), and etcdctl then reads its own key to print it (etcdctl/ctlv3/command/elect_command.go): its successor makes its requests after the event, where locked's makes none.",
};

/** The wire table: each handover split into the leader's process, etcd, and the successor's process. */
function wireSection(impl: Impl, found: (HandoverOnWire | null)[]): string[] {
  const all = found.filter((w): w is HandoverOnWire => w !== null);
  const start = impl === 'etcdctl' ? 'SIGINT' : 'stop()';
  const words =
    impl === 'locked'
      ? { start, request: 'request', successorEnd: 'select', elected: 'select', successorRequest: 'confirming read' }
      : impl === 'etcdctl'
        ? { start, request: 'resign', successorEnd: 'its key read from its stdout', elected: 'elected' }
        : { start, request: 'resign', successorEnd: 'elected', elected: 'elected' };
  return [
    `**On the wire** (\`--wire\`: tcpdump on the loopback; ${all.length} of ${found.length} runs found in the capture). A follower forwards a write to the Raft leader and delivers the event only after it applies the entry itself, so etcd's part is split by where the leader's request went.`,
    '',
    table(['part', 'runs', 'median ms', 'p90 ms'], wireRows(all, words, true)),
    '',
  ];
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
