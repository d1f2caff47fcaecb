import type * as etcd from 'etcd3';
import { leaseHex, prefixEnd, toBigInt } from '../transport/keys.js';
import type { Candidate } from './candidates.js';

/**
 * Priorities (docs/DESIGN.md, "Priority"). A candidate with a priority other
 * than 0 publishes it in a **rank key** beside its candidate key, on the same
 * lease: `<election>.locked-rank/<priority, 16 sortable hex digits>/<lease hex>`.
 * The key is outside the candidates' prefix `<election>/`, so Go programs and
 * `etcdctl elect` never see it; the priority in its name sorts the keys by
 * priority, so that a read of the highest few is one sorted, limited range.
 *
 * A candidate without a rank key (Go, `etcdctl elect`, locked at priority 0)
 * ranks as priority 0 since its key's create revision. A rank key's `since`
 * is the candidate's first join: a candidate that stepped aside for a higher
 * one keeps its place among its equals (first come, first served).
 */
export interface Rank {
  readonly priority: number;
  /** The revision of the candidate's first join: equal priorities are served in this order. */
  readonly since: bigint;
}

/** A rank key, decoded: whose it is (by lease), and its rank. */
export interface RankEntry extends Rank {
  readonly key: string;
  readonly leaseId: bigint;
  /** How long this candidate waits, leading none, before the leader below it hands over (ms). */
  readonly preemptAfterMs: number;
}

export const DEFAULT_PREEMPT_AFTER_MS = 1000;

export function rankPrefix(election: string): string {
  return `${election}.locked-rank/`;
}

/**
 * A finite number as 16 hex digits whose string order is the numbers' order:
 * the IEEE-754 bits, with the sign bit flipped for positives and every bit
 * flipped for negatives (so -0 and 0 are one key: 0 is normalised first).
 */
export function encodePriority(priority: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, priority === 0 ? 0 : priority);
  const bits = view.getBigUint64(0);
  const sortable = bits >> 63n === 0n ? bits | (1n << 63n) : ~bits & 0xffff_ffff_ffff_ffffn;
  return sortable.toString(16).padStart(16, '0');
}

export function decodePriority(hex: string): number | null {
  if (!/^[0-9a-f]{16}$/.test(hex)) return null;
  const sortable = BigInt(`0x${hex}`);
  const bits = sortable >> 63n === 1n ? sortable & ~(1n << 63n) : ~sortable & 0xffff_ffff_ffff_ffffn;
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, bits);
  const value = view.getFloat64(0);
  return Number.isFinite(value) ? value : null;
}

export function rankKey(election: string, priority: number, leaseId: bigint): string {
  return `${rankPrefix(election)}${encodePriority(priority)}/${leaseHex(leaseId)}`;
}

/** The value of a rank key: `since` only when it is not the key's own create revision (a step-aside's rewrite). */
export function encodeRankValue(preemptAfterMs: number, since?: bigint): string {
  return JSON.stringify(since === undefined ? { preemptAfterMs } : { preemptAfterMs, since: since.toString() });
}

/** A rank key as read from etcd, or null when it is not one of ours (ignored, never trusted). */
export function decodeRank(election: string, kv: etcd.IKeyValue): RankEntry | null {
  const key = kv.key.toString();
  const rest = key.slice(rankPrefix(election).length).split('/');
  if (!key.startsWith(rankPrefix(election)) || rest.length !== 2) return null;
  const priority = decodePriority(rest[0]!);
  if (priority === null || !/^[0-9a-f]+$/.test(rest[1]!)) return null;
  let preemptAfterMs = DEFAULT_PREEMPT_AFTER_MS;
  let since = toBigInt(kv.create_revision);
  try {
    const raw = JSON.parse(kv.value.toString()) as { preemptAfterMs?: unknown; since?: unknown };
    if (typeof raw.preemptAfterMs === 'number' && raw.preemptAfterMs >= 0) preemptAfterMs = raw.preemptAfterMs;
    if (typeof raw.since === 'string' && /^[0-9]+$/.test(raw.since)) since = BigInt(raw.since);
  } catch {
    // An unreadable value keeps the defaults: the priority is in the name.
  }
  return { key, leaseId: BigInt(`0x${rest[1]}`), priority, since, preemptAfterMs };
}

