import type { Clock } from '../../src/core/clock.js';

/** A manual clock for pure-logic tests: time moves only by `advance`, timers run in due order. */
export class FakeClock implements Clock {
  #now = 1_000;
  #timers: { at: number; fn: () => void; id: number }[] = [];
  #nextId = 0;

  /** What every jitter draw returns (a fixed value makes retry pauses exact). */
  randomValue = 0.5;

  random(): number {
    return this.randomValue;
  }

  now(): number {
    return this.#now;
  }

  /** Wall time moves with the monotonic time, unless `suspend` moved it alone. */
  wallNow(): number {
    return this.#now + this.#wallOffset;
  }

  /** The machine was suspended: wall time went on, the monotonic clock did not. */
  suspend(ms: number): void {
    this.#wallOffset += ms;
  }

  #wallOffset = 1_700_000_000_000;

  setTimer(fn: () => void, ms: number): () => void {
    const id = this.#nextId++;
    this.#timers.push({ at: this.#now + Math.max(0, ms), fn, id });
    return () => {
      this.#timers = this.#timers.filter((t) => t.id !== id);
    };
  }

  /** No real I/O here: runs at the current instant, after the timers already due. */
  afterPendingIo(fn: () => void): void {
    this.setTimer(fn, 0);
  }

  /** Moves time forward by `ms`, running every timer that falls due, in order. */
  advance(ms: number): void {
    const target = this.#now + ms;
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.#timers[0];
      if (!next || next.at > target) break;
      this.#timers.shift();
      this.#now = Math.max(this.#now, next.at); // after a `jump`, overdue timers run late, as Node's do
      next.fn();
    }
    this.#now = target;
  }

  /** Moves time without running timers: a process paused (SIGSTOP, GC) and just resumed. */
  jump(ms: number): void {
    this.#now += ms;
  }

  get pending(): number {
    return this.#timers.length;
  }
}
