import {
  LeadershipRecorder,
  checkAgainstDeletions,
  checkHistory,
  sharedNow,
  type HistoryVerdict,
  type LateLeadership,
} from '../../src/testing/history.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { CandidateProcess } from './candidate-process.js';
import { checkFence, readFenceSnapshot, type FenceReport, type FenceVerdict } from './fence.js';
import { KeyObserver } from './key-observer.js';
import type { CandidateConfig, CandidateMode } from './protocol.js';
import type { TcpProxy } from '../../src/testing/tcp-proxy.js';
import type { ChaosWorld } from './world.js';

/**
 * One election and its candidates: every candidate a process with its own
 * proxy to each member, every sample in the lane's recorder. Several lanes run
 * side by side on one cluster, each judged on its own history.
 *
 * Stable = every live candidate is responsive (heard from within `staleMs`,
 * not paused), exactly one of them reports leadership, and every one of them
 * names that one as the leader. After a heal, a lane must become stable again
 * by itself: that is the recovery the runner times.
 */
const START_BATCH = 5;

export type DeadEndpoints = 'none' | 'refusing' | 'hanging' | 'both';

export interface LaneOptions {
  readonly name: string;
  readonly path: string;
  readonly mode: CandidateMode;
  readonly ttlSec: number;
  readonly candidates: number;
  /** Dead members put in every candidate's endpoint list. */
  readonly deadEndpoints?: DeadEndpoints;
  readonly sampleMs?: number;
  readonly staleMs?: number;
  /** A workaround applied by the candidates (see CandidateConfig.experiment). */
  readonly experiment?: CandidateConfig['experiment'];
  /** Candidates report views that stay stale (see CandidateConfig.diagnose). */
  readonly diagnose?: boolean;
  /** Leaders increment a fenced counter (CandidateConfig.fence), judged by `checkFence()`. */
  readonly fence?: boolean;
}

export interface Stability {
  readonly stable: boolean;
  readonly leader: CandidateProcess | null;
  readonly reason: string;
}

interface Member {
  readonly process: CandidateProcess;
  readonly proxies: TcpProxy[];
}

export class Lane {
  readonly name: string;
  readonly options: LaneOptions;
  readonly recorder = new LeadershipRecorder();
  readonly #world: ChaosWorld;
  readonly #members = new Map<string, Member>();
  readonly #gone: CandidateProcess[] = [];
  #observer: KeyObserver | null = null;
  #next = 0;
  readonly #fenceReports: FenceReport[] = [];

  constructor(world: ChaosWorld, options: LaneOptions) {
    this.#world = world;
    this.options = options;
    this.name = options.name;
  }

  static async start(world: ChaosWorld, options: LaneOptions): Promise<Lane> {
    const lane = new Lane(world, options);
    // etcd3's Election keeps its keys under `election/<name>/`; ours (and Go's) under `<name>/`.
    const prefix = options.mode === 'etcd3' ? `election/${options.path}/` : `${options.path}/`;
    lane.#observer = await KeyObserver.start(world.admin, prefix);
    // In batches, each waited for: 50 Node processes starting at once starve a 2-core machine for seconds.
    for (let started = 0; started < options.candidates; started += START_BATCH) {
      const batch = await Promise.all(
        Array.from({ length: Math.min(START_BATCH, options.candidates - started) }, () => lane.addCandidate()),
      );
      await waitFor('a batch of candidates to report', () => batch.every((c) => c.ready || c.exited), {
        timeoutMs: 60_000,
      });
    }
    return lane;
  }

  get ttlMs(): number {
    // etcd raises TTLs below its minimum (2 s with the cluster's election timeout of 1 s).
    return Math.max(2, Math.ceil(this.options.ttlSec)) * 1000;
  }

  get staleMs(): number {
    return this.options.staleMs ?? 1000;
  }

  /** Where the lane's fenced counter and its log live (outside the election's prefix). */
  get fencePrefix(): string {
    return `/fence${this.options.path}/`;
  }

