import { UsageError } from '../usage.js';

/**
 * The grace of `locked run` is budgeted inside the term. The stop sequence
 * (SIGTERM, then SIGKILL `graceMs` later) starts at `validUntil − graceMs`, so
 * that the child is dead at the validity deadline at the latest. While the
 * lease renews normally, the deadline seen just before a renewal's reply is
 * `ttl×(1−drift) − margin − renewInterval` ahead (the renewal interval is
 * ttl/3): a grace at least that long would stop the child at every renewal.
 */
export interface GraceTiming {
  readonly ttlSec: number;
  readonly driftRate: number;
  readonly marginMs: number;
}

/** The largest grace the rule allows is just below this. */
export function graceBudgetMs(t: GraceTiming): number {
  const ttlMs = t.ttlSec * 1000;
  return ttlMs * (1 - t.driftRate) - t.marginMs - ttlMs / 3;
}

/** Half the budget, at most 5 s: room for renewal replies that come late, and a useful grace. */
export function defaultGraceMs(t: GraceTiming): number {
  return Math.max(0, Math.min(5000, Math.floor(graceBudgetMs(t) / 2)));
}

/** Throws a UsageError stating the rule when `graceMs` cannot fit in the term. */
export function checkGrace(command: string, graceMs: number, t: GraceTiming): void {
  const budget = graceBudgetMs(t);
  if (graceMs < budget) return;
  const ttlMs = t.ttlSec * 1000;
  throw new UsageError(
    `${command}: --grace ${graceMs} ms does not fit in --ttl ${t.ttlSec} s: the grace must be < ` +
      `ttl×(1−drift) − margin − ttl/3 = ${ttlMs}×${1 - t.driftRate} − ${t.marginMs} − ${Math.round(ttlMs / 3)} = ` +
      `${Math.round(budget * 10) / 10} ms (lower --grace or raise --ttl)`,
  );
}
