import { sharedNow } from '../../src/testing/history.js';
import type { CandidateProcess } from './candidate-process.js';
import type { FaultParams, Fault, LaneFaultKind, Victim } from './faults.js';
import type { DeadEndpoints, Lane } from './lane.js';
import type { Direction } from '../../src/testing/tcp-proxy.js';
import type { Rng } from './rng.js';
import type { ChaosWorld } from './world.js';

/**
 * Faults that hit one election: its leader paused, cut off, slowed down,
 * reset, crashed or resigned; a follower whose watch needs a compacted revision
 * while the leader resigns; candidates leaving and joining while the leader is
 * paused. Each is an object with `inject()` and its inverse `heal()`; each
 * records its victim and whether it led at the injection (`Fault.victim`).
 */
export interface LaneContext {
  readonly world: ChaosWorld;
  readonly lane: Lane;
  readonly rng: Rng;
  /** How long a leader fault waits for the lane to have a leader (the runner gives 3×TTL + 2 s). */
  readonly leaderWaitMs: number;
}

/**
 * The lane's leader, waited for by polling the lane until it is stable (at
 * most `leaderWaitMs`), so that a leader fault hits a leader. When none comes,
 * the candidate that reports leadership, else any live one: the fault still
 * runs, and its record says it missed (`wasLeader` false), which the scenarios
 * fail on. Call right before injecting: the victim's state is taken then.
 */
async function target({ lane, rng, leaderWaitMs }: LaneContext): Promise<{ victim: CandidateProcess; record: Victim }> {
  const started = sharedNow();
  const stable = await lane.waitStable(leaderWaitMs, started);
  const victim = stable.leader ?? lane.candidates().find((c) => c.leading) ?? rng.pick(lane.candidates());
  const at = sharedNow();
  const wasLeader = victim.leading && victim.isResponsive(lane.staleMs, at);
  return {
    victim,
    record: { id: victim.id, wasLeader, token: wasLeader ? victim.token : null, waitedMs: Math.round(at - started) },
  };
}

/** A fault made on the lane's leader, its victim (found when injected): what it does, how it says so, how it heals. */
interface LeaderFault {
  readonly detail: (victim: CandidateProcess) => string;
  readonly make: (victim: CandidateProcess) => void;
  readonly undo: (victim: CandidateProcess) => void;
}

function onLeader(kind: LaneFaultKind, ctx: LaneContext, holdMs: number, fault: LeaderFault): Fault {
  let victim: CandidateProcess | null = null;
  return {
    kind,
    detail: '',
    holdMs,
    async inject() {
      const hit = await target(ctx);
      victim = hit.victim;
      this.victim = hit.record;
      this.injectedAt = sharedNow();
      this.detail = fault.detail(victim);
      fault.make(victim);
    },
    async heal() {
      if (victim) fault.undo(victim);
    },
  };
}

function pauseLeader(kind: LaneFaultKind, factor: number, ctx: LaneContext, p: FaultParams): Fault {
  return onLeader(kind, ctx, p.holdMs ?? factor * ctx.lane.ttlMs, {
    detail: (victim) => `SIGSTOP ${victim.id} (pid ${victim.pid}) for ${factor}×TTL`,
    make: (victim) => victim.pause(),
    undo: (victim) => victim.resume(),
  });
}

function cutLeader(kind: LaneFaultKind, direction: Direction | 'both', ctx: LaneContext, p: FaultParams): Fault {
  const { lane, rng } = ctx;
  return onLeader(kind, ctx, p.holdMs ?? rng.between(0.3, 2.5) * lane.ttlMs, {
    detail: (victim) => `${victim.id} cut from every member (${direction})`,
    make: (victim) => lane.proxies(victim).forEach((proxy) => proxy.cut(direction)),
    undo: (victim) => lane.proxies(victim).forEach((proxy) => proxy.uncut(direction)),
  });
}