/** The range of every rank key of `election`. */
export function rankRange(election: string): etcd.IRangeRequest {
  const key = Buffer.from(rankPrefix(election));
  return { key, range_end: prefixEnd(key) };
}

/** Whether `a` is served before `b`: a higher priority, or the same and an earlier first join. */
export function outranks(a: Rank, b: Rank): boolean {
  return a.priority > b.priority || (a.priority === b.priority && a.since < b.since);
}

/** A sort comparator: the best-ranked first (`outranks`), equal ranks as they were. */
export function byRank(a: Rank, b: Rank): number {
  return outranks(a, b) ? -1 : outranks(b, a) ? 1 : 0;
}

/** A queued candidate with its rank: from its rank key, else priority 0 since its key's create revision. */
export interface RankedCandidate extends Rank {
  readonly candidate: Candidate;
  readonly preemptAfterMs: number;
  /** Whether it published a rank key (a locked candidate that may step aside); Go candidates never do. */
  readonly published: boolean;
}

/** The candidates of `queue` (oldest first), each with its rank; rank keys of candidates not queued are ignored. */
export function rankQueue(queue: readonly Candidate[], ranks: readonly RankEntry[]): RankedCandidate[] {
  const byLease = new Map<bigint, RankEntry>();
  for (const r of ranks) {
    const seen = byLease.get(r.leaseId);
    if (!seen || r.since > seen.since) byLease.set(r.leaseId, r); // two of one lease: a priority change in flight
  }
  return queue.map((candidate) => {
    const r = byLease.get(candidate.leaseId);
    return r
      ? { candidate, priority: r.priority, since: r.since, preemptAfterMs: r.preemptAfterMs, published: true }
      : {
          candidate,
          priority: 0,
          since: candidate.token,
          preemptAfterMs: DEFAULT_PREEMPT_AFTER_MS,
          published: false,
        };
  });
}

/** The best-ranked of `ranked` other than `exceptToken`, or null. */
export function best(ranked: readonly RankedCandidate[], exceptToken?: bigint): RankedCandidate | null {
  let top: RankedCandidate | null = null;
  for (const r of ranked) {
    if (r.candidate.token === exceptToken) continue;
    if (!top || outranks(r, top)) top = r;
  }
  return top;
}

/** Every rank key of an election as one read saw them, at `revision`. */
export interface RankSnapshot {
  readonly entries: readonly RankEntry[];
  readonly revision: bigint;
}

/**
 * The rank keys a read of the queue on the campaign path carries (an op appended to it: no request of
 * its own): the RANKS_READ highest, so that a read stays small however many candidates publish one.
 * A step-aside needs to see a rank above its own, which these are; a tie among more than RANKS_READ
 * candidates of the top priorities may be judged without the earliest join (served a little out of
 * order, never unsafely). Whole-queue reads (`CandidateReads.ranked`) read them all.
 */
export const RANKS_READ = 32;

export function rankReadOp(election: string): etcd.IRequestOp {
  return { request_range: { ...rankRange(election), sort_target: 'Key', sort_order: 'Descend', limit: RANKS_READ } };
}

export function decodeRanks(election: string, op: etcd.IResponseOp | undefined, revision: bigint): RankSnapshot {
  const entries: RankEntry[] = [];
  for (const kv of op?.response_range?.kvs ?? []) {
    const entry = decodeRank(election, kv);
    if (entry) entries.push(entry);
  }
  return { entries, revision };
}

/** The rank key a candidate writes (null: it publishes none), and its value. */
export interface RankWrite {
  readonly key: string;
  readonly value: string;
}

/**
 * The rank key a join writes: one for a priority other than 0, and one for any candidate that stepped
 * aside before (`since` set), so that it keeps its place among its equals; none otherwise, so that an
 * election where no one sets a priority writes nothing more than etcd's own layout.
 */
export function publishedRank(
  election: string,
  rank: { readonly priority: number; readonly preemptAfterMs: number },
  leaseId: bigint,
  since: bigint | null,
): RankWrite | null {
  if (rank.priority === 0 && since === null) return null;
  return {
    key: rankKey(election, rank.priority, leaseId),
    value: encodeRankValue(rank.preemptAfterMs, since ?? undefined),
  };
}
