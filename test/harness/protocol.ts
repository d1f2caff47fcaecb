/**
 * Messages between the harness and a candidate process (over the IPC channel).
 * Type-only: the candidate is transpiled alone and must not import harness code
 * at run time.
 */

/** What the candidate process runs. */
export type CandidateMode =
  /** The seed facade: `locked(hosts)(opts)`; leadership = `isSelected()` / `token()`. */
  | 'node'
  /** The core's `election.withLeadership(value, fn(signal))`; leadership = fn running with its signal not aborted. */
  | 'with-leadership'
  /** npm etcd3's `client.election(name, ttl).campaign(value)`; leadership = elected and no error since. */
  | 'etcd3';

export interface CandidateConfig {
  readonly id: string;
  readonly mode: CandidateMode;
  /** `host:port` list as the candidate gets it (may include dead members). */
  readonly endpoints: string[];
  /** Election name (seed `path`). */
  readonly path: string;
  readonly ttlSec: number;
  /** Period of `isSelected()` samples. */
  readonly sampleMs: number;
  /** A sample is reported at least this often even when nothing changed. */
  readonly heartbeatMs: number;
  /** Absolute path of the built library (dist/index.js). */
  readonly libPath: string;
  /** Absolute path of the etcd3 package. */
  readonly etcd3Path: string;
  /**
   * A workaround under test, applied from outside the library: `no-breaker`
   * hands locked an etcd3 client without etcd3's per-host circuit breaker
   * (same gRPC options as locked's own client).
   */
  readonly experiment?: 'no-breaker';
  /**
   * Compare the view with a fresh read of the leader every second and report
   * a view that disagrees for more than 2 s (error code STALE_VIEW, with the
   * watch hub's counters): a diagnosis aid, one extra read per second.
   */
  readonly diagnose?: boolean;
  /**
   * The fencing check: while leading, the candidate increments the counter
   * `<prefix>n` every 20-50 ms with a transaction guarded by its term
   * (`CreateRevision(leader key) == token`) and by the counter's mod revision,
   * which also writes `<prefix>log/<value>` = `<token> <id> <seq>`; it reports
   * each attempt and its outcome (FenceMessage).
   */
  readonly fence?: { readonly prefix: string };
  /** The candidate's priority and preemptAfterMs (modes node and with-leadership; the preempt fault's joiners). */
  readonly rank?: { readonly priority: number; readonly preemptAfterMs: number };
}

/**
 * One increment of the fenced counter, reported in phases: `try` right before
 * the transaction is sent (its IPC write completed first, so a candidate killed
 * mid-request has reported it), then one outcome: `ok` (applied at `revision`),
 * `refused` (the term's guard failed: no longer the leader), `conflict` (the
 * counter moved since the read), `abandoned` (not sent: leadership ended after
 * the try), or `unknown` (the request failed: it may or may not have applied).
 * `seq` numbers the candidate's attempts; `value` is the counter value written.
 */
export type FencePhase = 'try' | 'ok' | 'refused' | 'conflict' | 'abandoned' | 'unknown';
export interface FenceMessage {
  readonly t: 'fence';
  readonly phase: FencePhase;
  readonly token: string;
  readonly value: number;
  readonly seq: number;
  /** `ok`: the revision of the transaction that applied it. */
  readonly revision?: string;
  readonly at: number;
}

/** Candidate → harness. Times are `sharedNow()` ms (CLOCK_MONOTONIC). */
export type CandidateMessage =
  /** A leadership sample: `selected` with `token` (decimal) at `at`. */
  | { readonly t: 'sample'; readonly selected: boolean; readonly token: string | null; readonly at: number }
  /** Who this candidate believes leads (the leader's id), or null. */
  | { readonly t: 'view'; readonly leader: string | null; readonly at: number }
  /** An error the candidate saw (counted by code; the candidate keeps going). */
  | { readonly t: 'error'; readonly code: string; readonly message: string; readonly at: number }
  | { readonly t: 'ready'; readonly at: number }
  | FenceMessage
  /** Left the election after a `stop`; exits next. */
  | { readonly t: 'bye'; readonly at: number };

/** Harness → candidate. */
export type HarnessMessage =
  /** Leave the election gracefully (resign), then exit. */
  { readonly t: 'stop' };
