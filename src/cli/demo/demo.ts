import { EtcdCluster } from '../../testing/etcd-cluster.js';
import {
  LeadershipRecorder,
  checkHistory,
  sharedNow,
  type HistoryVerdict,
  type LeadershipInterval,
} from '../../testing/history.js';
import { DemoCandidate } from './candidate-process.js';
import { FaultInjector } from './fault-injector.js';
import { FAULT_CYCLE, FAULT_LABEL, FAULT_STATE, holdMsOf, makeFault, type FaultRecord } from './faults.js';
import { Link } from './link.js';
import type { CandidateMessage } from './protocol.js';
import type { DemoPhase, LiveView, ViewSnapshot } from './view.js';

export interface DemoConfig {
  readonly durationMs: number;
  readonly candidates: number;
  readonly ttlSec: number;
  readonly path: string;
  readonly faultEveryMs: number;
  readonly firstFaultAfterMs: number;
}

export interface DemoReport {
  /** Shared-clock ms: candidates started, run ended. */
  readonly startMs: number;
  readonly endMs: number;
  readonly candidates: string[];
  readonly intervals: LeadershipInterval[];
  readonly verdict: HistoryVerdict;
  readonly faults: FaultRecord[];
  readonly samples: number;
  /** Samples the recorder refused (out of order): a harness problem, reported, never hidden. */
  readonly rejectedSamples: number;
  readonly interrupted: boolean;
}

/**
 * `locked demo`'s run: a throwaway 3-member etcd, N candidate processes behind
 * cuttable proxies, a fault on the leader every few seconds, every sample of
 * every candidate recorded, and the history judged by checkHistory at the end.
 */
export class Demo {
  readonly recorder = new LeadershipRecorder();
  readonly #config: DemoConfig;
  readonly #view: LiveView;
  readonly #interrupt = new AbortController();
  readonly #candidates: DemoCandidate[] = [];
  readonly #links: Link[] = [];
  readonly #faults: FaultInjector;
  #etcd: EtcdCluster | null = null;
  #startMs = sharedNow();
  #endAt = Infinity;
  #nextFault: { label: string; at: number } | null = null;
  #rejected = 0;
  #phase: DemoPhase = 'starting';
  #torn: Promise<void> | null = null;

  constructor(config: DemoConfig, view: LiveView) {
    this.#config = config;
    this.#view = view;
    this.#faults = new FaultInjector(view, () => this.#startMs);
  }

  /** Ctrl-C: stop injecting, restore, judge what was recorded. */
  interrupt(): void {
    this.#interrupt.abort();
  }

  get interrupted(): boolean {
    return this.#interrupt.signal.aborted;
  }

