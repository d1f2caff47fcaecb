import type { CandidateKind } from '../candidates/protocol.js';
import { TcpProxy } from '../../src/testing/tcp-proxy.js';
import { diff, scrape, sum, traffic, type Traffic } from '../lib/etcd-metrics.js';
import { Fleet } from '../lib/fleet.js';
import { label } from '../lib/labels.js';
import { table } from '../lib/markdown.js';
import type { Section } from '../lib/report.js';
import { fmt, mb } from '../lib/stats.js';
import { barChart, type Bar } from '../lib/svg.js';
import { pause, usageOf } from '../lib/usage.js';
import { EtcdctlCandidate } from './etcdctl.js';

/**
 * Scenario 5, idle cost. (a) Three candidates of one implementation, each in
 * its own process, one leading and two waiting, left alone for a window:
 * what etcd received from them (its /metrics, all members) and the TCP bytes
 * they exchanged (counted in each process; through a counting proxy for
 * etcdctl), per candidate. (b) One process leading 1, 10, 1,000 elections.
 */
export interface IdleOptions {
  readonly endpoints: string;
  readonly metricsUrls: string[];
  readonly kinds: CandidateKind[];
  readonly counts: Record<string, number[]>;
  readonly windowMs: number;
  readonly etcdctlWindowMs: number;
  readonly ttlSec: number;
  readonly etcdctl: boolean;
  readonly log: (line: string) => void;
}

export interface IdleRow {
  readonly kind: string;
  /** Candidates (a) or elections in one process (b). */
  readonly count: number;
  readonly processes: number;
  readonly ttlSec: number;
  readonly windowMs: number;
  readonly traffic: Traffic;
  readonly bytes: number;
  readonly cpuMs: number | null;
  readonly rssBytes: number | null;
  readonly electMs: number | null;
  /** After the last win (+2 s): time until etcd saw no reads, txns or watch messages for 2 s (NaN: not within 60 s, or not checked). */
  readonly quietMs: number;
}

export interface IdleData {
  readonly perCandidate: IdleRow[];
  readonly perProcess: IdleRow[];
}

/**
 * Waits until etcd sees no reads and no watch messages from clients for two
 * seconds (a burst of starts can take a while to calm down), up to `maxMs`.
 * Returns how long that took, or NaN if it never calmed down.
 */
async function quiesce(o: IdleOptions, maxMs = 60_000): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < maxMs) {
    const m0 = await scrape(o.metricsUrls);
    await pause(2000);
    const d = diff(m0, await scrape(o.metricsUrls));
    const busy =
      sum(d, 'grpc_server_msg_received_total', 'grpc_method="Range"') +
      sum(d, 'grpc_server_msg_received_total', 'grpc_method="Watch"') +
      sum(d, 'grpc_server_msg_received_total', 'grpc_method="Txn"');
    if (busy === 0) return performance.now() - t0;
  }
  return NaN;
}

async function measureWindow(
  o: IdleOptions,
  bytes: () => Promise<number>,
): Promise<{ traffic: Traffic; bytes: number; windowMs: number }> {
  const m0 = await scrape(o.metricsUrls);
  const b0 = await bytes();
  const t0 = performance.now();
  await pause(o.windowMs);
  const m1 = await scrape(o.metricsUrls);
  const b1 = await bytes();
  return { traffic: traffic(diff(m0, m1)), bytes: b1 - b0, windowMs: performance.now() - t0 };
}

