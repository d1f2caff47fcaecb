import type { Clock } from '../core/clock.js';
import type { LockedError } from '../errors.js';
import type { Deadline, Lease } from '../session/lease.js';
import type { Transport } from '../transport/transport.js';
import type { WatchHub } from '../transport/watch-hub.js';
import type { Candidate, CandidateReads } from './candidates.js';
import type { TermConfirmations } from './term-confirmations.js';
import type { LeaderTracker } from './tracker-registry.js';

/** What a term needs from its election. */
export interface TermDeps {
  readonly transport: Transport;
  readonly hub: WatchHub;
  readonly reads: CandidateReads;
  readonly clock: Clock;
  readonly confirmations: TermConfirmations;
  /** The caller's view of the election (its campaign's tracker): at resignation, who is next, with no read. */
  readonly view?: Pick<LeaderTracker, 'after'>;
}

/** The candidate that leads: its key, token, value and lease, and its priority with its rank key (if it wrote one). */
export interface TermCandidate {
  readonly key: string;
  readonly token: bigint;
  readonly value: string;
  readonly lease: Lease;
  readonly rank: { readonly priority: number; readonly key: string | null; readonly preemptAfterMs: number };
}

/**
 * What a term is at any moment (term.ts); each change replaces it whole.
 * - `leading`: proven until `until` (on both clocks; never later than the lease's deadline), with `heir`
 *   the candidate next in line at the last confirmation (whom a resignation names; a hint its txn checks).
 * - `ended`: for good, with `reason` (the signal's); `until` and `heir` as they last were; `resigning`,
 *   the one resignation, once sent.
 */
export type TermState =
  | { readonly kind: 'leading'; readonly until: Deadline; readonly heir: Candidate | null }
  | {
      readonly kind: 'ended';
      readonly until: Deadline;
      readonly heir: Candidate | null;
      readonly reason: LockedError;
      readonly resigning: Promise<void> | null;
    };
