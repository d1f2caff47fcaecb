import { sharedNow, type HistoryVerdict, type LateLeadership } from '../../src/testing/history.js';
import { clusterFault } from './cluster-faults.js';
import { CLUSTER_FAULTS, LANE_FAULTS, isClusterFault, type Fault, type FaultKind, type FaultParams } from './faults.js';
import type { FenceVerdict } from './fence.js';
import { laneFault } from './lane-faults.js';
import { Gate } from './gate.js';
import { Lane, type DeadEndpoints } from './lane.js';
import type { CandidateConfig, CandidateMode } from './protocol.js';
import { Rng } from './rng.js';
import { ChaosWorld } from './world.js';

/**
 * Runs a seeded mix of faults against lanes of candidates on one cluster and
 * collects what the checker needs: every fault with its inject, heal and
 * recovery times, its victim, whether the lanes were stable before it, every
 * lane's leadership history, and (with `fence`) the fenced counter's verdict.
 * Lane faults run side by side (one per lane at a time); a cluster fault runs
 * alone and its recovery is that of the slowest lane.
 */
export type Target = 'locked' | 'etcd3';

export interface ChaosOptions {
  readonly faults: number;
  readonly seed: number;
  readonly target?: Target;
  readonly lanes?: number;
  readonly candidatesPerLane?: number;
  readonly ttlSec?: number;
  /** Candidate modes, cycled over the lanes (default: node and with-leadership for locked, etcd3 for etcd3). */
  readonly modes?: CandidateMode[];
  /** Fault kinds to plan (default: all); each runs at least once when `faults` allows. */
  readonly kinds?: FaultKind[];
  /** Share of cluster faults among the faults drawn after every kind has had one (default 0.12). */
  readonly clusterShare?: number;
  /** Dead members in the endpoint lists, cycled over the lanes. */
  readonly deadEndpoints?: DeadEndpoints[];
  /**
   * After a heal, a lane must be stable within this (default 3×TTL + 2 s: the lost
   * lease may take one TTL to expire, or longer when an etcd leader change extends it
   * by the election timeout; after that non-graceful loss the successor waits one TTL
   * before it leads; and a third TTL covers requests that spend their whole deadline
   * on a hanging or reset member before the etcd client tries another, which the
   * soaks and CI runs showed taking 6–9 s in all). Leader faults wait as long for a
   * leader to hit; the runner waits twice as long for stability before each injection.
   */
  readonly recoveryBoundMs?: number;
  /** Keep waiting this long for a late recovery before moving on. */
  readonly lateRecoveryMs?: number;
  readonly params?: FaultParams;
  /** Use this cluster instead of starting one (tests share one per file). */
  readonly world?: ChaosWorld;
  readonly log?: (line: string) => void;
  /** A short name for the run's election paths. */
  readonly runName?: string;
  /** A workaround the candidates apply from outside the library (see CandidateConfig.experiment). */
  readonly experiment?: CandidateConfig['experiment'];
  /** Candidates report views that stay stale (see CandidateConfig.diagnose). */
  readonly diagnose?: boolean;
  /** Period of each candidate's leadership samples (default 5 ms; more for big lanes on small machines). */
  readonly sampleMs?: number;
  /** Leaders increment a fenced counter per lane, judged after the run (default: on for target locked). */
  readonly fence?: boolean;
}

export interface FaultRecord {
  readonly index: number;
  readonly kind: FaultKind;
  readonly scope: 'lane' | 'cluster';
  readonly lanes: string[];
  readonly detail: string;
  readonly holdMs: number;
  readonly injectAt: number;
  readonly healAt: number;
  /** ms from the heal until every affected lane was stable; null if not within the bound. */
  readonly recoveryMs: number | null;
  /** The same without the bound (null: never within lateRecoveryMs). */
  readonly eventualRecoveryMs: number | null;
  readonly recovered: boolean;
  readonly leaderBefore: string[];
  readonly leaderAfter: string[];
  /** Leader faults: the candidate hit, whether it led at the injection, its token then. */
  readonly victim?: string;
  readonly victimWasLeader?: boolean;
  readonly victimToken?: string | null;
  /** Leader faults: how long the fault waited for a leader to hit. */
  readonly leaderWaitMs?: number;
  /** A lane was not stable within 2× the bound before the injection (the fault was made anyway). */
  readonly unstableBefore: boolean;
  readonly unstableReason?: string;
  /** Why a lane was not stable at the bound. */
  readonly reason?: string;
  /** Every candidate of each lane not stable at the bound, as it was then. */
  readonly stateAtBound?: string[];
  /** The harness itself failed during this fault (e.g. etcd did not come back). */
  readonly harnessError?: string;
}