async function perCandidate(o: IdleOptions, kind: CandidateKind): Promise<IdleRow> {
  const fleet = new Fleet();
  try {
    const pool = await fleet.spawn(kind, o.endpoints, 3);
    await fleet.join(pool, { name: `/bench/idle/${kind}/${process.pid}`, ttlSec: o.ttlSec, value: kind });
    const from = fleet.mark();
    for (const c of pool) c.send({ op: 'start' });
    await fleet.next('a leader', (e) => e.report.ev === 'elected', from, 30_000);
    await pause(2000); // the others queue
    const quietMs = kind === 'locked-v2' ? NaN : await quiesce(o);
    let cpu0 = 0;
    const w = await measureWindow(o, async () => {
      const u = await usageOf(fleet, pool);
      if (cpu0 === 0) cpu0 = u.reduce((a, x) => a + x.cpuMs, 0);
      return u.reduce((a, x) => a + x.socketBytes, 0);
    });
    const u1 = await usageOf(fleet, pool);
    const cpuMs = u1.reduce((a, x) => a + x.cpuMs, 0) - cpu0;
    const rssBytes = Math.max(...u1.map((x) => x.rssBytes));
    return { kind, count: 3, processes: 3, ttlSec: o.ttlSec, ...w, cpuMs, rssBytes, electMs: null, quietMs };
  } finally {
    await fleet.close();
  }
}

async function perCandidateEtcdctl(o: IdleOptions): Promise<IdleRow> {
  const proxies = await Promise.all(o.endpoints.split(',').map((e) => TcpProxy.start(e)));
  const fleet = new Fleet();
  const endpoints = proxies.map((p) => p.endpoint).join(',');
  const from = fleet.mark();
  const candidates = [0, 1, 2].map(
    (i) => new EtcdctlCandidate(fleet, endpoints, `/bench/idle/etcdctl/${process.pid}`, `v${i}`),
  );
  try {
    await fleet.next('an etcdctl leader', (e) => e.report.ev === 'elected', from, 30_000);
    await pause(2000);
    // Its keepalive comes every 20 s (60 s session): the window is at least a minute, unless --quick.
    const w = await measureWindow({ ...o, windowMs: o.etcdctlWindowMs }, async () =>
      proxies.reduce((a, p) => a + p.bytes, 0),
    );
    return {
      kind: 'etcdctl',
      count: 3,
      processes: 3,
      ttlSec: 60,
      ...w,
      cpuMs: null,
      rssBytes: null,
      electMs: null,
      quietMs: NaN,
    };
  } finally {
    await Promise.all(candidates.map((c) => c.end()));
    await Promise.all(proxies.map((p) => p.close()));
  }
}

async function perProcess(o: IdleOptions, kind: CandidateKind, count: number): Promise<IdleRow> {
  const fleet = new Fleet();
  try {
    const [child] = await fleet.spawn(kind, o.endpoints, 1);
    const c = child!;
    await fleet.join([c], { name: `/bench/idle-many/${kind}/${count}/${process.pid}`, ttlSec: o.ttlSec, value: kind });
    // fleet.join sends count 1; ask for the rest explicitly.
    const joinMark = fleet.mark();
    if (count > 1) {
      c.send({
        op: 'join',
        config: { name: `/bench/idle-many/${kind}/${count}/${process.pid}-e`, ttlSec: o.ttlSec, value: kind },
        count: count - 1,
      });
      await fleet.next('the elections joined', (e) => e.who === c.who && e.report.ev === 'joined', joinMark, 30_000);
    }
    const from = fleet.mark();
    const t0 = performance.now();
    c.send({ op: 'start' });
    let elected = 0;
    await fleet.next(
      `${count} elections won`,
      (e) => e.who === c.who && e.report.ev === 'elected' && ++elected >= count,
      from,
      60_000 + count * 100,
    );
    const electMs = performance.now() - t0;
    await pause(2000);
    const quietMs = kind === 'locked-v2' ? NaN : await quiesce(o);
    const [u0] = await usageOf(fleet, [c]);
    const w = await measureWindow(o, async () => (await usageOf(fleet, [c]))[0]!.socketBytes);
    const [u1] = await usageOf(fleet, [c]);
    return {
      kind,
      count,
      processes: 1,
      ttlSec: o.ttlSec,
      ...w,
      cpuMs: u1!.cpuMs - u0!.cpuMs,
      rssBytes: u1!.rssBytes,
      electMs,
      quietMs,
    };
  } finally {
    await fleet.close();
  }
}

