import type { DemoCandidate } from './candidate-process.js';

/**
 * The demo's faults, each a named object with an inverse (inject, then heal
 * after `holdMs`), injected on the leader of the moment.
 */
export type FaultKind = 'stop' | 'crash' | 'pause' | 'cut' | 'preempt';

export const FAULT_CYCLE: readonly FaultKind[] = ['stop', 'crash', 'pause', 'cut', 'preempt'];

export const FAULT_LABEL: Record<FaultKind, string> = {
  stop: 'graceful stop',
  crash: 'crash (SIGKILL)',
  pause: 'pause (SIGSTOP)',
  cut: 'network cut',
  preempt: 'higher priority joins',
};

/** What the victim is while the fault lasts, for the live view. */
export const FAULT_STATE: Record<FaultKind, string> = {
  stop: 'stopped, restarts',
  crash: 'crashed, restarts',
  pause: 'paused (SIGSTOP), resumes',
  cut: 'cut off from etcd, heals',
  preempt: 'preempted: hands over, waits',
};

export interface Fault {
  readonly kind: FaultKind;
  readonly victim: DemoCandidate;
  /** How long the fault lasts before `heal()`. */
  readonly holdMs: number;
  inject(): Promise<void>;
  heal(): Promise<void>;
}

/**
 * Hold times: a stopped node comes back soon; a preemption takes the joiner's preemptAfterMs (1 s)
 * and a handover; the others outlast the TTL so the lease really expires.
 */
export function holdMsOf(kind: FaultKind, ttlSec: number): number {
  return kind === 'stop' ? 1000 : kind === 'preempt' ? 2000 : ttlSec * 1000 + 1500;
}

/**
 * The fault `kind` on `victim`, the leader. A preemption restarts `joiner` (another candidate) with
 * priority `priority`, above every one before: it joins, waits 1 s, and the leader hands over to it.
 */
export function makeFault(
  kind: FaultKind,
  victim: DemoCandidate,
  ttlSec: number,
  joiner?: { readonly candidate: DemoCandidate; readonly priority: number },
): Fault {
  const holdMs = holdMsOf(kind, ttlSec);
  switch (kind) {
    case 'preempt':
      return {
        kind,
        victim,
        holdMs,
        inject: async () => {
          if (!joiner) return;
          await joiner.candidate.stop();
          joiner.candidate.priority = joiner.priority;
          joiner.candidate.start();
        },
        heal: async () => undefined,
      };
    case 'stop':
      return { kind, victim, holdMs, inject: () => victim.stop(), heal: async () => victim.start() };
    case 'crash':
      return { kind, victim, holdMs, inject: () => victim.crash(), heal: async () => victim.start() };
    case 'pause':
      return {
        kind,
        victim,
        holdMs,
        inject: async () => victim.pause(),
        heal: async () => victim.resume(),
      };
    case 'cut':
      return {
        kind,
        victim,
        holdMs,
        inject: async () => victim.link.cut(),
        heal: async () => victim.link.heal(),
      };
  }
}

/** One injected fault as the summary and the timeline show it (times on the shared clock, ms). */
export interface FaultRecord {
  readonly kind: FaultKind;
  readonly victim: string;
  /** The victim's token when hit (it was leading), or null. */
  readonly victimToken: string | null;
  readonly atMs: number;
  healedAtMs: number | null;
  /** The first other candidate seen leading after the fault. */
  failover: { readonly by: string; readonly token: string; readonly afterMs: number } | null;
}
