import type * as etcd from 'etcd3';
import { toBigInt } from '../transport/keys.js';
import { decodeRanks, rankReadOp, type RankSnapshot } from './rank.js';

/**
 * A candidate's key in an election, decoded. In concurrency.Election's layout
 * the leader is the candidate with the smallest create revision, and that
 * revision is the term's fencing token.
 */
export interface Candidate {
  readonly key: string;
  /** Create revision of the key: the fencing token when this candidate leads. */
  readonly token: bigint;
  readonly modRevision: bigint;
  readonly leaseId: bigint;
  readonly value: string;
}

export function decodeCandidate(kv: etcd.IKeyValue): Candidate {
  return {
    key: kv.key.toString(),
    token: toBigInt(kv.create_revision),
    modRevision: toBigInt(kv.mod_revision),
    leaseId: toBigInt(kv.lease),
    value: kv.value.toString(),
  };
}

/** A candidate's place in the queue at `revision`: its nearest older candidate and the first one. */
export interface Position {
  readonly older: Candidate | null;
  readonly first: Candidate | null;
  readonly revision: bigint;
}

/** An election's key range, as the ops below need it. */
export interface QueueRange {
  readonly name: string;
  readonly prefix: Buffer;
  readonly rangeEnd: Buffer;
}

/** The whole queue, oldest first. */
export function queueRange(q: QueueRange): etcd.IRangeRequest {
  return { key: q.prefix, range_end: q.rangeEnd, sort_target: 'Create', sort_order: 'Ascend' };
}

/**
 * The two ranges that place a candidate: the newest `newest` keys created
 * at or before `maxCreateRevision` (any, if omitted), and the first key.
 */
export function placeOps(q: QueueRange, newest: number, maxCreateRevision?: bigint): etcd.IRequestOp[] {
  const upTo = maxCreateRevision === undefined ? {} : { max_create_revision: maxCreateRevision.toString() };
  const range = { key: q.prefix, range_end: q.rangeEnd, sort_target: 'Create' as const };
  return [
    { request_range: { ...range, sort_order: 'Descend', limit: newest, ...upTo } },
    { request_range: { ...range, sort_order: 'Ascend', limit: 1 } },
  ];
}

export function decodePlace(
  older: etcd.IKeyValue | undefined,
  firstOp: etcd.IResponseOp | undefined,
  revision: bigint,
): Position {
  const first = firstOp?.response_range.kvs[0];
  return {
    older: older ? decodeCandidate(older) : null,
    first: first ? decodeCandidate(first) : null,
    revision,
  };
}

/**
 * The compares of a candidate that is first: its key stands with `token`,
 * and nothing is older — a compare over the whole prefix, every key's create
 * revision ≥ `token` (etcd checks each key of a range compare).
 */
export function firstCompares(q: QueueRange, key: string, token: bigint): etcd.ICompare[] {
  return [
    { key: Buffer.from(key), target: 'Create', result: 'Equal', create_revision: token.toString() },
    {
      key: q.prefix,
      range_end: q.rangeEnd,
      target: 'Create',
      result: 'Greater',
      create_revision: (token - 1n).toString(),
    },
  ];
}

/** What a failed claim or confirmation reads: our own key, our place, the ranks (rank.ts; last, as always). */
export function standingOps(q: QueueRange, key: string, token: bigint): etcd.IRequestOp[] {
  return [{ request_range: { key: Buffer.from(key) } }, ...placeOps(q, 1, token - 1n), rankReadOp(q.name)];
}

/** A failed claim's or confirmation's answer: our own key (or null), and our place. */
export function decodeStanding(res: etcd.ITxnResponse): { own: Candidate | null; position: Position } {
  const own = res.responses[0]?.response_range.kvs[0];
  const older = res.responses[1]?.response_range.kvs[0];
  return {
    own: own ? decodeCandidate(own) : null,
    position: decodePlace(older, res.responses[2], toBigInt(res.header.revision)),
  };
}

/** The rank keys of a transaction whose last op read them (rank.ts: an op on the queue's reads, not a request). */
export function ranksOf(election: string, res: etcd.ITxnResponse): RankSnapshot {
  return decodeRanks(election, res.responses[res.responses.length - 1], toBigInt(res.header.revision));
}
