import type { Clock } from '../core/clock.js';
import type { LockedError } from '../errors.js';

/** The first gap between two reports of one outage (ms); each report doubles it, up to the node's cap. */
export const FIRST_REPORT_GAP_MS = 100;

type Outage =
  | { readonly kind: 'none' }
  | { readonly kind: 'reporting'; readonly lastAt: number; readonly gapMs: number; readonly last: LockedError };

/**
 * Which failures a seed node reports to its `error` listeners. While etcd
 * fails, the node's session, its view of the election and its campaign each
 * notice, often in the same millisecond and with the same cause; a node reports
 * one error per step of its retry backoff instead: the first failure of an
 * outage at once, then at most one every 100 ms, 200 ms, 400 ms … up to
 * `maxGapMs` (the cap of the node's campaign backoff). One error object is
 * reported at most once. A failure retrying cannot fix (`transient: false`)
 * is always reported: it stops the node. A success (a lease renewal, a won
 * term) ends the outage.
 */
export class ErrorReports {
  readonly #clock: Clock;
  readonly #maxGapMs: number;
  #outage: Outage = { kind: 'none' };

  constructor(clock: Clock, maxGapMs: number) {
    this.#clock = clock;
    this.#maxGapMs = Math.max(FIRST_REPORT_GAP_MS, maxGapMs);
  }

  /** Whether `err` is to be reported now (and if so, counts it as this step's report). */
  admit(err: LockedError): boolean {
    const outage = this.#outage;
    const now = this.#clock.now();
    if (outage.kind === 'reporting') {
      if (outage.last === err) return false;
      if (err.transient && now - outage.lastAt < outage.gapMs) return false;
    }
    const gapMs = outage.kind === 'none' ? FIRST_REPORT_GAP_MS : Math.min(this.#maxGapMs, outage.gapMs * 2);
    this.#outage = { kind: 'reporting', lastAt: now, gapMs, last: err };
    return true;
  }

  /** etcd answered as it should: the next failure starts a new outage and is reported at once. */
  recovered(): void {
    this.#outage = { kind: 'none' };
  }
}
