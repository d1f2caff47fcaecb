/**
 * Named faults, each an object with `inject()` and its inverse `heal()` (the
 * manner of etcd's robustness tests). The runner injects, keeps the fault for
 * `holdMs`, heals, then times the recovery. Lane faults hit one election (its
 * leader, as the lane saw it when the fault was made); cluster faults hit etcd
 * and so every lane at once. This file names the kinds and the shape;
 * lane-faults.ts and cluster-faults.ts make them.
 */
export const LANE_FAULTS = [
  'pause-leader-0.5ttl',
  'pause-leader-1ttl',
  'pause-leader-3ttl',
  'cut-leader-both',
  'cut-leader-up',
  'cut-leader-down',
  'latency-leader',
  'reset-leader',
  'kill-leader',
  'stop-leader',
  'compact-watch',
  'churn',
] as const;
export const CLUSTER_FAULTS = ['kill-member', 'kill-raft-leader', 'restart-cluster', 'pause-member'] as const;

export type LaneFaultKind = (typeof LANE_FAULTS)[number];
export type ClusterFaultKind = (typeof CLUSTER_FAULTS)[number];
export type FaultKind = LaneFaultKind | ClusterFaultKind;

export function isClusterFault(kind: FaultKind): kind is ClusterFaultKind {
  return (CLUSTER_FAULTS as readonly string[]).includes(kind);
}

export interface Fault {
  readonly kind: FaultKind;
  /** What exactly was hit, for the report (filled in by inject). */
  detail: string;
  /** How long the fault stays before `heal()`. */
  readonly holdMs: number;
  inject(): Promise<void>;
  heal(): Promise<void>;
}

export interface FaultParams {
  /** Override the hold time drawn from the seed. */
  holdMs?: number;
  /** Override the one-way latency of latency-leader. */
  latencyMs?: number;
}
