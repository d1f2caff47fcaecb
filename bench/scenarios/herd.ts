import { setMaxListeners } from 'node:events';
import { Etcd3, type Campaign } from 'etcd3';
import lockedV2 from 'locked-v2';
import { LockedClient, locked, type Term } from '../../src/api.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { diff, scrape, sum, traffic, type Traffic } from '../lib/etcd-metrics.js';
import { label } from '../lib/labels.js';
import { table } from '../lib/markdown.js';
import type { Section } from '../lib/report.js';
import { fmt } from '../lib/stats.js';
import { barChart, type Bar } from '../lib/svg.js';
import { pause } from '../lib/usage.js';

/**
 * Scenario 6, the herd: one election with a leader and N waiting candidates
 * (in the benchmark's process; each candidate on its own lease); the leader
 * leaves; we count what that one failover caused until the next leader is in
 * place and a second of quiet has passed: watch events etcd sent (all members'
 * /metrics), requests other than keepalives, and for locked the events its
 * watch hub delivered to the waiters' client.
 */
export type HerdKind = 'locked-core' | 'locked' | 'etcd3' | 'locked-v2';

export interface HerdRow {
  readonly kind: HerdKind;
  readonly waiters: number;
  readonly traffic: Traffic;
  /** locked only: events delivered by the waiters' client's watch hub. */
  readonly hubEvents: number | null;
  readonly failoverMs: number;
  /** locked core: campaigns re-joined after campaign() rejected while the waiters queued. */
  readonly campaignRetries: number;
  /** Set when the case did not complete (e.g. the waiters did not all queue in time). */
  readonly error?: string;
}

export interface HerdOptions {
  readonly endpoints: string;
  readonly metricsUrls: string[];
  readonly sizes: Record<HerdKind, number[]>;
  readonly ttlSec: number;
  readonly log: (line: string) => void;
}

interface Setup {
  /** Resolves once all waiters are queued. */
  readonly ready: Promise<void>;
  /** Makes the leader leave; resolves with the time the next leader is in place. */
  failover(): Promise<number>;
  readonly hubEvents?: () => number;
  close(): Promise<void>;
}

const gauge = async (urls: string[], name: string): Promise<number> => sum(await scrape(urls), name);

/** How many keys etcd holds under `prefix` (a client of its own, closed after the read). */
export async function keysUnder(endpoints: string, prefix: string): Promise<number> {
  const client = new Etcd3({ hosts: endpoints.split(',') });
  try {
    return await client.getAll().prefix(prefix).count();
  } finally {
    client.close();
  }
}

/** Counts the watch events `client` delivers to its watches from now on (a trace on its transport). */
function deliveredEvents(client: LockedClient): () => number {
  let events = 0;
  client.transport.trace.add({
    received: (r) => {
      if (r.kind === 'watch') events += r.message.events.length;
    },
  });
  return () => events;
}

/** Campaigns the core API had to repeat after a rejection (reported with the results). */
export const retries = { count: 0 };

function setupLockedCore(o: HerdOptions, name: string, n: number): Setup {
  const leaderClient = new LockedClient({ endpoints: o.endpoints, ttl: o.ttlSec });
  const waiters = new LockedClient({ endpoints: o.endpoints, ttl: o.ttlSec });
  const stop = new AbortController();
  let term: Term | null = null;
  const terms: Term[] = [];
  let firstWin: ((t: number) => void) | null = null;
  setMaxListeners(0, stop.signal); // one listener per waiter
  const campaign = (i: number): void => {
    waiters
      .election(name, waiters.session())
      .campaign(`w${i}`, { signal: stop.signal })
      .then(
        (t) => {
          terms.push(t);
          firstWin?.(performance.now());
        },
        () => {
          // campaign() rejects on some transient errors (a request deadline under load): join again, as a user must.
          if (stop.signal.aborted) return;
          retries.count++;
          setTimeout(() => campaign(i), 200);
        },
      );
  };
  const ready = (async () => {
    await waiters.transport.range({ key: Buffer.from('/bench/warmup') });
    term = await leaderClient.election(name).campaign('leader');
    for (let i = 0; i < n; i++) campaign(i);
    await waitFor('the waiters to queue', async () => (await keysUnder(o.endpoints, `${name}/`)) === n + 1, {
      timeoutMs: 180_000,
      intervalMs: 200,
    });
  })();
  return {
    ready,
    async failover() {
      const won = new Promise<number>((resolve) => (firstWin = resolve));
      await term!.resign();
      return won;
    },
    hubEvents: deliveredEvents(waiters),
    async close() {
      stop.abort();
      await Promise.all(terms.map((t) => t.resign().catch(() => undefined)));
      await waiters.close();
      await leaderClient.close();
    },
  };
}

