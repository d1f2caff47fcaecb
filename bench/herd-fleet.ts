/**
 * `npm run bench:herd-fleet`: the herd across a fleet. N seed nodes on one election, each in a locker
 * of its own (`locked(endpoints)`, its own client, as separate processes are), spread over P
 * processes (node k in process k mod P), queued one after another so that node k is k-th in line.
 * Four steps, each counted from just before it until its condition holds and a quiet second passed
 * (no watch event, no request but keepalives and the leader's periodic confirmations, and none in
 * flight): a non-leader joins at the end; a non-leader leaves from the middle; the leader proclaims;
 * the leader stops.
 * Counted per client by its transport trace (watch events delivered, requests by label) and by etcd
 * (all members' /metrics). Writes bench/results/9-herd-fleet.md. Options:
 *   --sizes=100,1000   fleet sizes N (default both)
 *   --processes=4      processes P (default 4)
 *   --etcd=B           etcd build: 3.4 (default), 3.5, 3.5-sid (sets LOCKED_ETCD; `--etcd B` too)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureEtcd, etcdBuild } from '../src/testing/etcd-binary.js';
import { EtcdCluster } from '../src/testing/etcd-cluster.js';
import { waitFor } from '../src/testing/wait-for.js';
import { diff, scrape, traffic } from './lib/etcd-metrics.js';
import { activity, costs, PERIODIC, sizeMarkdown, type Measured, type StepRow } from './lib/herd-fleet-costs.js';
import { fleetCounters, LockerProcess, type FleetCounters } from './lib/herd-fleet-procs.js';
import { nodeId } from './lib/herd-fleet-protocol.js';
import { LoadSampler, machine, machineMarkdown } from './lib/machine.js';
import { RESULTS } from './lib/report.js';
import { keysUnder } from './scenarios/herd.js';

const QUIET_MS = 1000;

interface Args {
  readonly sizes: number[];
  readonly processes: number;
}

function parseArgs(argv: string[]): Args {
  const get = (name: string): string | undefined =>
    argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const etcdAt = argv.indexOf('--etcd');
  const etcd = get('etcd') ?? (etcdAt >= 0 ? argv[etcdAt + 1] : undefined);
  if (etcd !== undefined) process.env.LOCKED_ETCD = etcdBuild({ LOCKED_ETCD: etcd }); // every cluster of the run
  const sizes = (get('sizes') ?? '100,1000').split(',').map(Number);
  const processes = Number(get('processes') ?? 4);
  if (!sizes.every((n) => Number.isInteger(n) && n >= 4))
    throw new RangeError(`--sizes: integers ≥ 4, got ${get('sizes')}`);
  if (!(Number.isInteger(processes) && processes >= 1)) throw new RangeError(`--processes must be ≥ 1`);
  return { sizes, processes };
}

interface Step {
  readonly step: string;
  readonly subject: { readonly role: string; readonly k: number };
  act(): Promise<unknown>;
  /** The step's condition (bounded wait); `before` is the fleet's counters just before the step. */
  settled(before: FleetCounters): Promise<boolean>;
}

/** Waits for a second with no watch event, no new request but keepalives and confirmations, and none in flight. */
async function quietSecond(procs: LockerProcess[]): Promise<void> {
  let last = -1;
  let since = 0;
  const what = `a quiet second (no watch event, no request but keepalives and ${PERIODIC}, none in flight)`;
  await waitFor(
    what,
    async () => {
      const now = activity(await fleetCounters(procs));
      if (now.total === last && now.inFlight === 0) return performance.now() - since >= QUIET_MS;
      last = now.total;
      since = performance.now();
      return false;
    },
    { timeoutMs: 60_000, intervalMs: 100 },
  );
}

async function measure(procs: LockerProcess[], metricsUrls: string[], s: Step): Promise<StepRow> {
  const before = await fleetCounters(procs);
  const etcdBefore = await scrape(metricsUrls);
  const started = performance.now();
  await s.act();
  // A step that does not settle is still counted (until the timeout): its row says what the fleet did meanwhile.
  const failure = await waitFor(s.step, () => s.settled(before), { timeoutMs: 60_000, intervalMs: 50 }).then(
    () => undefined,
    async (err: Error) => {
      const seen = [...(await views(procs))].map(([key, count]) => `${key} × ${count}`).join(', ');
      return `${err.message}; then the running nodes saw [leader, value]: ${seen}`;
    },
  );
  const settledMs = failure === undefined ? performance.now() - started : NaN;
  // Counted until the fleet is quiet; a fleet that does not get quiet fails the step too.
  const unsettled =
    failure ??
    (await quietSecond(procs).then(
      () => undefined,
      (err: Error) => err.message,
    ));
  const etcd = traffic(diff(etcdBefore, await scrape(metricsUrls)));
  const after = await fleetCounters(procs);
  const subjectEvents = (after.get(s.subject.k)?.events ?? 0) - (before.get(s.subject.k)?.events ?? 0);
  const row = { step: s.step, settledMs, subject: { ...s.subject, events: subjectEvents }, etcd };
  return { ...row, ...costs(before, after), failure: unsettled };
}

/** How many running nodes of the fleet see each leader and value (keys: `viewKey(id, value)`). */
async function views(procs: LockerProcess[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const v of await Promise.all(procs.map((p) => p.call({ op: 'views' }))))
    for (const [key, count] of Object.entries(v)) out.set(key, (out.get(key) ?? 0) + count);
  return out;
}

/** True when every running node sees `id` as the leader (if given) and `value` as its value (if given). */
async function allSee(procs: LockerProcess[], want: { id?: string; value?: string }): Promise<boolean> {
  for (const key of (await views(procs)).keys()) {
    const [id, value] = JSON.parse(key) as [string | null, string | null];
    if ((want.id !== undefined && id !== want.id) || (want.value !== undefined && value !== want.value)) return false;
  }
  return true;
}

