/**
 * The validity deadline of a lease, as a pure function (DESIGN.md §3).
 *
 * etcd's leader resets a lease's expiry to "now + TTL" when a keepalive (or the
 * grant) reaches it, and that is never before we sent it. So, on a clock whose
 * rate is within `driftRate` of true time, the lease is certainly alive until
 * `sentAtMs + ttl × (1 − driftRate)`; `marginMs` is taken off for the work a
 * caller does between checking and acting. Measuring from the reply instead of
 * the send would add the request's round trip to the term: a delayed reply
 * would extend a lease that may already have expired on etcd.
 */
export function deadlineFrom(sentAtMs: number, grantedTtlSec: number, driftRate: number, marginMs: number): number {
  return sentAtMs + grantedTtlSec * 1000 * (1 - driftRate) - marginMs;
}

/** Default keepalive period: a third of the TTL, like etcd's Go client. */
export function renewIntervalMs(ttlSec: number): number {
  return (ttlSec * 1000) / 3;
}
