/**
 * `npm run bench` (`-- --quick` for a short run): locked against the
 * alternatives on one local 3-member etcd (started with the v2 API on, for
 * locked 2.4.1), in one run. Writes bench/results/<scenario>.md and .svg and the
 * summary bench/results/README.md. Options:
 *   --quick              2 runs per case, short idle windows, smaller herds and scale
 *   --runs=N             runs per case (default 10)
 *   --only=a,b           scenarios: handover (1–4), idle (5), herd (6), scale (7), faults (8)
 *   --kinds=a,b          implementations for 1–3 (locked, etcd3, v3election, locked-v2)
 *   --no-etcdctl         skip the etcdctl rows; --etcdctl-crash adds two 60 s crash runs
 *   --seed=N             seed of the random kill phases
 *   --etcd=B             etcd build: 3.4 (default), 3.5, 3.5-sid (sets LOCKED_ETCD; `--etcd B` too)
 */
import { ensureEtcd, etcdBuild, type EtcdBuild } from '../src/testing/etcd-binary.js';
import { EtcdCluster } from '../src/testing/etcd-cluster.js';
import type { CandidateKind } from './candidates/protocol.js';
import { LoadSampler, machine, machineMarkdown } from './lib/machine.js';
import { writeSection, type Section } from './lib/report.js';
import { seededRandom } from './lib/stats.js';
import { handoverSections, measureHandovers } from './scenarios/handovers.js';
import { idleSection, measureIdle } from './scenarios/idle.js';
import { herdSection, measureHerd } from './scenarios/herd.js';
import { measureScale, scaleSection } from './scenarios/scale.js';
import { faultsSection, measureFaults } from './scenarios/faults.js';
import { writeSummary } from './scenarios/summary.js';

export interface BenchArgs {
  readonly quick: boolean;
  readonly runs: number;
  readonly only: Set<string>;
  readonly kinds: CandidateKind[];
  readonly etcdctl: boolean;
  readonly etcdctlCrash: boolean;
  readonly seed: number;
  /** --etcd, when given (else LOCKED_ETCD decides). */
  readonly etcd: EtcdBuild | undefined;
}

const ALL_KINDS: CandidateKind[] = ['locked', 'etcd3', 'v3election', 'locked-v2'];
const SCENARIOS = ['handover', 'idle', 'herd', 'scale', 'faults'];

function parseArgs(argv: string[]): BenchArgs {
  const get = (name: string): string | undefined =>
    argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const etcdAt = argv.indexOf('--etcd');
  const etcdText = get('etcd') ?? (etcdAt >= 0 ? argv[etcdAt + 1] : undefined);
  let etcd: EtcdBuild | undefined;
  try {
    etcd = etcdText === undefined ? undefined : etcdBuild({ LOCKED_ETCD: etcdText });
  } catch {
    throw new RangeError(`--etcd must be 3.4, 3.5 or 3.5-sid, got ${etcdText}`);
  }
  const quick = argv.includes('--quick');
  const runs = Number(get('runs') ?? (quick ? 2 : 10));
  const only = new Set((get('only') ?? SCENARIOS.join(',')).split(','));
  const kinds = (get('kinds')?.split(',') ?? ALL_KINDS) as CandidateKind[];
  for (const s of only) if (!SCENARIOS.includes(s)) throw new RangeError(`--only: unknown scenario ${s}`);
  for (const k of kinds) if (!ALL_KINDS.includes(k)) throw new RangeError(`--kinds: unknown implementation ${k}`);
  if (!(runs >= 1)) throw new RangeError(`--runs must be ≥ 1, got ${get('runs')}`);
  return {
    quick,
    runs,
    only,
    kinds,
    etcdctl: !argv.includes('--no-etcdctl'),
    etcdctlCrash: argv.includes('--etcdctl-crash'),
    seed: Number(get('seed') ?? Date.now() % 100_000),
    etcd,
  };
}

/**
 * Runs one scenario; if it fails, its section says so (with the error) instead
 * of leaving an older result in place, and the benchmark goes on.
 */
async function guarded(
  ids: string | string[],
  title: string,
  sections: Section[],
  log: (line: string) => void,
  run: () => Promise<void>,
): Promise<void> {
  try {
    await run();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    log(`  ${title} FAILED: ${message}`);
    for (const id of typeof ids === 'string' ? [ids] : ids) {
      sections.push({
        id,
        title: `${title}: failed in this run`,
        body: `The scenario did not complete: \`${message}\`. See the log of the command below.`,
        headline: {},
        raw: { error: message },
      });
    }
  }
}