export interface LaneResult {
  readonly name: string;
  readonly mode: CandidateMode;
  readonly path: string;
  readonly verdict: HistoryVerdict;
  /** Terms reported after etcd had deleted their key. */
  readonly lateLeaders: LateLeadership[];
  /** Views that disagreed with fresh reads for > 2 s (only with `diagnose`). */
  readonly staleViews: { candidate: string; atMs: number; message: string }[];
  readonly errors: Record<string, number>;
  /** The fenced counter's verdict (lanes with `fence`; absent when the run failed before the check). */
  readonly fence?: FenceVerdict;
}

export interface ChaosResult {
  readonly seed: number;
  readonly target: Target;
  readonly ttlSec: number;
  readonly experiment?: string;
  readonly recoveryBoundMs: number;
  /** A term may be reported at most this long after etcd deleted its key (the TTL: etcd may revoke a lease early). */
  readonly lateBoundMs: number;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly faults: FaultRecord[];
  readonly lanes: LaneResult[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The seeded sequence of fault kinds: every kind asked for once, in a seeded
 * random order, then the rest drawn at random (a cluster kind with probability
 * `clusterShare`, each list drawn uniformly; a kind listed twice is drawn twice
 * as often). With fewer faults than kinds, a seeded choice of `n` distinct kinds.
 */
export function planFaults(rng: Rng, n: number, kinds: readonly FaultKind[], clusterShare: number): FaultKind[] {
  if (n > 0 && kinds.length === 0) throw new RangeError('planFaults: no fault kinds to plan');
  const lane = kinds.filter((k) => !isClusterFault(k));
  const cluster = kinds.filter(isClusterFault);
  const every = [...new Set(kinds)];
  for (let i = every.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [every[i], every[j]] = [every[j]!, every[i]!];
  }
  const plan: FaultKind[] = every.slice(0, n);
  while (plan.length < n) {
    const pickCluster = cluster.length > 0 && (lane.length === 0 || rng.next() < clusterShare);
    plan.push(pickCluster ? rng.pick(cluster) : rng.pick(lane));
  }
  return plan;
}

export async function runChaos(options: ChaosOptions): Promise<ChaosResult> {
  const target = options.target ?? 'locked';
  const ttlSec = options.ttlSec ?? 2;
  const ttlMs = Math.max(2, Math.ceil(ttlSec)) * 1000;
  const boundMs = options.recoveryBoundMs ?? 3 * ttlMs + 2000;
  const fence = options.fence ?? target === 'locked';
  const lateMs = options.lateRecoveryMs ?? 30_000;
  const log = options.log ?? (() => undefined);
  const modes = options.modes ?? (target === 'etcd3' ? ['etcd3'] : ['node', 'with-leadership']);
  const deadCycle = options.deadEndpoints ?? ['none', 'refusing'];
  const kinds = options.kinds ?? [...LANE_FAULTS, ...CLUSTER_FAULTS];
  const rng = new Rng(options.seed);
  const plan = planFaults(rng.fork(), options.faults, kinds, options.clusterShare ?? 0.12);
  const runName = options.runName ?? `run${options.seed}`;
  const started = sharedNow();
  const startedAt = new Date().toISOString();

  const world = options.world ?? (await ChaosWorld.start());
  const lanes: Lane[] = [];
  const records: FaultRecord[] = [];
  const fences = new Map<Lane, FenceVerdict>();
  try {
    const laneCount = options.lanes ?? 3;
    for (let i = 0; i < laneCount; i++) {
      lanes.push(
        await Lane.start(world, {
          name: `L${i}`,
          path: `/chaos/${runName}/${target}/L${i}`,
          mode: modes[i % modes.length]!,
          ttlSec,
          candidates: options.candidatesPerLane ?? 3,
          deadEndpoints: deadCycle[i % deadCycle.length]!,
          ...(options.experiment ? { experiment: options.experiment } : {}),
          ...(options.diagnose ? { diagnose: true } : {}),
          ...(options.sampleMs === undefined ? {} : { sampleMs: options.sampleMs }),
          ...(fence ? { fence: true } : {}),
        }),
      );
    }
    log(
      `seed ${options.seed}: ${options.faults} faults, ${laneCount} lanes (${lanes.map((l) => `${l.options.mode}/${l.options.deadEndpoints ?? 'none'}`).join(', ')}), target ${target}, ttl ${ttlSec} s, recovery bound ${boundMs} ms${fence ? ', fenced counter' : ''}`,
    );
    for (const lane of lanes) {
      const first = await lane.waitStable(30_000);
      if (first.ms === null) log(`${lane.name}: not stable at start (${first.reason})`);
    }

    const gate = new Gate();
    const laneRngs = lanes.map(() => rng.fork());
    const clusterRng = rng.fork();
    let next = 0;

    /** What every fault record starts with: which fault, where, and for how long. */
    const faultFields = (index: number, kind: FaultKind, affected: Lane[], fault: Fault) => ({
      index,
      kind,
      scope: isClusterFault(kind) ? ('cluster' as const) : ('lane' as const),
      lanes: affected.map((l) => l.name),
      detail: fault.detail,
      holdMs: Math.round(fault.holdMs),
    });

    const runOne = async (index: number, kind: FaultKind, affected: Lane[], fault: Fault): Promise<void> => {
      const injected = { at: sharedNow() };
      try {
        await runFault(index, kind, affected, fault, injected);
      } catch (err) {
        // Keep going: a soak's report is worth more than its abort. The fault counts as not recovered.
        const message = err instanceof Error ? err.message : String(err);
        log(`#${index} ${kind}: HARNESS ERROR ${message}`);
        records.push({
          ...faultFields(index, kind, affected, fault),
          injectAt: fault.injectedAt ?? injected.at,
          healAt: sharedNow(),
          recoveryMs: null,
          eventualRecoveryMs: null,
          recovered: false,
          leaderBefore: [],
          leaderAfter: [],
          ...victimFields(fault),
          unstableBefore: false,
          harnessError: message,
        });
        await fault.heal().catch(() => undefined);
        await world.waitHealthy().catch(() => undefined);
      }
    };

    const runFault = async (
      index: number,
      kind: FaultKind,
      affected: Lane[],
      fault: Fault,
      injected: { at: number },
    ): Promise<void> => {
      // Every affected lane must be stable before the injection; one that is not is recorded (and fails the
      // scenarios' expectRecovered), not hidden: the fault is made anyway so the run goes on.
      const before = await Promise.all(affected.map((l) => l.waitStable(boundMs * 2)));
      const unstable = before.map((b, i) => (b.ms === null ? `${affected[i]!.name}: ${b.reason}` : '')).filter(Boolean);
      if (unstable.length > 0) log(`#${index} ${kind}: NOT STABLE before the injection (${unstable.join('; ')})`);
      const leaderBefore = affected.map((l) => l.leader()?.id ?? '-');
      injected.at = sharedNow();
      await fault.inject();
      // A leader fault first waits for a leader: it was made when it hit one.
      const injectAt = fault.injectedAt ?? injected.at;
      if (fault.holdMs > 0) await sleep(fault.holdMs);
      await fault.heal();
      const healAt = sharedNow();
      const within = await Promise.all(
        affected.map(async (l) => {
          const w = await l.waitStable(boundMs, healAt);
          return { ...w, state: w.ms === null ? `${l.name}: ${l.describe()}` : '' };
        }),
      );
      const late = await Promise.all(
        affected.map((l, i) =>
          within[i]!.ms !== null ? Promise.resolve(within[i]!) : l.waitStable(boundMs + lateMs, healAt),
        ),
      );
      const recovered = within.every((w) => w.ms !== null);
      const maxOf = (list: { ms: number | null }[]): number | null =>
        list.every((w) => w.ms !== null) ? Math.max(...list.map((w) => w.ms!)) : null;
      const reasons = within.map((w, i) => (w.ms === null ? `${affected[i]!.name}: ${w.reason}` : '')).filter(Boolean);
      const record: FaultRecord = {
        ...faultFields(index, kind, affected, fault),
        injectAt,
        healAt,
        recoveryMs: maxOf(within),
        eventualRecoveryMs: maxOf(late),
        recovered,
        leaderBefore: fault.victim ? [fault.victim.wasLeader ? fault.victim.id : '-'] : leaderBefore,
        leaderAfter: affected.map((l) => l.leader()?.id ?? '-'),
        ...victimFields(fault),
        unstableBefore: unstable.length > 0,
        ...(unstable.length > 0 ? { unstableReason: unstable.join('; ') } : {}),
        ...(reasons.length > 0 ? { reason: reasons.join('; ') } : {}),
        ...(recovered ? {} : { stateAtBound: within.map((w) => w.state).filter(Boolean) }),
      };
      records.push(record);
      const rec =
        record.recoveryMs === null
          ? `NOT RECOVERED in ${boundMs} ms (${record.reason})`
          : `${Math.round(record.recoveryMs)} ms`;
      const hit =
        record.victim === undefined ? '' : record.victimWasLeader ? ' (hit the leader)' : ' (MISSED: not the leader)';
      log(`#${index} ${kind} [${record.lanes.join(',')}] ${record.detail}${hit} → recovery ${rec}`);
      for (const state of record.stateAtBound ?? []) log(`  at the bound: ${state}`);
    };

    const worker = async (laneIndex: number): Promise<void> => {
      const lane = lanes[laneIndex]!;
      for (;;) {
        const index = next++;
        if (index >= plan.length) return;
        const kind = plan[index]!;
        if (isClusterFault(kind)) {
          await gate.exclusive(() =>
            runOne(index, kind, lanes, clusterFault(kind, { world, rng: clusterRng, ttlMs }, options.params)),
          );
        } else {
          await gate.shared(() =>
            runOne(
              index,
              kind,
              [lane],
              laneFault(kind, { world, lane, rng: laneRngs[laneIndex]!, leaderWaitMs: boundMs }, options.params),
            ),
          );
        }
      }
    };
    await Promise.all(lanes.map((_, i) => worker(i)));
    // The fenced counters are judged once no leader writes any more and every candidate's reports are in.
    for (const lane of lanes) await lane.close();
    for (const lane of lanes) {
      const verdict = await lane.checkFence();
      if (!verdict) continue;
      fences.set(lane, verdict);
      log(
        `${lane.name}: fenced counter ${verdict.counter} (${verdict.acknowledged} acknowledged, ${verdict.appliedWithoutReply} applied without a reply, ${verdict.refused} refused by the fence, ${verdict.terms} terms wrote): ${verdict.anomalies.length} anomalies`,
      );
      for (const a of verdict.anomalies) log(`  ${lane.name} fence ${a.kind}: ${a.detail}`);
    }
  } finally {
    for (const lane of lanes) await lane.close();
    if (!options.world) await world.close();
  }
  return {
    seed: options.seed,
    target,
    ttlSec,
    ...(options.experiment ? { experiment: options.experiment } : {}),
    recoveryBoundMs: boundMs,
    lateBoundMs: ttlMs,
    startedAt,
    durationMs: Math.round(sharedNow() - started),
    faults: records.sort((a, b) => a.index - b.index),
    lanes: lanes.map((lane) => ({
      name: lane.name,
      mode: lane.options.mode,
      path: lane.options.path,
      verdict: lane.verdict(),
      lateLeaders: lane.lateLeaders(),
      staleViews: lane.staleViews(),
      errors: lane.errorCounts(),
      ...(fences.has(lane) ? { fence: fences.get(lane)! } : {}),
    })),
  };
}

function victimFields(
  fault: Fault,
): Pick<FaultRecord, 'victim' | 'victimWasLeader' | 'victimToken' | 'leaderWaitMs'> | Record<string, never> {
  const v = fault.victim;
  return v ? { victim: v.id, victimWasLeader: v.wasLeader, victimToken: v.token, leaderWaitMs: v.waitedMs } : {};
}
