/** A candidate's leadership as read at `at` (ms on the shared monotonic clock). */
export interface LeadershipSample {
  readonly selected: boolean;
  /** The term's token (decimal) while selected, else null. */
  readonly token: string | null;
  readonly at: number;
}

/**
 * Samples one candidate's leadership (in its own process) for a history
 * checker (history.ts): each call reads the clock, then the candidate, and
 * reports a sample when the answer changed, preceded by the last sample of the
 * run it ends (so an interval ends exactly where it was last seen), or when
 * `heartbeatMs` have passed since the last report. Used by `locked demo`'s
 * candidates and the chaos harness's.
 */
export class LeadershipSampler {
  readonly #probe: () => { selected: boolean; token: string | null };
  readonly #report: (sample: LeadershipSample) => void;
  readonly #heartbeatMs: number;
  readonly #now: () => number;
  #last: LeadershipSample | null = null;
  #lastReportedAt = -Infinity;
  /** The last sample was not reported (nothing had changed). */
  #unreported = false;

  constructor(
    probe: () => { selected: boolean; token: string | null },
    report: (sample: LeadershipSample) => void,
    heartbeatMs: number,
    now: () => number,
  ) {
    this.#probe = probe;
    this.#report = report;
    this.#heartbeatMs = heartbeatMs;
    this.#now = now;
  }

  /** Reads the clock first, then the candidate: a sample never claims leadership later than it was true. */
  sample(): LeadershipSample {
    const at = this.#now();
    const { selected, token } = this.#probe();
    const previous = this.#last;
    const next: LeadershipSample = { selected, token, at };
    this.#last = next;
    if (previous && previous.selected === selected && previous.token === token) {
      if (at - this.#lastReportedAt >= this.#heartbeatMs) this.#send(next);
      else this.#unreported = true;
    } else {
      if (previous && this.#unreported) this.#send(previous);
      this.#send(next);
    }
    return next;
  }

  /** Reports the last sample if it was held back: the candidate's last word before it exits. */
  flush(): void {
    if (this.#unreported && this.#last) this.#send(this.#last);
  }

  #send(sample: LeadershipSample): void {
    this.#unreported = false;
    this.#lastReportedAt = sample.at;
    this.#report(sample);
  }
}
