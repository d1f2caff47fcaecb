import type { DemoCandidate } from './candidate-process.js';

/**
 * The demo's faults, each a named object with an inverse (inject, then heal
 * after `holdMs`), injected on the leader of the moment.
 */
export type FaultKind = 'stop' | 'crash' | 'pause' | 'cut';

export const FAULT_CYCLE: readonly FaultKind[] = ['stop', 'crash', 'pause', 'cut'];

export const FAULT_LABEL: Record<FaultKind, string> = {
  stop: 'graceful stop',
  crash: 'crash (SIGKILL)',
  pause: 'pause (SIGSTOP)',
  cut: 'network cut',
};

/** What the victim is while the fault lasts, for the live view. */
export const FAULT_STATE: Record<FaultKind, string> = {
  stop: 'stopped, restarts',
  crash: 'crashed, restarts',
  pause: 'paused (SIGSTOP), resumes',
  cut: 'cut off from etcd, heals',
};

export interface Fault {
  readonly kind: FaultKind;
  readonly victim: DemoCandidate;
  /** How long the fault lasts before `heal()`. */
  readonly holdMs: number;
  inject(): Promise<void>;
  heal(): Promise<void>;
}

/** Hold times: a stopped node comes back soon; the others outlast the TTL so the lease really expires. */
export function holdMsOf(kind: FaultKind, ttlSec: number): number {
  return kind === 'stop' ? 1000 : ttlSec * 1000 + 1500;
}

export function makeFault(kind: FaultKind, victim: DemoCandidate, ttlSec: number): Fault {
  const holdMs = holdMsOf(kind, ttlSec);
  switch (kind) {
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