function setupLockedFacade(o: HerdOptions, name: string, n: number): Setup {
  const locker = locked(o.endpoints);
  const nodes = Array.from({ length: n + 1 }, (_, i) => locker({ path: name, value: `n${i}`, ttl: o.ttlSec }));
  let firstWin: ((t: number) => void) | null = null;
  const leader = nodes[0]!;
  const ready = (async () => {
    const selected = new Promise((resolve) => leader.once('select', resolve));
    await leader.start();
    await selected;
    for (const node of nodes.slice(1)) {
      node.on('select', () => firstWin?.(performance.now()));
      void node.start();
    }
    await waitFor('the waiters to queue', async () => (await keysUnder(o.endpoints, `${name}/`)) === n + 1, {
      timeoutMs: 180_000,
      intervalMs: 200,
    });
  })();
  return {
    ready,
    async failover() {
      const won = new Promise<number>((resolve) => (firstWin = resolve));
      await leader.stop();
      return won;
    },
    hubEvents: deliveredEvents(locker.client),
    async close() {
      await Promise.all(nodes.map((x) => x.stop()));
      await locker.close();
    },
  };
}

function setupEtcd3(o: HerdOptions, name: string, n: number): Setup {
  const hosts = o.endpoints.split(',');
  const leaderClient = new Etcd3({ hosts });
  const waiters = new Etcd3({ hosts });
  let leader: Campaign | null = null;
  const campaigns: Campaign[] = [];
  let firstWin: ((t: number) => void) | null = null;
  const ready = (async () => {
    const c = leaderClient.election(name, o.ttlSec).campaign('leader');
    leader = c;
    await c.wait();
    for (let i = 0; i < n; i++) {
      const w = waiters.election(name, o.ttlSec).campaign(`w${i}`);
      w.on('elected', () => firstWin?.(performance.now()));
      w.on('error', () => undefined);
      campaigns.push(w);
    }
    await waitFor('the waiters to queue', async () => (await keysUnder(o.endpoints, `election/${name}/`)) === n + 1, {
      timeoutMs: 180_000,
      intervalMs: 200,
    });
  })();
  return {
    ready,
    async failover() {
      const won = new Promise<number>((resolve) => (firstWin = resolve));
      await leader!.resign();
      return won;
    },
    async close() {
      await Promise.all(campaigns.map((c) => c.resign().catch(() => undefined)));
      waiters.close();
      leaderClient.close();
    },
  };
}

function setupLockedV2(o: HerdOptions, name: string, n: number): Setup {
  const locker = lockedV2(o.endpoints);
  const nodes = Array.from({ length: n + 1 }, (_, i) => locker({ path: name, value: `n${i}`, ttl: o.ttlSec }));
  let leaderIndex = -1;
  let firstWin: ((t: number) => void) | null = null;
  nodes.forEach((node, i) => {
    node.on('error', () => undefined);
    node.on('select', () => {
      if (leaderIndex < 0) leaderIndex = i;
      else if (i !== leaderIndex) firstWin?.(performance.now());
    });
  });
  const ready = (async () => {
    for (const node of nodes) node.start();
    await waitFor(
      'a leader and every waiter watching',
      async () => {
        const watchers = await gauge(o.metricsUrls, 'etcd_debugging_store_watchers');
        return leaderIndex >= 0 && watchers >= n;
      },
      { timeoutMs: 180_000, intervalMs: 200 },
    );
  })();
  return {
    ready,
    async failover() {
      // locked 2.4.1's stop() releases nothing: the next leader comes when the key's TTL runs out.
      const won = new Promise<number>((resolve) => (firstWin = resolve));
      nodes[leaderIndex]!.stop();
      return won;
    },
    async close() {
      for (const node of nodes) node.stop();
    },
  };
}