function latencyLeader(ctx: LaneContext, p: FaultParams): Fault {
  const { lane, rng } = ctx;
  const latencyMs = p.latencyMs ?? rng.between(0.3, 0.6) * lane.ttlMs;
  return onLeader('latency-leader', ctx, p.holdMs ?? 2 * lane.ttlMs, {
    detail: (victim) =>
      `${victim.id}: +${Math.round(latencyMs)} ms each way (round trip ${((2 * latencyMs) / lane.ttlMs).toFixed(2)}×TTL)`,
    make: (victim) => lane.proxies(victim).forEach((proxy) => proxy.setLatency(latencyMs)),
    undo: (victim) => lane.proxies(victim).forEach((proxy) => proxy.setLatency(0)),
  });
}

function resetLeader(ctx: LaneContext, p: FaultParams): Fault {
  const { lane, rng } = ctx;
  return onLeader('reset-leader', ctx, p.holdMs ?? rng.between(0.5, 2) * lane.ttlMs, {
    detail: (victim) => `${victim.id}: connections reset and refused`,
    make: (victim) => lane.proxies(victim).forEach((proxy) => proxy.refuse()),
    undo: (victim) => lane.proxies(victim).forEach((proxy) => proxy.accept()),
  });
}

/** Waits until a new candidate reports (so its start-up is not counted as recovery). */
async function addReady(lane: Lane, dead: DeadEndpoints): Promise<CandidateProcess> {
  const c = await lane.addCandidate(dead);
  const started = performance.now();
  while (!c.isResponsive(lane.staleMs) && !c.exited && performance.now() - started < 30_000) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return c;
}

/** A replacement's endpoint list includes a dead member: the lane's kind, or one that refuses. */
function withDeadMember(lane: Lane): DeadEndpoints {
  const dead = lane.options.deadEndpoints ?? 'none';
  return dead === 'none' ? 'refusing' : dead;
}

function replaceLeader(kind: 'kill-leader' | 'stop-leader', ctx: LaneContext, p: FaultParams): Fault {
  const { lane } = ctx;
  const how = kind === 'kill-leader' ? 'kill' : 'stop';
  return {
    kind,
    detail: '',
    holdMs: p.holdMs ?? 0,
    async inject() {
      const { victim, record } = await target(ctx);
      this.victim = record;
      this.injectedAt = sharedNow();
      this.detail = `${how} ${victim.id}, then a new candidate`;
      await lane.removeCandidate(victim, how);
    },
    async heal() {
      await addReady(lane, withDeadMember(lane));
    },
  };
}

/**
 * The revision a watch needs is compacted away: one follower's requests are
 * delayed (so its re-read and its watch creation reach etcd late), its
 * connections are reset (so its watches must be made again), the leader
 * resigns, and etcd's history is compacted to the head every few ms while the
 * follower catches up.
 */
