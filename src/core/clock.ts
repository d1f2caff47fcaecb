import { MAX_TIMER_MS } from './validate.js';

/**
 * Time (and jitter) as the algorithm sees it. `now()` is a monotonic
 * millisecond reading (never wall-clock time: wall clocks jump, leases do not
 * care). Every timer, pause and random draw of the session, election, watch and
 * node layers goes through the Clock the client was given, so those layers can
 * be driven by a fake one in unit tests (test/unit/fake-clock.ts).
 */
export interface Clock {
  /** Monotonic milliseconds; only differences are meaningful. */
  now(): number;
  /**
   * Wall-clock milliseconds. Used only as a second, conservative bound: the
   * monotonic clock may not advance while a machine or VM is suspended.
   */
  wallNow(): number;
  /**
   * Runs `fn` after `ms` (any length: a wait beyond Node's 2^31-1 ms timer limit
   * is not cut short); returns a function that cancels it. A `background` timer
   * does not keep the process alive on its own (Node's `unref`).
   */
  setTimer(fn: () => void, ms: number, options?: TimerOptions): () => void;
  /**
   * Runs `fn` once the I/O already waiting has been handled (Node's
   * `setImmediate`): a timer that fires after the event loop was blocked can
   * let replies sitting in socket buffers arrive before it draws conclusions.
   */
  afterPendingIo(fn: () => void): void;
  /** A uniform draw in [0, 1) for retry jitter (default `Math.random`). */
  random?(): number;
}

export interface TimerOptions {
  /** True: the timer alone does not keep the process running. */
  readonly background?: boolean;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer(fn, ms, options) {
    let left = Math.max(0, ms);
    let handle: ReturnType<typeof setTimeout>;
    const arm = (): void => {
      const step = Math.min(left, MAX_TIMER_MS);
      left -= step;
      handle = setTimeout(() => (left > 0 ? arm() : fn()), step);
      if (options?.background) handle.unref();
    };
    arm();
    return () => clearTimeout(handle);
  },
  afterPendingIo(fn) {
    setImmediate(fn);
  },
  random: () => Math.random(),
};

/** The clock's jitter source (Math.random if it has none). */
export function randomOf(clock: Clock): () => number {
  return clock.random ? () => clock.random!() : Math.random;
}

/** A moment read on both clocks (a request's send time). */
export interface Instant {
  readonly mono: number;
  readonly wall: number;
}

export function instant(clock: Clock): Instant {
  return { mono: clock.now(), wall: clock.wallNow() };
}
