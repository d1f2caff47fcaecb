import type { LockedError } from '../errors.js';
import type { Deadline } from '../session/lease.js';
import type { Candidate } from './candidates.js';

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