function compactWatch(ctx: LaneContext, p: FaultParams): Fault {
  const { world, lane, rng } = ctx;
  let follower: CandidateProcess | null = null;
  let storm: Promise<void> | null = null;
  let stopStorm = false;
  let compactions = 0;
  const delayMs = 0.25 * lane.ttlMs;
  return {
    kind: 'compact-watch',
    detail: '',
    holdMs: p.holdMs ?? rng.between(1, 2) * lane.ttlMs,
    async inject() {
      const { victim: leader, record } = await target(ctx);
      this.victim = record;
      this.injectedAt = sharedNow();
      const followers = lane.candidates().filter((c) => c !== leader);
      follower = followers.length > 0 ? rng.pick(followers) : leader;
      const compactedBefore = follower.errors.get('COMPACTED') ?? 0;
      const proxies = lane.proxies(follower);
      for (const proxy of proxies) proxy.setLatency(delayMs);
      for (const proxy of proxies) proxy.refuse();
      for (const proxy of proxies) proxy.accept();
      stopStorm = false;
      storm = (async () => {
        while (!stopStorm) {
          await world.noise(`${lane.options.path}-noise`, 3).catch(() => undefined);
          await world.compact().then(
            () => compactions++,
            () => undefined,
          );
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      if (leader !== follower) {
        await lane.removeCandidate(leader, 'stop');
        await addReady(lane, lane.options.deadEndpoints ?? 'none');
      }
      this.detail = `${follower.id}: requests +${delayMs} ms, connections reset, leader ${leader.id} resigned, compaction storm (COMPACTED errors before: ${compactedBefore})`;
    },
    async heal() {
      stopStorm = true;
      await storm;
      if (follower) for (const proxy of lane.proxies(follower)) proxy.setLatency(0);
      this.detail += `; ${compactions} compactions; COMPACTED errors seen by ${follower?.id}: ${follower?.errors.get('COMPACTED') ?? 0}`;
    },
  };
}

/** Candidates leave (resign or crash) and join while the leader is paused for a TTL. */
function churn(ctx: LaneContext, p: FaultParams): Fault {
  const { lane, rng } = ctx;
  const pause = pauseLeader('churn', 1, ctx, p);
  let leaving: { c: CandidateProcess; how: 'stop' | 'kill' }[] = [];
  return {
    kind: 'churn',
    detail: '',
    holdMs: pause.holdMs,
    async inject() {
      await pause.inject();
      if (pause.victim) this.victim = pause.victim;
      if (pause.injectedAt !== undefined) this.injectedAt = pause.injectedAt;
      const others = lane.candidates().filter((c) => !c.paused);
      const n = Math.min(others.length - 1, 1 + rng.int(Math.max(1, Math.ceil(others.length / 10))));
      leaving = [];
      for (let i = 0; i < n; i++) {
        const c = others.splice(rng.int(others.length), 1)[0]!;
        leaving.push({ c, how: rng.next() < 0.7 ? 'stop' : 'kill' });
      }
      this.detail = `${pause.detail}; ${leaving.map((l) => `${l.how} ${l.c.id}`).join(', ')}; as many join`;
      await Promise.all(leaving.map((l) => lane.removeCandidate(l.c, l.how)));
      // Joiners are waited for while the leader is still paused, so their start-up is not counted as recovery.
      await Promise.all(leaving.map(() => addReady(lane, rng.next() < 0.5 ? 'refusing' : 'none')));
    },
    async heal() {
      await pause.heal();
    },
  };
}

/**
 * A candidate of higher priority than any before it joins (preemptAfterMs drawn from 100 to 500 ms):
 * the leader hands over to it by the graceful path. At the heal, the candidate that led (if it still
 * runs) leaves gracefully, so the lane keeps its size. In lanes of npm etcd3 candidates, which have no
 * priority, the joiner is an ordinary candidate.
 */
function preempt(ctx: LaneContext, p: FaultParams): Fault {
  const { lane, rng } = ctx;
  let previous: CandidateProcess | null = null;
  const preemptAfterMs = Math.round(rng.between(100, 500));
  return {
    kind: 'preempt',
    detail: '',
    holdMs: p.holdMs ?? preemptAfterMs + lane.ttlMs,
    async inject() {
      const { victim, record } = await target(ctx);
      previous = victim;
      this.victim = record;
      this.injectedAt = sharedNow();
      const priority = lane.nextPriority();
      const joiner = await lane.addCandidate(undefined, { priority, preemptAfterMs });
      this.detail = `${joiner.id} joins with priority ${priority} (preempt after ${preemptAfterMs} ms) over ${victim.id}`;
    },
    async heal() {
      if (previous && !previous.exited && lane.candidates().includes(previous))
        await lane.removeCandidate(previous, 'stop');
    },
  };
}

export function laneFault(kind: LaneFaultKind, ctx: LaneContext, params: FaultParams = {}): Fault {
  switch (kind) {
    case 'pause-leader-0.5ttl':
      return pauseLeader(kind, 0.5, ctx, params);
    case 'pause-leader-1ttl':
      return pauseLeader(kind, 1, ctx, params);
    case 'pause-leader-3ttl':
      return pauseLeader(kind, 3, ctx, params);
    case 'cut-leader-both':
      return cutLeader(kind, 'both', ctx, params);
    case 'cut-leader-up':
      return cutLeader(kind, 'up', ctx, params);
    case 'cut-leader-down':
      return cutLeader(kind, 'down', ctx, params);
    case 'latency-leader':
      return latencyLeader(ctx, params);
    case 'reset-leader':
      return resetLeader(ctx, params);
    case 'kill-leader':
    case 'stop-leader':
      return replaceLeader(kind, ctx, params);
    case 'compact-watch':
      return compactWatch(ctx, params);
    case 'churn':
      return churn(ctx, params);
    case 'preempt':
      return preempt(ctx, params);
  }
}