export async function measureIdle(o: IdleOptions): Promise<IdleData> {
  const data: IdleData = { perCandidate: [], perProcess: [] };
  for (const kind of o.kinds) {
    const row = await perCandidate(o, kind);
    data.perCandidate.push(row);
    o.log(
      `  idle, 3 candidates of ${kind}: ${fmt(row.traffic.requests / (row.windowMs / 1000) / 3, 2)} requests/s per candidate`,
    );
  }
  if (o.etcdctl) {
    const row = await perCandidateEtcdctl(o);
    data.perCandidate.push(row);
    o.log(`  idle, 3 etcdctl: ${fmt(row.traffic.requests / (row.windowMs / 1000) / 3, 2)} requests/s per candidate`);
  }
  for (const kind of o.kinds) {
    for (const count of o.counts[kind] ?? []) {
      const row = await perProcess(o, kind, count);
      data.perProcess.push(row);
      o.log(
        `  idle, 1 process of ${kind} with ${count} elections: ${fmt(row.traffic.requests / (row.windowMs / 1000), 2)} requests/s`,
      );
    }
  }
  return data;
}

const perSec = (n: number, row: IdleRow, per = 1): number => n / (row.windowMs / 1000) / per;

export function idleSection(d: IdleData): Section {
  const candRows = d.perCandidate.map((r) => [
    label(r.kind),
    `${r.ttlSec} s`,
    fmt(perSec(r.traffic.requests, r, 3), 2),
    fmt(perSec(r.traffic.keepalives, r, 3), 2),
    fmt(perSec(r.traffic.ranges, r, 3), 2),
    fmt(perSec(r.traffic.writes, r, 3), 2),
    fmt(perSec(r.traffic.watchRequests, r, 3), 2),
    fmt(perSec(r.bytes, r, 3), 0),
    r.cpuMs === null ? '–' : fmt((r.cpuMs / r.windowMs / 3) * 100, 2),
  ]);
  const procRows = d.perProcess.map((r) => [
    label(r.kind),
    String(r.count),
    fmt(perSec(r.traffic.requests, r), 2),
    fmt(perSec(r.traffic.keepalives, r), 2),
    fmt(perSec(r.traffic.ranges, r), 2),
    fmt(perSec(r.traffic.writes, r), 2),
    fmt(perSec(r.bytes, r), 0),
    r.cpuMs === null ? '–' : fmt((r.cpuMs / r.windowMs) * 100, 2),
    r.rssBytes === null ? '–' : mb(r.rssBytes),
    r.electMs === null ? '–' : fmt(r.electMs, 0),
    r.kind === 'locked-v2' ? '–' : Number.isFinite(r.quietMs) ? fmt((r.quietMs + 2000) / 1000, 0) : '> 60',
  ]);
  const bars: Bar[] = d.perProcess
    .filter((r) => r.count === Math.max(...d.perProcess.filter((x) => x.kind === r.kind).map((x) => x.count)))
    .map((r) => ({
      label: `${label(r.kind)} × ${r.count}`,
      value: perSec(r.traffic.requests, r),
      accent: r.kind === 'locked',
      note: `${fmt(perSec(r.traffic.requests, r), 2)} req/s`,
    }));
  const candBars: Bar[] = d.perCandidate.map((r) => ({
    label: label(r.kind),
    value: perSec(r.traffic.requests, r, 3),
    accent: r.kind === 'locked',
    note: `${fmt(perSec(r.traffic.requests, r, 3), 2)} req/s`,
  }));
  const window = d.perCandidate[0] ?? d.perProcess[0];
  const locked = d.perProcess.filter((r) => r.kind === 'locked');
  const ttl = window?.ttlSec ?? 5;
  const expected = 3 / ttl;
  return {
    id: '5-idle',
    title: '5. Idle cost',
    body: [
      `Requests are the gRPC messages etcd received (unary calls and stream messages — each keepalive is one) plus etcd v2 HTTP requests, from etcd's /metrics summed over the three members, over a window of ${fmt((window?.windowMs ?? 0) / 1000, 0)} s with nothing else running against the cluster. Bytes are TCP payload bytes both ways, counted on the client's sockets (etcdctl: through a counting proxy). TTL ${ttl} s for all (etcdctl: its fixed 60 s session).`,
      '',
      '**(a) Per candidate**: three candidates, each its own process, one leading and two waiting.',
      '',
      table(
        [
          'implementation',
          'TTL',
          'requests/s',
          'keepalives/s',
          'reads/s',
          'writes/s',
          'watch msgs/s',
          'bytes/s',
          'CPU %',
        ],
        candRows,
      ),
      '',
      '**(b) Per process** leading 1, 10 or 1,000 elections (each alone in its election). locked: one locker, so one LockedClient and one session (lease) for all its elections; v3election: one lease per process, as a Go program shares one session; etcd3: one lease per campaign (its API has no other way); locked 2.4.1: one etcd v2 client per node, as its API makes them (1,000 not run: each node is an independent poller, so its cost is linear — see 100).',
      '',
      table(
        [
          'implementation',
          'elections',
          'requests/s',
          'keepalives/s',
          'reads/s',
          'writes/s',
          'bytes/s',
          'CPU %',
          'RSS MB',
          'all elected in ms',
          'quiet after s',
        ],
        procRows,
      ),
      '',
      'The window starts once etcd has seen no reads, txns or watch messages for 2 s ("quiet after": seconds from the last win until then; a burst of starts can take a while to calm down).',
      '',
      `Target: one keepalive per renew interval per process, whatever the number of elections (TTL ${ttl} s → ${fmt(expected, 2)}/s), and no reads or polls while idle. locked measured: ${locked.map((r) => `${r.count} election${r.count > 1 ? 's' : ''} → ${fmt(perSec(r.traffic.keepalives, r), 2)} keepalives/s, ${fmt(perSec(r.traffic.ranges, r), 2)} reads/s`).join('; ')}.`,
    ].join('\n'),
    targets: [
      {
        target: 'idle: one keepalive per renew interval per process, whatever the number of elections',
        measured: `${locked.map((r) => `${r.count} → ${fmt(perSec(r.traffic.keepalives, r), 2)}/s`).join(', ')} (expected ${fmt(expected, 2)}/s)`,
        met: locked.length > 0 && locked.every((r) => perSec(r.traffic.keepalives, r) <= expected * 1.15),
      },
      {
        target: 'idle: no reads or polls',
        measured: `reads ${locked.map((r) => fmt(perSec(r.traffic.ranges, r), 2)).join(' / ')}, writes ${locked.map((r) => fmt(perSec(r.traffic.writes, r), 2)).join(' / ')}, watch messages ${locked.map((r) => fmt(perSec(r.traffic.watchRequests, r), 2)).join(' / ')} per s`,
        met:
          locked.length > 0 &&
          locked.every((r) => r.traffic.ranges === 0 && r.traffic.writes === 0 && r.traffic.watchRequests === 0),
      },
    ],
    svg: barChart({
      title: '5. Idle requests/s: per candidate (top), per process with the most elections (bottom)',
      unit: 'req/s',
      groups: [
        { title: 'per candidate (3 candidates, 1 leading)', bars: candBars },
        { title: 'one process, many elections', bars },
      ],
      log: true,
    }),
    headline: {
      'idle requests/s per candidate': Object.fromEntries(
        d.perCandidate.map((r) => [r.kind, fmt(perSec(r.traffic.requests, r, 3), 2)]),
      ),
      'idle requests/s, one process with 1,000 elections': Object.fromEntries(
        d.perProcess.filter((r) => r.count === 1000).map((r) => [r.kind, fmt(perSec(r.traffic.requests, r), 2)]),
      ),
    },
    raw: d,
  };
}