/** Starts N nodes in order over P processes, then measures the four steps. */
async function measureSize(cluster: EtcdCluster, n: number, p: number, log: (l: string) => void): Promise<Measured> {
  const path = `/herd-fleet-${n}`;
  const procs = Array.from({ length: p }, (_, i) => new LockerProcess(i, cluster.endpoints, path));
  const at = (k: number): LockerProcess => procs[k % p]!;
  const metricsUrls = cluster.members.map((_, i) => cluster.metricsUrl(i));
  try {
    await Promise.all(procs.map((proc) => proc.up));
    const started = performance.now();
    for (let k = 0; k < n; k++) {
      await at(k).call({ op: 'add', k }); // node k joins once node k − 1 knows the leader: k-th in line
      if ((k + 1) % Math.max(1, Math.floor(n / 10)) === 0) log(`  N=${n}: ${k + 1} nodes started`);
    }
    await waitFor('all keys queued', async () => (await keysUnder(cluster.endpoints, `${path}/`)) === n, {
      timeoutMs: 120_000,
      intervalMs: 500,
    });
    log(`  N=${n}: ${n} queued in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await quietSecond(procs);
    const middle = Math.floor(n / 2);
    const steps: Step[] = [
      {
        step: '1. non-leader join at the end',
        subject: { role: 'joiner', k: n },
        act: () => at(n).call({ op: 'add', k: n }), // resolves once its key is in and it knows the leader
        settled: async () => true,
      },
      {
        step: '2. non-leader leave from the middle',
        subject: { role: 'successor', k: middle + 1 },
        act: () => at(middle).call({ op: 'stop', k: middle }),
        settled: async (before) => {
          const events = (await fleetCounters([at(middle + 1)])).get(middle + 1)?.events ?? 0;
          return events > (before.get(middle + 1)?.events ?? 0);
        },
      },
      {
        step: '3. proclaim by the leader',
        subject: { role: 'leader', k: 0 },
        act: () => at(0).call({ op: 'proclaim', k: 0, value: 'proclaimed' }),
        settled: () => allSee(procs, { value: 'proclaimed' }),
      },
      {
        step: '4. failover: the leader stops',
        subject: { role: 'heir', k: 1 },
        act: () => at(0).call({ op: 'stop', k: 0 }),
        settled: () => allSee(procs, { id: nodeId(1) }),
      },
    ];
    const rows: StepRow[] = [];
    for (const s of steps) {
      const row = await measure(procs, metricsUrls, s);
      rows.push(row);
      log(`  N=${n}: ${s.step}: ${row.events} events, ${row.clientsWoken} clients woken`);
      if (row.failure !== undefined) {
        log(`  N=${n}: FAILED ${row.failure}`);
        return { rows, failure: `${s.step}: ${row.failure}` }; // the later steps build on this one
      }
    }
    return { rows };
  } finally {
    await Promise.all(procs.map((proc) => proc.exit()));
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const command = `npm run bench:herd-fleet${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const log = (line: string): void => console.log(line);
  const etcd = ensureEtcd();
  log(
    `${command}: etcd ${etcd.version} (build ${etcd.build}); N = ${args.sizes.join(', ')}; ${args.processes} processes`,
  );
  const load = new LoadSampler();
  const started = performance.now();
  const sections: string[] = [];
  const cluster = await EtcdCluster.start({ size: 3 });
  try {
    for (const n of args.sizes) {
      sections.push(sizeMarkdown(n, args.processes, await measureSize(cluster, n, args.processes, log)));
      log(`\n${sections.at(-1)!}\n`);
    }
  } finally {
    await cluster.stop();
  }
  const minutes = (performance.now() - started) / 60_000;
  const text = [
    '# 9. Herd across a fleet: a join, a leave, a proclaim and a failover with N lockers in P processes',
    '',
    'N seed nodes on one election, each in a locker of its own (`locked(endpoints)`: its own client, as ' +
      'separate processes are), TTL 5 s, spread over P processes (node k in process k mod P) and started one ' +
      'after another, so that node k is k-th in line and n0 leads. Each step is counted from just before it ' +
      'until its condition holds and then a second passes with no watch event, no request in flight and none ' +
      `sent but keepalives and the leader’s periodic \`${PERIODIC}\`: per client by its transport trace (watch ` +
      'events delivered to its watches, unary requests by label), and by etcd (all three members’ /metrics: ' +
      '`etcd_debugging_mvcc_events_total`, gRPC messages received other than `LeaseKeepAlive`; those include ' +
      'the periodic confirmations, counted apart in their column). A client or process is woken when it took at ' +
      'least one watch event. Conditions: 1. the joiner’s `start()` resolved; 2. the leaver’s successor took an ' +
      'event; 3. every node’s `value()` is the new value; 4. every node’s `id()` names n1. By design: 1. wakes ' +
      'no client; 2. wakes the successor’s client alone (one event); 3. one event per following client; 4. one ' +
      'event and one member-local read per following client, plus in the heir’s client the term record’s event ' +
      '(its view of the leader’s key rides its heir watch: the delete comes once, with the record).',
    '',
    ...sections.flatMap((s) => [s, '']),
    machineMarkdown(machine(), load.stop(), command),
    `- Cluster: 3 etcd members on loopback, heartbeat 100 ms, election timeout 1000 ms; run time ${minutes.toFixed(1)} min`,
    '',
  ].join('\n');
  writeFileSync(join(RESULTS, '9-herd-fleet.md'), text);
  log(`wrote bench/results/9-herd-fleet.md (${minutes.toFixed(1)} min)`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
