/**
 * Time as the algorithm sees it. `now()` is a monotonic millisecond reading
 * (never wall-clock time: wall clocks jump, leases do not care). Algorithm files
 * take a Clock so the pure parts can be driven by a fake one in unit tests.
 */
export interface Clock {
  /** Monotonic milliseconds; only differences are meaningful. */
  now(): number;
  /**
   * Wall-clock milliseconds. Used only as a second, conservative bound: the
   * monotonic clock may not advance while a machine or VM is suspended.
   */
  wallNow(): number;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
  /**
   * Runs `fn` once the I/O already waiting has been handled (Node's
   * `setImmediate`): a timer that fires after the event loop was blocked can
   * let replies sitting in socket buffers arrive before it draws conclusions.
   */
  afterPendingIo(fn: () => void): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer(fn, ms) {
    const handle = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(handle);
  },
  afterPendingIo(fn) {
    setImmediate(fn);
  },
};

/** A moment read on both clocks (a request's send time). */
export interface Instant {
  readonly mono: number;
  readonly wall: number;
}

export function instant(clock: Clock): Instant {
  return { mono: clock.now(), wall: clock.wallNow() };
}
