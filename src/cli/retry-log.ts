import { isLockedError } from '../api.js';
import { systemClock } from '../core/clock.js';
import { oneLine } from './client.js';
import type { Log } from './log.js';

/**
 * Says what fails on every retry, rate-limited: a failure of a new kind (its
 * error code) at once; failures of the same kind — their messages differ only
 * in details, such as the member or the step that failed — at most one line
 * per `everyMs`, the latest one, with how many failed since the last line.
 * `recovered()` starts afresh.
 */
export class RetryLog {
  readonly #log: Log;
  readonly #everyMs: number;
  readonly #now: () => number;
  #last: { readonly kind: string; readonly shownAt: number; unshown: number } | null = null;

  constructor(log: Log, everyMs = 2_000, now: () => number = () => systemClock.now()) {
    this.#log = log;
    this.#everyMs = everyMs;
    this.#now = now;
  }

  /** One failed attempt: `locked run: <what>: <message> (retrying)`. */
  failed(what: string, err: unknown): void {
    const now = this.#now();
    const kind = isLockedError(err) ? err.code : 'other';
    const last = this.#last;
    if (last?.kind === kind && now - last.shownAt < this.#everyMs) {
      last.unshown++;
      return;
    }
    const since = last?.kind === kind && last.unshown > 0 ? `; ${last.unshown} more failed since the last line` : '';
    this.#log.warn(`${what}: ${oneLine(err)} (retrying${since})`);
    this.#last = { kind, shownAt: now, unshown: 0 };
  }

  recovered(): void {
    this.#last = null;
  }
}
