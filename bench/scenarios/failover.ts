import type { CandidateKind } from '../candidates/protocol.js';
import { monoMs } from '../candidates/protocol.js';
import type { Candidate, Entry, Fleet } from '../lib/fleet.js';

/**
 * One failover run with three candidate processes of one kind, in one fresh
 * election: (1) all three start at once → the first `elected` (time to first
 * leader); (2) once the others have queued and the leader has renewed, it
 * leaves the library's graceful way at a random moment of its renew interval
 * (stopPhaseMs) → the next `elected` (graceful handover); (3) the new leader's
 * process is SIGKILLed at a random phase of its keepalive cycle → the last candidate's `elected` (crash
 * handover). For (3) the floor is the moment etcd may expire the lease at the
 * earliest — the last acknowledged renewal + TTL — and the excess over it is
 * etcd's lease-expiry tick plus the watch delivery plus the library's reaction.
 */
export interface FailoverSample {
  readonly firstLeaderMs: number;
  readonly gracefulMs: number;
  /**
   * The leader or its successor in the graceful handover is a process in its first run (started to
   * replace the one the last run's crash killed): its code for that handover runs for the first time.
   */
  readonly gracefulFresh: boolean;
  readonly crashMs: number;
  /** Last renewal + TTL − kill time: how long etcd had to keep the dead leader's lease. */
  readonly crashFloorMs: number;
  /** crashMs − crashFloorMs. */
  readonly crashExcessMs: number;
}

export interface FailoverOptions {
  readonly fleet: Fleet;
  readonly kind: CandidateKind;
  readonly endpoints: string;
  readonly ttlSec: number;
  readonly name: string;
  readonly random: () => number;
}

const elected = (e: Entry): boolean => e.report.ev === 'elected';

/** How long after the first leader's election the others are given to queue. */
export const QUEUE_SETTLE_MS = 500;

/**
 * Before a graceful handover: every candidate has had time to queue (its join, and for locked's seed
 * facade its watches of its predecessor and of the leader's key), and the leader has just renewed, so that no keepalive is in
 * flight. Waits for a renewal of the leader at least QUEUE_SETTLE_MS after its election (≤ ttl/3
 * later): locked reports its first renewal with its election, while the others are still joining.
 */
export function queuedAndRenewed(fleet: Fleet, first: Entry, timeoutMs: number): Promise<Entry> {
  return fleet.next(
    'a renewal of the leader once the others queued',
    (e) => e.who === first.who && e.report.ev === 'renewed' && e.report.t >= first.report.t + QUEUE_SETTLE_MS,
    first.seq,
    timeoutMs,
  );
}

/**
 * How long after the leader's renewal a graceful stop comes: uniformly random within a third of the
 * TTL (locked's and npm etcd3's renew interval), so that a stop meets the renewal traffic of the
 * leader (and, since the candidates started together, of the others) only as often as a stop at an
 * arbitrary moment would. Right after the renewal, as the benchmark stopped until 3b38dfa (`npm run
 * bench:steps -- --phase=renewal`), every candidate's keepalive and confirmation are in flight.
 */
export function stopPhaseMs(random: () => number, ttlSec: number): number {
  return random() * ((ttlSec * 1000) / 3);
}

/** Candidate processes that have been through a run. */
const veterans = new WeakSet<Candidate>();

/** Three live candidates for the next run: survivors of the last run plus new processes. */
export async function fillPool(
  fleet: Fleet,
  pool: Candidate[],
  kind: CandidateKind,
  endpoints: string,
  size = 3,
): Promise<Candidate[]> {
  const alive = pool.filter((c) => c.alive);
  if (alive.length < size) alive.push(...(await fleet.spawn(kind, endpoints, size - alive.length)));
  return alive;
}

