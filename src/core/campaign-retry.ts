import type { LockedError } from '../errors.js';
import { Backoff } from './backoff.js';

/** How one round of a campaign that goes on until stopped ended. */
export type Round =
  | { readonly kind: 'failed'; readonly error: LockedError } // the campaign rejected
  | { readonly kind: 'ended'; readonly heldMs: number }; // a term ended after `heldMs` of leadership

/** What to do next: campaign again after `afterMs`, or stop with `error`. */
export type Next =
  { readonly kind: 'again'; readonly afterMs: number } | { readonly kind: 'stop'; readonly error: LockedError };

/** The cap of the backoff between rounds (and of the gap between a node's error reports): min(5 s, TTL). */
export function campaignBackoffCapMs(ttlSec: number): number {
  return Math.min(5000, ttlSec * 1000);
}

/**
 * The one retry policy of campaigns that go on until stopped — the seed
 * node's and `locked run`'s (a single `campaign()` or `withLeadership` makes
 * its own three attempts, Election's contract, and leaves the rest to its caller):
 *
 * - a failure retrying can fix (etcd unreachable, a request deadline, a lost
 *   lease or key: `transient`): campaign again after a jittered backoff, from
 *   100 ms doubling to min(5 s, TTL), so a fleet that failed together does not
 *   come back together;
 * - a term that ended: the same backoff when it ended within a TTL (a fault
 *   repeating itself must not become a tight loop); after a longer term the
 *   backoff starts over, and its first step (50–100 ms) is still waited: a
 *   term lost to an outage is lost by the whole fleet at once, and a client
 *   whose connection was just cut rejoins better a moment later than at once
 *   (measured: `locked run` campaigning at once after a cut lost its next term
 *   under load, its gRPC channel still re-resolving);
 * - a failure retrying cannot fix (PERMISSION, INVALID_ARGUMENT, CLOSED): stop.
 */
export class CampaignRetry {
  readonly #ttlMs: number;
  readonly #backoff: Backoff;

  constructor(ttlSec: number, random: () => number) {
    this.#ttlMs = ttlSec * 1000;
    this.#backoff = new Backoff(100, campaignBackoffCapMs(ttlSec), random);
  }

  next(round: Round): Next {
    if (round.kind === 'failed') {
      return round.error.transient
        ? { kind: 'again', afterMs: this.#backoff.next() }
        : { kind: 'stop', error: round.error };
    }
    if (round.heldMs >= this.#ttlMs) this.#backoff.reset();
    return { kind: 'again', afterMs: this.#backoff.next() };
  }

  /** The round went well (a command ran to its end): the next failure waits from the start of the backoff. */
  reset(): void {
    this.#backoff.reset();
  }
}