/** Scenarios 1–7, all on the one cluster. */
async function runOnCluster(
  cluster: EtcdCluster,
  args: BenchArgs,
  sections: Section[],
  log: (line: string) => void,
): Promise<void> {
  if (args.only.has('handover'))
    await guarded(
      ['1-first-leader', '2-graceful-handover', '3-crash-handover', '4-floor'],
      'scenarios 1–4',
      sections,
      log,
      async () => {
        log('scenarios 1–4: first leader, graceful and crash handover, floors');
        const data = await measureHandovers({
          endpoints: cluster.endpoints,
          kinds: args.kinds,
          ttls: [2, 5],
          runs: args.runs,
          floorSamples: args.quick ? 20 : 40,
          etcdctl: args.etcdctl,
          etcdctlCrash: args.etcdctlCrash,
          random: seededRandom(args.seed),
          log,
        });
        sections.push(...handoverSections(data));
      },
    );
  if (args.only.has('idle'))
    await guarded('5-idle', '5. Idle cost', sections, log, async () => {
      log('scenario 5: idle cost');
      const many = [1, 10, 1000];
      const data = await measureIdle({
        endpoints: cluster.endpoints,
        metricsUrls: cluster.members.map((_, i) => cluster.metricsUrl(i)),
        kinds: args.kinds,
        counts: { locked: many, etcd3: many, v3election: many, 'locked-v2': [1, 10, 100] },
        windowMs: args.quick ? 10_000 : 30_000,
        etcdctlWindowMs: args.quick ? 10_000 : 60_000,
        ttlSec: 5,
        etcdctl: args.etcdctl,
        log,
      });
      sections.push(idleSection(data));
    });
  if (args.only.has('herd'))
    await guarded('6-herd', '6. Herd', sections, log, async () => {
      log('scenario 6: herd');
      const sizes = args.quick ? [10, 1000] : [10, 100, 1000];
      const ttlSec = 10;
      const rows = await measureHerd({
        endpoints: cluster.endpoints,
        metricsUrls: cluster.members.map((_, i) => cluster.metricsUrl(i)),
        sizes: { 'locked-core': sizes, locked: sizes, etcd3: sizes, 'locked-v2': [10, 100] },
        ttlSec,
        log,
      });
      sections.push(herdSection(rows, ttlSec));
    });
  if (args.only.has('scale'))
    await guarded('7-scale', '7. Scale', sections, log, async () => {
      log('scenario 7: scale');
      const n = args.quick ? 2000 : 10_000;
      const ttlSec = 10;
      const rows = await measureScale({
        endpoints: cluster.endpoints,
        metricsUrls: cluster.members.map((_, i) => cluster.metricsUrl(i)),
        cases: [
          { kind: 'locked-core', count: n },
          { kind: 'locked-core', count: n, window: 500 },
          // V8 grows its heap lazily during a burst and keeps it: a heap cap shows what the elections need.
          { kind: 'locked-core', count: n, nodeFlags: ['--max-old-space-size=96'] },
          { kind: 'v3election', count: n, window: 500 },
          { kind: 'etcd3', count: n, window: 500 },
        ],
        ttlSec,
        windowMs: args.quick ? 10_000 : 60_000,
        // V8's memory reducer returns a burst's heap after a minute or two of quiet (see the section).
        steadyMs: args.quick ? 25_000 : 180_000,
        timeoutMs: args.quick ? 120_000 : 300_000,
        log,
      });
      sections.push(scaleSection(rows, ttlSec));
    });
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const log = (line: string): void => console.log(line);
  // Every cluster of the run (the chaos harness's too) takes its build from LOCKED_ETCD.
  if (args.etcd !== undefined) process.env.LOCKED_ETCD = args.etcd;
  const etcd = ensureEtcd();
  log(`${command}: etcd ${etcd.version} (build ${etcd.build}, ${etcd.etcd})`);
  log(`${command}: scenarios ${[...args.only].join(', ')}; ${args.runs} runs per case; seed ${args.seed}`);
  const load = new LoadSampler();
  const sections: Section[] = [];
  const needsCluster = ['handover', 'idle', 'herd', 'scale'].some((s) => args.only.has(s));
  const cluster = needsCluster ? await EtcdCluster.start({ size: 3, extraArgs: ['--enable-v2=true'] }) : null;
  try {
    if (cluster) await runOnCluster(cluster, args, sections, log);
  } finally {
    await cluster?.stop();
  }
  if (args.only.has('faults'))
    await guarded('8-faults', '8. Split-brain under faults', sections, log, async () => {
      // The chaos harness starts (and stops) a fresh cluster per target.
      log('scenario 8: split-brain under pause and cut faults (chaos harness)');
      const ttlSec = 2;
      const rows = await measureFaults({ faults: args.quick ? 5 : 20, seed: args.seed, ttlSec, log });
      sections.push(faultsSection(rows, ttlSec));
    });
  const loadSummary = load.stop();
  const footer = machineMarkdown(machine(), loadSummary, command);
  for (const section of sections) {
    const cluster =
      section.id === '8-faults'
        ? "- Clusters: the chaos harness's own 3-member etcd per target"
        : '- Cluster: 3 etcd members on loopback, `--enable-v2=true`, heartbeat 100 ms, election timeout 1000 ms';
    writeSection(section, `${footer}\n${cluster}; random seed ${args.seed}`);
    log(`wrote bench/results/${section.id}.md`);
  }
  writeSummary(footer);
  log('wrote bench/results/README.md');
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