  async run(): Promise<DemoReport> {
    const { candidates, ttlSec, path } = this.#config;
    this.#view.note('starting a throwaway 3-member etcd on loopback ports…');
    this.#etcd = await EtcdCluster.start({ size: 3 });
    const etcd = this.#etcd;
    this.#view.note(`etcd ${etcd.version} (build ${etcd.build}) up: ${etcd.endpoints}`);
    const members = etcd.members.map((_, i) => etcd.endpoint(i));
    for (let i = 1; i <= candidates; i++) {
      const link = await Link.open(members);
      this.#links.push(link);
      const candidate = new DemoCandidate(`c${i}`, link, { path, ttlSec, sampleMs: 20, heartbeatMs: 500 }, (c, m) =>
        this.#onMessage(c, m),
      );
      this.#candidates.push(candidate);
    }
    this.#startMs = sharedNow();
    for (const c of this.#candidates) c.start();
    this.#view.note(
      `${candidates} candidates started in election ${path} (ttl ${ttlSec} s), each through its own proxies`,
    );
    const renderer = setInterval(() => this.#view.render(this.snapshot()), 100);
    try {
      const firstLeader = await this.#until(() => this.#leader() !== null, 30_000);
      if (firstLeader) {
        this.#endAt = sharedNow() + this.#config.durationMs;
        this.#phase = 'faults';
        await this.#faultLoop();
      }
      this.#phase = 'restoring';
      await this.#faults.healAll();
      if (!this.interrupted) {
        this.#view.note('faults over: every candidate restored; waiting for a leader, then stopping all');
        await this.#until(() => this.#leader() !== null, 10_000);
      }
      this.#phase = 'stopping';
      await this.#stopCandidates();
      this.#phase = 'done';
    } finally {
      clearInterval(renderer);
      this.#view.render(this.snapshot());
    }
    const endMs = sharedNow();
    const intervals = this.recorder.intervals();
    return {
      startMs: this.#startMs,
      endMs,
      candidates: this.#candidates.map((c) => c.id),
      intervals,
      verdict: checkHistory(intervals),
      faults: this.#faults.records,
      samples: this.recorder.samples,
      rejectedSamples: this.#rejected,
      interrupted: this.interrupted,
    };
  }

  /** The demo's preemptions raise it: each joiner ranks above every one before. */
  #topPriority = 0;

  async #faultLoop(): Promise<void> {
    const { ttlSec, faultEveryMs } = this.#config;
    let at = sharedNow() + this.#config.firstFaultAfterMs;
    for (let n = 0; !this.interrupted; n++) {
      const kind = FAULT_CYCLE[n % FAULT_CYCLE.length] ?? 'stop';
      if (at + holdMsOf(kind, ttlSec) + 500 > this.#endAt) break;
      this.#nextFault = { label: FAULT_LABEL[kind], at };
      if (!(await this.#until(() => sharedNow() >= at, at - sharedNow() + 1000))) break;
      const victim = await this.#until(() => this.#leader(), 3000);
      this.#nextFault = null;
      at += faultEveryMs;
      if (!victim) {
        this.#view.note(`no leader to hit with a ${FAULT_LABEL[kind]}; skipped`);
        continue;
      }
      const others = this.#candidates.filter((c) => c !== victim && c.presence === 'running');
      const joiner = others[n % Math.max(1, others.length)];
      const priority = (this.#topPriority += 1);
      await this.#faults.inject(makeFault(kind, victim, ttlSec, joiner ? { candidate: joiner, priority } : undefined));
    }
    this.#nextFault = null;
    // Every fault heals before the end by construction; the run lasts its whole duration.
    await this.#until(() => sharedNow() >= this.#endAt, this.#endAt - sharedNow() + 1000);
  }

  async #stopCandidates(): Promise<void> {
    if (this.interrupted) {
      for (const c of this.#candidates) c.killNow();
      await Promise.all(this.#candidates.map((c) => c.crash()));
    } else {
      await Promise.all(this.#candidates.map((c) => c.stop()));
    }
  }

  /** Restores and stops everything this demo started (idempotent): candidates, proxies, etcd. */
  teardown(): Promise<void> {
    this.#torn ??= (async () => {
      this.#faults.dispose();
      for (const c of this.#candidates) c.resume();
      for (const link of this.#links) link.heal();
      await Promise.all(this.#candidates.map((c) => c.stop(2000)));
      await Promise.all(this.#links.map((l) => l.close()));
      await this.#etcd?.stop();
    })();
    return this.#torn;
  }

  /** Synchronous last resort (a second Ctrl-C, process exit): SIGKILL every candidate by PID. */
  killNow(): void {
    for (const c of this.#candidates) c.killNow();
  }

  #onMessage(candidate: DemoCandidate, message: CandidateMessage): void {
    if (message.t !== 'sample') return;
    const wasLeading = this.recorder.isOpen(candidate.id);
    const sameProcess = this.#generation.get(candidate.id) === candidate.generation;
    this.#generation.set(candidate.id, candidate.generation);
    try {
      this.recorder.sample(candidate.id, message.selected, message.token, message.at);
    } catch {
      this.#rejected++;
      return;
    }
    const t = message.at - this.#startMs;
    if (
      message.selected &&
      message.token !== null &&
      (!wasLeading || this.#lastToken.get(candidate.id) !== message.token)
    ) {
      this.#lastToken.set(candidate.id, message.token);
      this.#view.event(t, `${candidate.id} leads, token ${message.token}`, 'lead');
      for (const record of this.#faults.records) {
        if (record.failover || record.victimToken === null || record.victim === candidate.id) continue;
        const afterMs = message.at - record.atMs;
        record.failover = { by: candidate.id, token: message.token, afterMs };
        this.#view.event(
          t,
          `failover: ${candidate.id} leads ${fmtMs(afterMs)} after the ${FAULT_LABEL[record.kind]} of ${record.victim}`,
          'failover',
        );
      }
    } else if (!message.selected && wasLeading && sameProcess) {
      this.#view.event(t, `${candidate.id} steps down`, 'step-down');
    }
  }

  readonly #lastToken = new Map<string, string>();
  readonly #generation = new Map<string, number>();

  /** The candidate that leads now as far as the view can tell: reported leading, running, not under a fault. */
  #leader(): DemoCandidate | null {
    let best: DemoCandidate | null = null;
    for (const c of this.#candidates) {
      if (!c.selected || c.presence !== 'running' || c.link.isCut || c.token === null) continue;
      if (!best || BigInt(c.token) > BigInt(best.token ?? '0')) best = c;
    }
    return best;
  }

  /** Polls `check` every 50 ms until truthy, `timeoutMs` passes or the demo is interrupted; null when not met. */
  async #until<T>(check: () => T, timeoutMs: number): Promise<NonNullable<T> | null> {
    const deadline = sharedNow() + Math.max(0, timeoutMs);
    for (;;) {
      const value = check();
      if (value) return value;
      if (this.interrupted || sharedNow() >= deadline) return null;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  snapshot(): ViewSnapshot {
    const now = sharedNow();
    const leader = this.#leader();
    const lastFailover = [...this.#faults.records].reverse().find((f) => f.failover !== null) ?? null;
    return {
      phase: this.#phase,
      elapsedMs: now - this.#startMs,
      remainingMs: Number.isFinite(this.#endAt) ? Math.max(0, this.#endAt - now) : null,
      path: this.#config.path,
      ttlSec: this.#config.ttlSec,
      leader: leader ? { id: leader.id, token: leader.token ?? '' } : null,
      lastFailover: lastFailover?.failover
        ? {
            afterMs: lastFailover.failover.afterMs,
            label: `${FAULT_LABEL[lastFailover.kind]} of ${lastFailover.victim}`,
            atMs: lastFailover.atMs + lastFailover.failover.afterMs - this.#startMs,
          }
        : null,
      candidates: this.#candidates.map((c) => {
        const fault = this.#faults.underFault(c.id);
        const state = fault
          ? `${FAULT_STATE[fault.kind]} in ${fmtMs(Math.max(0, fault.healAt - now))}${c.selected ? ' (last seen leading)' : ''}`
          : c.presence === 'running'
            ? c.selected
              ? 'leader'
              : 'follower'
            : c.presence;
        return {
          id: c.id,
          pid: c.pid,
          state,
          leading: c.selected && !fault && c.presence === 'running',
          token: c.selected ? c.token : null,
        };
      }),
      nextFault: this.#nextFault ? { label: this.#nextFault.label, inMs: Math.max(0, this.#nextFault.at - now) } : null,
      faults: this.#faults.records.length,
    };
  }
}

export function fmtMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}
