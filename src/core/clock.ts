/**
 * Time as the algorithm sees it. `now()` is a monotonic millisecond reading
 * (never wall-clock time: wall clocks jump, leases do not care). Algorithm files
 * take a Clock so the pure parts can be driven by a fake one in unit tests.
 */
export interface Clock {
  /** Monotonic milliseconds; only differences are meaningful. */
  now(): number;
  /** Runs `fn` after `ms`; returns a function that cancels it. */
  setTimer(fn: () => void, ms: number): () => void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimer(fn, ms) {
    const handle = setTimeout(fn, Math.max(0, ms));
    return () => clearTimeout(handle);
  },
};
