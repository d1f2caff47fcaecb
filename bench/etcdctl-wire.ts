/**
 * `npm run bench:etcdctl-wire [-- --runs=N]`: etcdctl elect's graceful handover
 * timed on the wire, for comparison with `npm run bench:steps -- --wire`. Three
 * `etcdctl elect` processes on a local 3-member etcd this script starts; in each
 * run the leader gets SIGINT (on which it resigns), and a tcpdump capture of the
 * loopback shows when its resign leaves its socket and when the delete event
 * reaches the successor's socket; the successor's "elected" is when this script
 * reads its printed key (a pipe read, as in `npm run bench`). Needs tcpdump
 * (Debian's `tcpdump` package) and root. Writes bench/results/etcdctl-wire.md.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EtcdCluster } from '../src/testing/etcd-cluster.js';
import { Fleet, type Entry } from './lib/fleet.js';
import { LoadSampler, machine, machineMarkdown } from './lib/machine.js';
import { table } from './lib/markdown.js';
import {
  WireCapture,
  handoverOnWire,
  wireRows,
  portOwners,
  wallOffsetMs,
  type HandoverOnWire,
  type HandoverRun,
} from './lib/wire-trace.js';
import { EtcdctlCandidate } from './scenarios/etcdctl.js';

const RESULTS = join(__dirname, 'results');

/** One handover among three new etcdctl processes, with what the capture needs to find it. */
async function oneRun(fleet: Fleet, cluster: EtcdCluster, run: number, wallOffset: number): Promise<HandoverRun> {
  const from = fleet.mark();
  const candidates = [0, 1, 2].map(
    (i) => new EtcdctlCandidate(fleet, cluster.endpoints, `/bench/etcdctl-wire/${run}`, `v${i}`),
  );
  const mine = new Set(candidates.map((c) => c.who));
  const elected = (e: Entry): boolean => mine.has(e.who) && e.report.ev === 'elected';
  try {
    const first = await fleet.next('a first etcdctl leader', elected, from, 15_000);
    // Let the two others queue (their process start and campaign): a settle, not an ordering, as in `npm run bench`.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const leader = candidates.find((c) => c.who === first.who)!;
    const raftLeader = await cluster.leaderIndex();
    const owners = portOwners();
    const stopMark = fleet.mark();
    const stopAt = leader.signal('SIGINT');
    const next = await fleet.next(
      'the next etcdctl leader',
      (e) => elected(e) && e.who !== leader.who,
      stopMark,
      15_000,
    );
    const successor = candidates.find((c) => c.who === next.who)!;
    const portsOf = (pid: number): Set<number> =>
      new Set([...owners].filter(([, owner]) => owner === pid).map(([port]) => port));
    return {
      stopWall: stopAt + wallOffset,
      selectWall: next.report.t + wallOffset,
      leaverPorts: portsOf(leader.pid),
      successorPorts: portsOf(successor.pid),
      members: new Map(cluster.members.map((m, i) => [m.clientPort, i])),
      raftLeader,
    };
  } finally {
    await Promise.all(candidates.map((c) => c.end()));
  }
}

async function main(): Promise<void> {
  const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.slice(7) ?? 20);
  if (!(runs >= 1)) throw new RangeError(`--runs must be ≥ 1`);
  const load = new LoadSampler();
  const cluster = await EtcdCluster.start({ size: 3 });
  const wallOffset = wallOffsetMs();
  const handovers: HandoverRun[] = [];
  const fleet = new Fleet();
  let found: (HandoverOnWire | null)[] = [];
  try {
    const capture = await WireCapture.start(cluster.members.flatMap((m) => [m.clientPort, m.peerPort]));
    try {
      for (let run = 0; run < runs; run++) {
        handovers.push(await oneRun(fleet, cluster, run, wallOffset));
        console.log(`  run ${run + 1}/${runs}`);
      }
    } finally {
      const segments = await capture.stop();
      found = handovers.map((h) => handoverOnWire(segments, h));
    }
  } finally {
    await cluster.stop();
  }
  const all = found.filter((w): w is HandoverOnWire => w !== null);
  const md = [
    '# etcdctl elect: graceful handover on the wire',
    '',
    `Three \`etcdctl elect\` processes on one local 3-member etcd; ${runs} runs, ${all.length} found in the capture. In each, the leader gets SIGINT, on which it resigns (a delete of its key); tcpdump on the loopback times its request and the delete event reaching the successor. The successor's "elected" is when this script reads the key it prints (the same measure as \`npm run bench\`, so it includes a pipe read). Compare with the wire table of [graceful-steps.md](graceful-steps.md).`,
    '',
    table(
      ['part', 'runs', 'median ms', 'p90 ms'],
      wireRows(
        all,
        { start: 'SIGINT', request: 'resign', successorEnd: 'its key read from its stdout', elected: 'elected' },
        false,
      ),
    ),
    '',
    "Go's concurrency.Election (which etcdctl runs) re-checks after the delete event with a read of the election's keys (`waitDeletes`), and etcdctl then reads its own key to print it (etcdctl/ctlv3/command/elect_command.go): its successor makes its requests after the event, where locked's makes none.",
    '',
    machineMarkdown(machine(), load.stop(), `npm run bench:etcdctl-wire -- --runs=${runs}`),
    '',
  ].join('\n');
  writeFileSync(join(RESULTS, 'etcdctl-wire.md'), md);
  console.log(`\n${md}`);
  console.log('wrote bench/results/etcdctl-wire.md');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