  /** Starts a candidate with fresh proxies; its endpoint list has the lane's dead members mixed in. */
  async addCandidate(
    deadEndpoints: DeadEndpoints = this.options.deadEndpoints ?? 'none',
    rank?: CandidateConfig['rank'],
  ): Promise<CandidateProcess> {
    const proxies = await this.#world.proxiesForCandidate();
    const endpoints = proxies.map((p) => p.endpoint);
    if (deadEndpoints === 'refusing' || deadEndpoints === 'both') endpoints.unshift(this.#world.deadRefusing.endpoint);
    if (deadEndpoints === 'hanging' || deadEndpoints === 'both') endpoints.push(this.#world.deadHanging.endpoint);
    const id = `${this.name}-c${this.#next++}`;
    const process = CandidateProcess.spawn(
      this.#world.build,
      {
        id,
        mode: this.options.mode,
        endpoints,
        path: this.options.path,
        ttlSec: this.options.ttlSec,
        ...(this.options.sampleMs === undefined ? {} : { sampleMs: this.options.sampleMs }),
        ...(this.options.experiment ? { experiment: this.options.experiment } : {}),
        ...(this.options.diagnose ? { diagnose: true } : {}),
        ...(rank && this.options.mode !== 'etcd3' ? { rank } : {}),
        ...(this.options.fence
          ? {
              fence: { prefix: this.fencePrefix },
              onFence: (candidate, message) => this.#fenceReports.push({ ...message, candidate }),
            }
          : {}),
      },
      this.recorder,
    );
    this.#members.set(id, { process, proxies });
    return process;
  }

  /** Removes a candidate: gracefully (`stop`: it resigns) or as a crash (`kill`). */
  /** A priority above every one this lane gave so far (the preempt fault's joiners). */
  nextPriority(): number {
    return ++this.#topPriority;
  }

  #topPriority = 0;

  async removeCandidate(candidate: CandidateProcess, how: 'stop' | 'kill'): Promise<void> {
    const member = this.#members.get(candidate.id);
    if (!member) return;
    if (how === 'stop') await candidate.stop();
    else await candidate.kill();
    this.#members.delete(candidate.id);
    this.#gone.push(candidate);
    await this.#world.releaseProxies(member.proxies);
  }

  /** Live candidates (spawned and not exited). */
  candidates(): CandidateProcess[] {
    return [...this.#members.values()].map((m) => m.process).filter((p) => !p.exited);
  }

  proxies(candidate: CandidateProcess): TcpProxy[] {
    return this.#members.get(candidate.id)?.proxies ?? [];
  }

  stability(nowMs = sharedNow()): Stability {
    const live = this.candidates();
    if (live.length === 0) return { stable: false, leader: null, reason: 'no live candidate' };
    const quiet = live.filter((c) => !c.isResponsive(this.staleMs, nowMs));
    if (quiet.length > 0) return { stable: false, leader: null, reason: `not responsive: ${ids(quiet)}` };
    const leaders = live.filter((c) => c.selected);
    if (leaders.length !== 1) return { stable: false, leader: null, reason: `${leaders.length} leaders` };
    const leader = leaders[0]!;
    const disagree = live.filter((c) => c.view !== leader.id);
    if (disagree.length > 0) {
      return {
        stable: false,
        leader,
        reason: `views not on ${leader.id}: ${disagree.map((c) => `${c.id}→${c.view}`).join(', ')}`,
      };
    }
    return { stable: true, leader, reason: 'stable' };
  }

  /** The leader when the lane is stable, else null. */
  leader(): CandidateProcess | null {
    const s = this.stability();
    return s.stable ? s.leader : null;
  }

  /**
   * Polls until the lane is stable; resolves with the ms it took from `sinceMs`
   * (or null after `timeoutMs`), the last reason it was not, and its leader then.
   */
  async waitStable(
    timeoutMs: number,
    sinceMs = sharedNow(),
  ): Promise<{ ms: number | null; reason: string; leader: CandidateProcess | null }> {
    const deadline = sinceMs + timeoutMs;
    let last: Stability = { stable: false, leader: null, reason: 'not checked yet' };
    for (;;) {
      const now = sharedNow();
      if (now > deadline) return { ms: null, reason: last.reason, leader: null };
      last = this.stability(now);
      if (last.stable) return { ms: Math.max(0, now - sinceMs), reason: last.reason, leader: last.leader };
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** One line per candidate: leadership, view, freshness, last error (for logs of slow recoveries). */
  describe(nowMs = sharedNow()): string {
    return this.candidates()
      .map((c) => {
        const age = Math.round(nowMs - c.lastReportAt);
        const state = `${c.selected ? `LEADER(${c.token})` : 'follower'} view=${c.view} heard ${age} ms ago${c.paused ? ' PAUSED' : ''}`;
        return `${c.id}: ${state}; last error: ${c.lastErrors[c.lastErrors.length - 1] ?? '-'}`;
      })
      .join(' | ');
  }

  verdict(): HistoryVerdict {
    return checkHistory(this.recorder.intervals());
  }

  /** Terms still reported after etcd deleted their key (the lease expired or was revoked under them). */
  lateLeaders(): LateLeadership[] {
    return checkAgainstDeletions(this.recorder.intervals(), this.#observer?.deletedAt ?? new Map<string, number>());
  }

  /** STALE_VIEW reports of every candidate the lane ever had (diagnose mode), oldest first. */
  staleViews(): { candidate: string; atMs: number; message: string }[] {
    const all = [...this.#members.values()].map((m) => m.process).concat(this.#gone);
    return all.flatMap((c) => c.staleViews.map((s) => ({ candidate: c.id, ...s }))).sort((a, b) => a.atMs - b.atMs);
  }

  /**
   * Judges the fenced counter (lanes with `fence`): every candidate's reports
   * against the counter and log read straight from etcd. Call after `close()`,
   * so that no leader writes any more and every report is in.
   */
  async checkFence(): Promise<FenceVerdict | undefined> {
    if (!this.options.fence) return undefined;
    let error = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        return checkFence(this.#fenceReports, await readFenceSnapshot(this.#world.admin, this.fencePrefix));
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        await this.#world.waitHealthy().catch(() => undefined);
      }
    }
    return checkFence(this.#fenceReports, { error });
  }

  /** Error counts of every candidate the lane ever had, by code. */
  errorCounts(): Record<string, number> {
    const counts: Record<string, number> = {};
    const all = [...this.#members.values()].map((m) => m.process).concat(this.#gone);
    for (const c of all) for (const [code, n] of c.errors) counts[code] = (counts[code] ?? 0) + n;
    return counts;
  }

  async close(): Promise<void> {
    await this.#observer?.close();
    const members = [...this.#members.values()];
    this.#members.clear();
    this.#gone.push(...members.map((m) => m.process)); // their errors and diagnoses stay in the report
    await Promise.all(members.map((m) => m.process.kill()));
    await Promise.all(members.map((m) => this.#world.releaseProxies(m.proxies)));
  }
}

function ids(list: CandidateProcess[]): string {
  return list.map((c) => c.id).join(', ');
}