export async function failoverRun(pool: Candidate[], o: FailoverOptions): Promise<FailoverSample> {
  const { fleet, ttlSec } = o;
  const ttlMs = ttlSec * 1000;
  const fresh = new Set(pool.filter((c) => !veterans.has(c)).map((c) => c.who));
  for (const c of pool) veterans.add(c);
  await fleet.join(pool, { name: o.name, ttlSec, value: `${o.kind}` });
  const inRun = new Set(pool.map((c) => c.who));
  const mine = (e: Entry): boolean => inRun.has(e.who);

  // (1) first leader
  const startMark = fleet.mark();
  const t0 = monoMs();
  for (const c of pool) c.send({ op: 'start' });
  const first = await fleet.next('a first leader', (e) => mine(e) && elected(e), startMark, 30_000);
  const firstLeaderMs = first.report.t - t0;

  await queuedAndRenewed(fleet, first, ttlMs + QUEUE_SETTLE_MS + 2000).catch(() => undefined);
  const leader = latestLeader(fleet, startMark, inRun);
  await new Promise((resolve) => setTimeout(resolve, stopPhaseMs(o.random, ttlSec)));

  // (2) graceful handover
  const stopMark = fleet.mark();
  const leaving = pool.find((c) => c.who === leader)!;
  leaving.send({ op: 'stop' });
  const [stopped, next] = await Promise.all([
    fleet.next('the leader to stop', (e) => e.who === leader && e.report.ev === 'stopped', stopMark, 10_000),
    fleet.next('the next leader', (e) => mine(e) && e.who !== leader && elected(e), stopMark, ttlMs * 3 + 10_000),
  ]);
  const stopCalledAt = stopped.report.ev === 'stopped' ? stopped.report.stopCalledAt : NaN;
  const gracefulMs = next.report.t - stopCalledAt;
  const gracefulFresh = fresh.has(leader) || fresh.has(next.who);

  // (3) crash handover: kill the new leader's process at a random phase after one of its renewals.
  inRun.delete(leader);
  const crashLeader = latestLeader(fleet, stopMark, inRun);
  await fleet
    .next(
      'a renewal of the new leader',
      (e) => e.who === crashLeader && e.report.ev === 'renewed',
      next.seq,
      ttlMs + 2000,
    )
    .catch(() => undefined);
  await new Promise((resolve) => setTimeout(resolve, o.random() * (ttlMs / 3)));
  const victim = pool.find((c) => c.who === crashLeader)!;
  const crashMark = fleet.mark();
  const tKill = await victim.crash();
  inRun.delete(crashLeader);
  const successor = await fleet.next(
    'a leader after the crash',
    (e) => mine(e) && elected(e),
    crashMark,
    ttlMs * 3 + 10_000,
  );
  const renewals = fleet
    .reports('renewed', crashLeader, startMark)
    .map((e) => e.report.t)
    .filter((t) => t <= tKill);
  const lastRenewal = Math.max(...renewals);
  const crashMs = successor.report.t - tKill;
  const crashFloorMs = lastRenewal + ttlMs - tKill;

  // Survivors leave so the next run starts from an empty election.
  const leaveMark = fleet.mark();
  const survivors = pool.filter((c) => c.alive && c.who !== leader);
  for (const c of survivors) c.send({ op: 'stop' });
  await Promise.all(
    survivors.map((c) =>
      fleet.next(`candidate ${c.who} to stop`, (e) => e.who === c.who && e.report.ev === 'stopped', leaveMark, 10_000),
    ),
  );
  return { firstLeaderMs, gracefulMs, gracefulFresh, crashMs, crashFloorMs, crashExcessMs: crashMs - crashFloorMs };
}

/** The candidate whose `elected` came last since `from`, among `among`. */
function latestLeader(fleet: Fleet, from: number, among: Set<number>): number {
  const wins = fleet.reports('elected', undefined, from).filter((e) => among.has(e.who));
  const last = wins[wins.length - 1];
  if (!last) throw new Error('no leader elected');
  return last.who;
}
