import type { LockedClient, Term } from '../../api.js';

type Clock = LockedClient['clock'];

/**
 * When the command of a term must begin to stop: at `term.validUntil − graceMs`
 * (a timer, re-armed whenever a confirmed renewal moves the term's deadline), or at once when
 * the term ends for any other reason (key deleted, lease lost, resign).
 * `signal` aborts once, with `reason` saying which.
 */
export class StopWindow {
  readonly #controller = new AbortController();
  readonly #term: Term;
  readonly #graceMs: number;
  readonly #clock: Clock;
  readonly #offRenewed: () => void;
  readonly #onTermEnd: () => void;
  #cancelTimer: () => void = () => undefined;
  #reason = '';

  constructor(term: Term, graceMs: number, clock: Clock) {
    this.#term = term;
    this.#graceMs = graceMs;
    this.#clock = clock;
    this.#onTermEnd = (): void => this.#close(`the term ended: ${describeReason(term.signal.reason)}`);
    term.signal.addEventListener('abort', this.#onTermEnd, { once: true });
    this.#offRenewed = term.onRenewed(() => this.#arm());
    if (term.signal.aborted) this.#onTermEnd();
    else this.#arm();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get reason(): string {
    return this.#reason;
  }

  /** Milliseconds until the stop sequence must start (≤ 0: now). */
  remainingMs(): number {
    return this.#term.validUntil - this.#graceMs - this.#clock.now();
  }

  /** Removes the timer and listeners (the signal stays as it is). */
  dispose(): void {
    this.#cancelTimer();
    this.#offRenewed();
    this.#term.signal.removeEventListener('abort', this.#onTermEnd);
  }

  #arm(): void {
    if (this.#controller.signal.aborted) return;
    this.#cancelTimer();
    const remaining = this.remainingMs();
    if (remaining <= 0) {
      this.#close(`no renewal proved the lease for longer than the grace (${this.#graceMs} ms before its deadline)`);
      return;
    }
    this.#cancelTimer = this.#clock.setTimer(() => this.#arm(), remaining);
  }

  #close(reason: string): void {
    if (this.#controller.signal.aborted) return;
    this.#reason = reason;
    this.dispose();
    this.#controller.abort(new Error(reason));
  }
}

function describeReason(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