const SETUPS: Record<HerdKind, (o: HerdOptions, name: string, n: number) => Setup> = {
  'locked-core': setupLockedCore,
  locked: setupLockedFacade,
  etcd3: setupEtcd3,
  'locked-v2': setupLockedV2,
};

/** Waits (at most 60 s) for a whole second in which etcd gets no v3 watch message and sends no watch event. */
async function untilQuiet(urls: string[]): Promise<void> {
  const deadline = performance.now() + 60_000;
  let before = await scrape(urls);
  while (performance.now() < deadline) {
    await pause(1000);
    const now = await scrape(urls);
    const d = diff(before, now);
    const v3WatchMessages = sum(d, 'grpc_server_msg_received_total', 'grpc_method="Watch"');
    if (sum(d, 'etcd_debugging_mvcc_events_total') === 0 && v3WatchMessages === 0) return;
    before = now;
  }
}

async function herdOnce(o: HerdOptions, kind: HerdKind, n: number): Promise<HerdRow> {
  const name = `/bench/herd/${kind}/${n}/${process.pid}`;
  const retriesBefore = retries.count;
  const setup = SETUPS[kind](o, name, n);
  try {
    await setup.ready;
    await untilQuiet(o.metricsUrls); // every waiter has its watch in place, and no start-up traffic is left
    const m0 = await scrape(o.metricsUrls);
    const e0 = setup.hubEvents?.() ?? 0;
    const t0 = performance.now();
    const elected = await Promise.race([setup.failover(), pause(o.ttlSec * 3000 + 30_000).then(() => NaN)]);
    await pause(1000); // stragglers of the same failover
    const m1 = await scrape(o.metricsUrls);
    const e1 = setup.hubEvents?.() ?? 0;
    return {
      kind,
      waiters: n,
      traffic: traffic(diff(m0, m1)),
      hubEvents: setup.hubEvents ? e1 - e0 : null,
      failoverMs: elected - t0,
      campaignRetries: retries.count - retriesBefore,
    };
  } finally {
    await setup.close();
  }
}

export async function measureHerd(o: HerdOptions): Promise<HerdRow[]> {
  const rows: HerdRow[] = [];
  for (const kind of Object.keys(o.sizes) as HerdKind[]) {
    for (const n of o.sizes[kind]) {
      const row = await herdOnce(o, kind, n).catch((err: unknown): HerdRow => ({
        kind,
        waiters: n,
        traffic: {
          requests: NaN,
          keepalives: NaN,
          ranges: NaN,
          writes: NaN,
          watchRequests: NaN,
          v2Requests: NaN,
          watchEvents: NaN,
        },
        hubEvents: null,
        failoverMs: NaN,
        campaignRetries: 0,
        error: err instanceof Error ? err.message : String(err),
      }));
      rows.push(row);
      o.log(
        `  herd ${kind} × ${n}: ${row.traffic.watchEvents} watch events, ${row.traffic.requests - row.traffic.keepalives} requests, hub ${row.hubEvents ?? '–'}, next leader in ${fmt(row.failoverMs)} ms${row.error ? ` — failed: ${row.error}` : ''}`,
      );
    }
  }
  return rows;
}

function retryNote(rows: HerdRow[]): string {
  const retried = rows.filter((r) => r.campaignRetries > 0);
  if (retried.length === 0) return '';
  return `\nWhile the waiters queued, the core API's \`campaign()\` rejected on transient errors and the benchmark joined again: ${retried.map((r) => `${r.campaignRetries} times with ${r.waiters} waiters`).join(', ')} (see the report: its contract says it rejects only on non-transient errors).`;
}

