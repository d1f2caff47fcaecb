import { fraction, nonNegativeMs, positiveMs, ttlSeconds } from './validate.js';

/** Timing options shared by the core and the facade, with their defaults and rules. */
export interface TimingOptions {
  /**
   * Lease TTL in seconds, > 0 and at most 2,147,483 (MAX_TTL_SEC: its deadline timer must fit Node's
   * timers). etcd grants whole seconds and raises small TTLs to its minimum. Default 10.
   */
  ttl?: number;
  /** Bound on the rate difference between this machine's clock and etcd's. Default 0.01 (1 %). */
  driftRate?: number;
  /** Taken off every validity deadline for the time between checking and acting. Default 50 ms. */
  marginMs?: number;
  /** Deadline of one etcd request, > 0 and at most 2^31 − 1 ms. Default 5000 ms. */
  requestTimeoutMs?: number;
}

export interface Timing {
  readonly ttlSec: number;
  readonly driftRate: number;
  readonly marginMs: number;
  readonly requestTimeoutMs: number;
}

export const DEFAULT_TTL_SEC = 10;

export function resolveTiming(options: TimingOptions, field = 'options'): Timing {
  const ttlSec = options.ttl === undefined ? DEFAULT_TTL_SEC : ttlSeconds(`${field}.ttl`, options.ttl);
  const driftRate = options.driftRate === undefined ? 0.01 : fraction(`${field}.driftRate`, options.driftRate, 0.5);
  const marginMs = options.marginMs === undefined ? 50 : nonNegativeMs(`${field}.marginMs`, options.marginMs);
  const requestTimeoutMs =
    options.requestTimeoutMs === undefined ? 5000 : positiveMs(`${field}.requestTimeoutMs`, options.requestTimeoutMs);
  const usableMs = Math.ceil(ttlSec) * 1000 * (1 - driftRate) - marginMs;
  if (usableMs <= (Math.ceil(ttlSec) * 1000) / 3) {
    throw new RangeError(
      `${field}.marginMs (${marginMs}) leaves no room in a ttl of ${ttlSec} s: the deadline must stay after the first renewal at ttl/3`,
    );
  }
  return { ttlSec, driftRate, marginMs, requestTimeoutMs };
}
