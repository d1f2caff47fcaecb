/**
 * Named faults, each an object with `inject()` and its inverse `heal()` (the
 * manner of etcd's robustness tests). The runner injects, keeps the fault for
 * `holdMs`, heals, then times the recovery. Lane faults hit one election's
 * leader (waited for, and recorded as the victim with whether it led at the
 * injection); cluster faults hit etcd and so every lane at once. This file
 * names the kinds and the shape; lane-faults.ts and cluster-faults.ts make them.
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
  'preempt',
] as const;
export const CLUSTER_FAULTS = ['kill-member', 'kill-raft-leader', 'restart-cluster', 'pause-member'] as const;

/**
 * Faults aimed at the election's leader (every lane fault: compact-watch makes
 * the leader resign under a follower, churn pauses it, preempt makes a candidate
 * of higher priority join, which the leader hands over to). Each must hit the
 * leader; cluster faults (kill-member, …) hit etcd and have no victim.
 */
export const LEADER_FAULTS: readonly LaneFaultKind[] = LANE_FAULTS;

export type LaneFaultKind = (typeof LANE_FAULTS)[number];
export type ClusterFaultKind = (typeof CLUSTER_FAULTS)[number];
export type FaultKind = LaneFaultKind | ClusterFaultKind;

export function isClusterFault(kind: FaultKind): kind is ClusterFaultKind {
  return (CLUSTER_FAULTS as readonly string[]).includes(kind);
}

export function isLeaderFault(kind: FaultKind): boolean {
  return (LEADER_FAULTS as readonly string[]).includes(kind);
}

/** The candidate a leader fault hit, as it was when the fault was injected. */
export interface Victim {
  readonly id: string;
  /** It reported itself leader (and was heard from within the lane's staleness bound) at the injection. */
  readonly wasLeader: boolean;
  /** Its term's token then (null when it did not lead). */
  readonly token: string | null;
  /** How long the fault waited for the lane to have a leader (bounded; 0 when it had one). */
  readonly waitedMs: number;
}

export interface Fault {
  readonly kind: FaultKind;
  /** What exactly was hit, for the report (filled in by inject). */
  detail: string;
  /** How long the fault stays before `heal()`. */
  readonly holdMs: number;
  /** Leader faults: the candidate hit (filled in by inject). */
  victim?: Victim;
  /** When the fault was really made (shared clock; inject may first wait for a leader). */
  injectedAt?: number;
  inject(): Promise<void>;
  heal(): Promise<void>;
}

export interface FaultParams {
  /** Override the hold time drawn from the seed. */
  holdMs?: number;
  /** Override the one-way latency of latency-leader. */
  latencyMs?: number;
  /** Which member pause-member stops (default: the Raft leader or a follower, half and half by the seed). */
  member?: 'raft-leader' | 'follower';
}