export function herdSection(rows: HerdRow[], ttlSec: number): Section {
  const body = rows.map((r) => [
    r.error ? `${label(r.kind)} — failed: ${r.error}` : label(r.kind),
    String(r.waiters),
    String(r.traffic.watchEvents),
    r.hubEvents === null ? '–' : String(r.hubEvents),
    String(r.traffic.requests - r.traffic.keepalives),
    String(r.traffic.ranges),
    String(r.traffic.writes),
    String(r.traffic.watchRequests),
    fmt(r.failoverMs),
  ]);
  const kinds = [...new Set(rows.map((r) => r.kind))];
  const groups = kinds.map((kind) => ({
    title: label(kind),
    bars: rows
      .filter((r) => r.kind === kind)
      .map((r): Bar => ({
        label: `${r.waiters} waiting`,
        value: Math.max(r.traffic.watchEvents, 0.5),
        accent: kind === 'locked-core',
        note: `${r.traffic.watchEvents} events, ${r.traffic.requests - r.traffic.keepalives} requests`,
      })),
  }));
  const core1000 = rows.find((r) => r.kind === 'locked-core' && r.waiters === 1000);
  return {
    id: '6-herd',
    title: '6. Herd: what one failover costs with N waiting candidates',
    body: [
      `One election, a leader and N waiting candidates, each on its own lease (TTL ${ttlSec} s), in the benchmark's process. The leader leaves (locked: \`resign()\` / \`stop()\`; etcd3: \`resign()\`; locked 2.4.1: \`stop()\`, after which its key expires). Counted from just before the leave until one second after the next leader is in place: the watch events etcd sent (\`etcd_debugging_mvcc_events_total\`; for locked 2.4.1, whose v2 watches are not in that counter, its re-issued long polls are in "watch requests"), the requests etcd received other than keepalives, and for locked the events its watch hub delivered to the waiters' client.`,
      '',
      table(
        [
          'implementation',
          'waiting',
          'watch events (etcd)',
          'events to waiters (hub)',
          'requests',
          'reads',
          'writes',
          'watch requests',
          'next leader ms',
        ],
        body,
      ),
      '',
      "locked's core API (`client.election(name).campaign()`) wakes only the successor: it watches just its predecessor's key (deletes only). The leaving leader's own term watch sees its delete too, which is the second event. The seed facade keeps the seed's contract that every node knows the leader (`change` on every node): the nodes of one process (one locker) share one prefix watch per election, and their campaigns wait on that watch's view instead of a watch of their own, so a failover delivers one event to the process and causes no reads; each node, the successor included, then hears of it in-process.",
      '',
      `Target: ≤ 2 watch events per failover at 1,000 candidates (core API). Measured: ${core1000 ? `${core1000.traffic.watchEvents} (etcd), ${core1000.hubEvents ?? '–'} delivered to the waiters` : 'not run'}.`,
      retryNote(rows),
    ].join('\n'),
    svg: barChart({ title: '6. Watch events caused by one failover', unit: 'events', groups, log: true }),
    headline: {
      'herd: watch events / requests for one failover, 1,000 waiting (locked: core API)': Object.fromEntries(
        rows
          .filter((r) => r.waiters === 1000 && r.kind !== 'locked')
          .map((r) => [
            r.kind === 'locked-core' ? 'locked' : r.kind,
            `${r.traffic.watchEvents} / ${r.traffic.requests - r.traffic.keepalives}`,
          ]),
      ),
      'herd, locked seed facade (every node knows the leader), 1,000 nodes in one process': Object.fromEntries(
        rows
          .filter((r) => r.waiters === 1000 && r.kind === 'locked')
          .map((r) => ['locked', `${r.traffic.watchEvents} / ${r.traffic.requests - r.traffic.keepalives}`]),
      ),
    },
    targets: rows
      .filter((r) => r.waiters === 1000 && (r.kind === 'locked-core' || r.kind === 'locked'))
      .map((r) => ({
        target: `herd: ≤ 2 watch events per failover at 1,000 candidates (${r.kind === 'locked' ? 'seed facade' : 'core API'})`,
        measured: `${r.traffic.watchEvents} sent by etcd, ${r.hubEvents ?? '–'} delivered to the process`,
        met: r.traffic.watchEvents <= 2,
      })),
    raw: rows,
  };
}
