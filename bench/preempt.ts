/**
 * `npm run bench:preempt`: a preemption, timed and counted. A leader at priority 0 leads one
 * election with Q − 2 candidates of priority 0 waiting behind it (one client, a session each); a
 * candidate of priority 1 (preemptAfterMs 1000, its own client) joins at the end. Measured: from its
 * join to its leadership, and the gap from the leader's end (its term's signal) to the new term;
 * etcd's counters (all members' /metrics) from the join until the new leader leads and a quiet
 * half second passed: transactions, reads, watch events. Writes bench/results/10-preemption.md.
 * Options:
 *   --sizes=2,100,1000  queue sizes Q (leader, waiters and the preemptor)
 *   --runs=N            runs of the smallest size (default 10; larger sizes run 3 and 1 times)
 *   --etcd=B            etcd build: 3.4 (default), 3.5, 3.5-sid (sets LOCKED_ETCD)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LockedClient, type Term } from '../src/api.js';
import { ensureEtcd, etcdBuild } from '../src/testing/etcd-binary.js';
import { EtcdCluster } from '../src/testing/etcd-cluster.js';
import { waitFor } from '../src/testing/wait-for.js';
import { diff, scrape, sum, traffic } from './lib/etcd-metrics.js';
import { LoadSampler, machine, machineMarkdown } from './lib/machine.js';
import { table } from './lib/markdown.js';
import { RESULTS } from './lib/report.js';
import { fmt, summarize } from './lib/stats.js';

const PREEMPT_AFTER_MS = 1000;
const TTL_SEC = 10;

interface Run {
  readonly size: number;
  readonly joinToLeadMs: number;
  readonly gapMs: number;
  readonly txns: number;
  readonly ranges: number;
  readonly watchEvents: number;
}

function parseArgs(argv: string[]): { sizes: number[]; runs: number } {
  const get = (name: string): string | undefined =>
    argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const etcd = get('etcd');
  if (etcd !== undefined) process.env.LOCKED_ETCD = etcdBuild({ LOCKED_ETCD: etcd });
  const sizes = (get('sizes') ?? '2,100,1000').split(',').map(Number);
  if (!sizes.every((n) => Number.isInteger(n) && n >= 2)) throw new RangeError(`--sizes: integers ≥ 2`);
  const runs = Number(get('runs') ?? 10);
  if (!(Number.isInteger(runs) && runs >= 1)) throw new RangeError('--runs must be ≥ 1');
  return { sizes, runs };
}

async function once(cluster: EtcdCluster, size: number, name: string): Promise<Run> {
  const urls = cluster.members.map((_, i) => cluster.metricsUrl(i));
  const leaderClient = new LockedClient({ endpoints: cluster.endpoints, ttl: TTL_SEC, requestTimeoutMs: 30_000 });
  const waiters = new LockedClient({ endpoints: cluster.endpoints, ttl: TTL_SEC, requestTimeoutMs: 30_000 });
  const preemptor = new LockedClient({ endpoints: cluster.endpoints, ttl: TTL_SEC, requestTimeoutMs: 30_000 });
  const stop = new AbortController();
  try {
    const leader = await leaderClient.election(name).campaign('leader');
    let endedAt = NaN;
    leader.signal.addEventListener('abort', () => (endedAt = performance.now()));
    const queued: Promise<unknown>[] = [];
    for (let i = 0; i < size - 2; i++) {
      const c = waiters.election(name, waiters.session()).campaign(`w${i}`, { signal: stop.signal });
      queued.push(c.catch(() => undefined));
    }
    await waitFor(
      `${size - 1} queued`,
      async () => (await leaderClient.election(name).candidates()).length === size - 1,
      {
        timeoutMs: 120_000,
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 500)); // the joins' traffic settles
    const before = await scrape(urls);
    const joinedAt = performance.now();
    const term: Term = await preemptor
      .election(name)
      .campaign('high', { priority: 1, preemptAfterMs: PREEMPT_AFTER_MS });
    const ledAt = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 500)); // what the handover set off
    const d = diff(before, await scrape(urls));
    const t = traffic(d);
    await term.resign();
    return {
      size,
      joinToLeadMs: ledAt - joinedAt,
      gapMs: ledAt - endedAt,
      txns: sum(d, 'grpc_server_msg_received_total', 'grpc_method="Txn"'),
      ranges: t.ranges,
      watchEvents: t.watchEvents,
    };
  } finally {
    stop.abort();
    await Promise.all([leaderClient.close(), waiters.close(), preemptor.close()]);
  }
}

function section(runs: Run[], command: string, machineText: string): string {
  const sizes = [...new Set(runs.map((r) => r.size))];
  const rows = sizes.map((size) => {
    const of = runs.filter((r) => r.size === size);
    const join = summarize(of.map((r) => r.joinToLeadMs));
    const gap = summarize(of.map((r) => r.gapMs));
    const median = (f: (r: Run) => number): string => fmt(summarize(of.map(f)).median, 0);
    return [
      String(size),
      String(of.length),
      `${fmt(join.median, 0)} / ${fmt(join.p90, 0)}`,
      `${fmt(gap.median, 1)} / ${fmt(gap.p90, 1)}`,
      median((r) => r.txns),
      median((r) => r.ranges),
      median((r) => r.watchEvents),
    ];
  });
  return `# 10. Preemption: a higher-priority join → its leadership

${command}

A leader at priority 0, Q − 2 candidates at priority 0 waiting behind it (one client, a session
each), and a candidate of priority 1 (\`preemptAfterMs\` ${PREEMPT_AFTER_MS}, a client of its own) that joins at the
end; TTL ${TTL_SEC} s, a 3-member etcd on loopback. "join → leads" includes the ${PREEMPT_AFTER_MS} ms the
preemptor waits by design; "gap" is from the old leader's end (its term's signal) to the new term.
Requests and events are etcd's (all members' /metrics) from the join until half a second after the
new leader leads: they include the lower candidates making way, all at once while the leader still
leads (each: a confirm, a read of the preemptor's key, a delete and a join), the leader's reads of
how many are left, and its periodic confirmations.

${table(['queue Q', 'runs', 'join → leads ms (median / p90)', 'gap ms (median / p90)', 'Txn (median)', 'reads (median)', 'watch events (median)'], rows)}

${machineText}
`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const command = `Command: \`npm run bench:preempt${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}\``;
  const etcd = ensureEtcd();
  console.log(`${command}: etcd ${etcd.version} (build ${etcd.build})`);
  const load = new LoadSampler();
  const cluster = await EtcdCluster.start({ size: 3 });
  const runs: Run[] = [];
  try {
    for (const [i, size] of args.sizes.entries()) {
      const n = i === 0 ? args.runs : size >= 1000 ? 1 : 3;
      for (let r = 0; r < n; r++) {
        const run = await once(cluster, size, `/bench/preempt/${size}/${r}`);
        console.log(
          `Q=${size} run ${r + 1}/${n}: join→leads ${fmt(run.joinToLeadMs, 0)} ms, gap ${fmt(run.gapMs, 1)} ms, ${run.txns} txns, ${run.ranges} reads, ${run.watchEvents} watch events`,
        );
        runs.push(run);
      }
    }
  } finally {
    await cluster.stop();
  }
  const text = section(runs, command, machineMarkdown(machine(), load.stop(), command.slice(10, -1)));
  writeFileSync(join(RESULTS, '10-preemption.md'), text);
  console.log(text);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
