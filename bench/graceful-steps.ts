/**
 * `npm run bench:steps [-- --runs=N --ttl=S]`: where the time of locked's graceful
 * handover goes across processes. Three candidate processes of the seed facade
 * on a local 3-member etcd this script starts; in each run the leader's process
 * calls `stop()` and every process records (bench/candidates/steps.ts) when its
 * requests leave and are answered and when watch events arrive. On the shared
 * monotonic clock, the steps from the leader's `stop()` to the successor's
 * `select` are summarised as median and p90 over the runs, printed and written
 * to bench/results/graceful-steps.md.
 *
 * With `--wire` (needs tcpdump, Debian's `tcpdump` package, and root), the
 * loopback traffic to the etcd members is captured too, and each run is also
 * timed on the wire: when the leader's request leaves its socket, when the
 * delete event reaches the successor's socket. That splits the handover into
 * the leader's process, etcd, and the successor's process.
 */
import { writeFileSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { join } from 'node:path';
import type { Step } from './candidates/steps.js';
import { monoMs } from './candidates/protocol.js';
import { EtcdCluster } from '../src/testing/etcd-cluster.js';
import { Fleet, type Entry } from './lib/fleet.js';
import { QUEUE_SETTLE_MS, queuedAndRenewed } from './scenarios/failover.js';
import { LoadSampler, machine, machineMarkdown } from './lib/machine.js';
import { table } from './lib/markdown.js';
import type { Segment } from './lib/pcap.js';
import { countMedianP90, fmt } from './lib/stats.js';
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
  'other waiter: the delete event arrives (its leader watch)',
  "successor's own time: from its delete event to select (ms, not after stop())",
  "successor's own time: from its delete event to its read leaving (ms, not after stop())",
  "successor's own time: from its read answered to select (ms, not after stop())",
] as const;

function stepsOf(leader: Step[], successor: Step[], other: Step[], stopAt: number, deleteSeenAt: number): RunSteps {
  const after = (list: Step[], match: (what: string) => boolean): number => {
    const hit = list.find(([t, what]) => t >= stopAt && match(what));
    return hit ? hit[0] - stopAt : NaN;
  };
  const leaves = (what: string): boolean => what === 'sent lease revoke' || what === 'sent resign';
  const answered = (what: string): boolean => what === 'answered lease revoke' || what === 'answered resign';
  const successorEvent = after(successor, (w) => w.startsWith('event') && w.includes('Delete'));
  const successorSelect = after(successor, (w) => w === 'elected');
  const readSent = after(successor, (w) => w === 'sent confirm first');
  const readAnswered = after(successor, (w) => w === 'answered confirm first');
  return {
    [STEPS[0]]: after(leader, (w) => w === 'sent read next candidate'),
    [STEPS[1]]: after(leader, leaves),
    [STEPS[2]]: after(leader, answered),
    [STEPS[3]]: deleteSeenAt - stopAt,
    [STEPS[4]]: successorEvent,
    [STEPS[5]]: readSent,
    [STEPS[6]]: readAnswered,
    [STEPS[7]]: after(successor, (w) => w === 'sent claim term'),
    [STEPS[8]]: after(successor, (w) => w === 'answered claim term'),
    [STEPS[9]]: successorSelect,
    [STEPS[10]]: after(other, (w) => w.startsWith('event') && w.includes('Delete')),
    [STEPS[11]]: successorSelect - successorEvent,
    [STEPS[12]]: readSent - successorEvent,
    [STEPS[13]]: successorSelect - readAnswered,
  };
}

