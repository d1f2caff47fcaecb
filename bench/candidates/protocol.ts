/**
 * The messages between a benchmark and its candidate processes (over Node's
 * IPC channel). Every time is `process.hrtime.bigint()` in ms, which on Linux is
 * CLOCK_MONOTONIC: one clock shared by every process on the machine, so a kill
 * in the parent and a `select` in a child are on the same time line.
 */

/** The implementations a candidate process can run. */
/** `locked` is the seed facade; `locked-core` the core API (LockedClient, Election, Term). */
export type CandidateKind = 'locked' | 'locked-core' | 'etcd3' | 'v3election' | 'locked-v2';

export interface JoinConfig {
  /** Election name (locked: the seed's path; etcd3: the election name; v3election: the name). */
  readonly name: string;
  readonly ttlSec: number;
  readonly value: string;
}

/** Resources of a candidate process so far. */
export interface Usage {
  /** CPU time used (user + system), ms. */
  readonly cpuMs: number;
  readonly rssBytes: number;
  /** V8 heap in use (live objects and garbage not yet collected). */
  readonly heapUsedBytes: number;
  /** TCP payload bytes exchanged with etcd, both ways. */
  readonly socketBytes: number;
}

/** Parent → child. */
export type Command =
  | { readonly op: 'connect'; readonly endpoints: string }
  /** `count` > 1 makes that many candidacies, in elections `name-0`, `name-1`, …. */
  | { readonly op: 'join'; readonly config: JoinConfig; readonly count?: number }
  /** Asks for a `usage` report. */
  | { readonly op: 'usage' }
  /** Starts the joined candidacies; with `window`, at most that many campaigns in flight at once. */
  | { readonly op: 'start'; readonly window?: number }
  | { readonly op: 'stop' }
  /** Asks for the steps recorded since the last `steps` (only with BENCH_STEPS=1; see steps.ts). */
  | { readonly op: 'steps' }
  | { readonly op: 'exit' };

/** Child → parent. `t` is the child's monotonic ms at the moment of the event. */
export type Report =
  | { readonly ev: 'up'; readonly t: number }
  | { readonly ev: 'connected'; readonly t: number }
  | { readonly ev: 'joined'; readonly t: number }
  | { readonly ev: 'started'; readonly t: number }
  /** This candidate leads (the library's own "you are the leader" signal). */
  | { readonly ev: 'elected'; readonly t: number }
  /** A keepalive of this candidate's lease was answered (or, for v2, its key was written). */
  | { readonly ev: 'renewed'; readonly t: number }
  /** This candidate no longer leads. */
  | { readonly ev: 'deposed'; readonly t: number }
  | { readonly ev: 'stopped'; readonly t: number; readonly stopCalledAt: number }
  | { readonly ev: 'usage'; readonly t: number; readonly usage: Usage }
  | { readonly ev: 'steps'; readonly t: number; readonly steps: [number, string][] }
  | { readonly ev: 'error'; readonly t: number; readonly message: string };

export function monoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