async function main(): Promise<void> {
  const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 20);
  if (!(runs >= 1)) throw new RangeError(`--runs must be ≥ 1`);
  const ttlSec = Number(process.argv.find((a) => a.startsWith('--ttl='))?.slice(6) ?? 5);
  if (!(Number.isInteger(ttlSec) && ttlSec >= 1)) throw new RangeError(`--ttl must be a whole number of seconds ≥ 1`);
  const wire = process.argv.includes('--wire');
  process.env.BENCH_STEPS = '1'; // inherited by the candidate processes
  const load = new LoadSampler();
  const cluster = await EtcdCluster.start({ size: 3 });
  const fleet = new Fleet();
  // Sees the leader's delete from outside the candidates: splits "etcd wrote and delivered it" from
  // "the successor's process took it in".
  const observer = new Etcd3({ hosts: cluster.endpoints.split(',') });
  const samples: RunSteps[] = [];
  const members = new Map(cluster.members.map((m, i) => [m.clientPort, i]));
  const wallOffset = wallOffsetMs();
  const wireRuns: HandoverRun[] = [];
  let capture: WireCapture | null = null;
  let segments: Segment[] = [];
  try {
    if (wire) capture = await WireCapture.start(cluster.members.flatMap((m) => [m.clientPort, m.peerPort]));
    const pool = await fleet.spawn('locked', cluster.endpoints, 3);
    const byWho = new Map(pool.map((c) => [c.who, c]));
    for (let run = 0; run < runs; run++) {
      await fleet.join(pool, { name: `/bench/steps/${process.pid}/${run}`, ttlSec, value: 'locked' });
      const mine = (e: Entry): boolean => byWho.has(e.who);
      const elected = (e: Entry): boolean => mine(e) && e.report.ev === 'elected';
      const startMark = fleet.mark();
      for (const c of pool) c.send({ op: 'start' });
      const first = await fleet.next('a first leader', elected, startMark, 30_000);
      const raftLeader = capture ? await cluster.leaderIndex() : -1;
      // Every candidate queued and quiet: a renewal of the leader once the others have had time to queue.
      await queuedAndRenewed(fleet, first, 7_000 + QUEUE_SETTLE_MS);
      const watcher = await observer.watch().prefix(`/bench/steps/${process.pid}/${run}/`).create();
      let deleteSeenAt = NaN;
      watcher.on('delete', () => {
        if (Number.isNaN(deleteSeenAt)) deleteSeenAt = monoMs();
      });
      const ownersBefore = capture ? portOwners() : new Map<number, number>();
      const stopMark = fleet.mark();
      byWho.get(first.who)!.send({ op: 'stop' });
      const next = await fleet.next('the next leader', (e) => elected(e) && e.who !== first.who, stopMark, 15_000);
      await fleet.next('the leader stopped', (e) => e.who === first.who && e.report.ev === 'stopped', stopMark, 10_000);
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
      const stopped = fleet.reports('stopped', first.who, stopMark)[0]!.report;
      const stopAt = stopped.ev === 'stopped' ? stopped.stopCalledAt : NaN;
      const other = pool.find((c) => c.who !== first.who && c.who !== next.who)!;
      await watcher.cancel();
      if (capture) {
        const owners = new Map([...ownersBefore, ...portOwners()]);
        const portsOf = (pid: number): Set<number> =>
          new Set([...owners].filter(([, owner]) => owner === pid).map(([port]) => port));
        wireRuns.push({
          stopWall: stopAt + wallOffset,
          selectWall: next.report.t + wallOffset,
          leaverPorts: portsOf(byWho.get(first.who)!.pid),
          successorPorts: portsOf(byWho.get(next.who)!.pid),
          members,
          raftLeader,
        });
      }
      samples.push(stepsOf(stepsOfWho(first.who), stepsOfWho(next.who), stepsOfWho(other.who), stopAt, deleteSeenAt));
      console.log(`  run ${run + 1}/${runs}: select ${fmt(samples.at(-1)![STEPS[9]]!)} ms after stop()`);
      // The others leave, so the next run starts from an empty election.
      const leaveMark = fleet.mark();
      for (const c of pool) if (c.who !== first.who) c.send({ op: 'stop' });
      await Promise.all(
        pool
          .filter((c) => c.who !== first.who)
          .map((c) =>
            fleet.next(`${c.who} stopped`, (e) => e.who === c.who && e.report.ev === 'stopped', leaveMark, 10_000),
          ),
      );
      for (const c of pool) c.send({ op: 'steps' }); // drop the leave's steps
    }
  } finally {
    observer.close();
    await fleet.close();
    if (capture) segments = await capture.stop();
    await cluster.stop();
  }
  const rows = STEPS.map((step) => [
    step,
    ...countMedianP90(samples.map((s) => s[step]!).filter((v) => Number.isFinite(v))),
  ]);
  const md = [
    '# Graceful handover, step by step, across processes',
    '',
    `Three candidate processes of locked's seed facade on one local 3-member etcd; ${runs} runs. In each, the leader's process calls \`stop()\`; every process records when locked's requests leave and are answered and when watch events arrive (bench/candidates/steps.ts wraps the transport and watch hub prototypes; the library carries no tracing). Times are ms after the leader's \`stop()\` call, on the monotonic clock all processes share.`,
    '',
    table(['step', 'runs', 'median ms', 'p90 ms'], rows),
    '',
    "A seed node's campaign waits on the view its process's leader watch keeps of the whole election: the delete event shows it first there, so it reads no queue (a step that did not happen in a run is not counted in its row). Then one linearizable read-only txn confirms its key and reads the election's term record (docs/DESIGN.md, \"Taking over\"): the leaver's `resign` named it heir there, so it leads at once, with no write (a claim is made only when it was not named).",
    '',
    ...(capture ? wireSection(wireRuns.map((r) => handoverOnWire(segments, r))) : []),
    machineMarkdown(
      machine(),
      load.stop(),
      `npm run bench:steps -- --runs=${runs} --ttl=${ttlSec}${wire ? ' --wire' : ''}`,
    ),
    '',
  ].join('\n');
  writeFileSync(join(RESULTS, 'graceful-steps.md'), md);
  console.log(`\n${md}`);
  console.log('wrote bench/results/graceful-steps.md');
}

/** The wire table: each handover split into the leader's process, etcd, and the successor's process. */
function wireSection(found: (HandoverOnWire | null)[]): string[] {
  const all = found.filter((w): w is HandoverOnWire => w !== null);
  return [
    `**On the wire** (\`--wire\`: tcpdump on the loopback; ${all.length} of ${found.length} runs found in the capture). A follower forwards a write to the Raft leader and delivers the event only after it applies the entry itself, so etcd's part is split by where the leader's request went.`,
    '',
    table(
      ['part', 'runs', 'median ms', 'p90 ms'],
      wireRows(
        all,
        {
          start: 'stop()',
          request: 'request',
          successorEnd: 'select',
          elected: 'select',
          successorRequest: 'confirming read',
        },
        true,
      ),
    ),
    '',
  ];
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
