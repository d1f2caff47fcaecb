import type * as etcd from 'etcd3';
import { LockedError } from '../errors.js';
import { prefixEnd, toBigInt } from '../transport/keys.js';
import type { Transport } from '../transport/transport.js';
import {
  decodeCandidate,
  decodePlace,
  decodeStanding,
  firstCompares,
  placeOps,
  queueRange,
  ranksOf,
  standingOps,
  type Candidate,
  type Position,
} from './candidate-ops.js';
import { rankQueue, rankRange, rankReadOp, type RankedCandidate, type RankSnapshot, type RankWrite } from './rank.js';

export { decodeCandidate, type Candidate, type Position };

/** The key range `<name>/` of an election: its reads, and the join. Every read returns the revision it holds at. */
export class CandidateReads {
  readonly name: string;
  readonly prefix: Buffer;
  readonly rangeEnd: Buffer;
  readonly #transport: Transport;

  constructor(transport: Transport, name: string) {
    this.#transport = transport;
    this.name = name;
    this.prefix = Buffer.from(`${name}/`);
    this.rangeEnd = prefixEnd(this.prefix);
  }

  /**
   * The leader: the key with the smallest create revision (or null). Linearizable, or with
   * `serializable` from the member's local state (a past state of the store, at the revision returned).
   */
  async first(options: { serializable?: boolean } = {}): Promise<{ candidate: Candidate | null; revision: bigint }> {
    const res = await this.#transport.range(
      {
        key: this.prefix,
        range_end: this.rangeEnd,
        sort_target: 'Create',
        sort_order: 'Ascend',
        limit: 1,
        ...(options.serializable ? { serializable: true } : {}),
      },
      options.serializable ? 'read election leader (member-local)' : 'read election leader',
    );
    const kv = res.kvs[0];
    return { candidate: kv ? decodeCandidate(kv) : null, revision: toBigInt(res.header.revision) };
  }

  /**
   * Where the candidate with `token` stands, in one linearizable read (a
   * compare-free txn, so both ranges see one revision): its nearest older
   * candidate — the largest create revision below `token`, the key to wait on
   * (port of waitDeletes' read) — and the first candidate, which is the caller
   * itself when nothing is older.
   */
  async position(token: bigint): Promise<Position & { ranks: RankSnapshot }> {
    const res = await this.#transport.txn(
      { compare: [], success: [...placeOps(this, 1, token - 1n), rankReadOp(this.name)], failure: [] },
      'read predecessor',
    );
    const older = res.responses[0]?.response_range.kvs[0];
    const revision = toBigInt(res.header.revision);
    return { ...decodePlace(older, res.responses[1], revision), ranks: ranksOf(this.name, res) };
  }

  /** Every candidate, oldest first, and every rank key, at one revision (a decision that priorities take). */
  async ranked(): Promise<{ candidates: Candidate[]; ranks: RankSnapshot }> {
    const res = await this.#transport.txn(
      {
        compare: [],
        success: [{ request_range: queueRange(this) }, { request_range: rankRange(this.name) }],
        failure: [],
      },
      'read candidates and ranks',
    );
    return {
      candidates: (res.responses[0]?.response_range.kvs ?? []).map(decodeCandidate),
      ranks: ranksOf(this.name, res),
    };
  }

  /** The queue, oldest first, each candidate with its rank (rank.ts `rankQueue`), from one `ranked()` read. */
  async rankedQueue(): Promise<RankedCandidate[]> {
    const { candidates, ranks } = await this.ranked();
    return rankQueue(candidates, ranks.entries);
  }

  /**
   * Creates the candidate `key` (only if it does not exist) and, in the same
   * transaction, reads where it stands: ranges after a put in one txn see the
   * put, and the new key has the largest create revision of the prefix, so the
   * newest two keys are it and its nearest older candidate. One round trip
   * instead of a create and a read. When `key` is already there, nothing is
   * written and the token is null, with the existing key.
   */
  async join(
    key: string,
    value: string,
    leaseId: bigint,
    rank: RankWrite | null = null,
  ): Promise<{ token: bigint; position: Position; ranks: RankSnapshot } | { token: null; existing: Candidate | null }> {
    const keyBuf = Buffer.from(key);
    const lease = leaseId.toString();
    const rankPut = rank
      ? [{ request_put: { key: Buffer.from(rank.key), value: Buffer.from(rank.value), lease } }]
      : [];
    const res = await this.#transport.txn(
      {
        compare: [{ key: keyBuf, target: 'Create', result: 'Equal', create_revision: '0' }],
        success: [
          { request_put: { key: keyBuf, value: Buffer.from(value), lease } },
          ...rankPut,
          ...placeOps(this, 2),
          rankReadOp(this.name),
        ],
        failure: [{ request_range: { key: keyBuf } }],
      },
      'create candidate key',
    );
    if (!res.succeeded) {
      const kv = res.responses[0]?.response_range.kvs[0];
      return { token: null, existing: kv ? decodeCandidate(kv) : null };
    }
    const token = toBigInt(res.header.revision);
    const at = 1 + rankPut.length;
    const [own, older] = res.responses[at]?.response_range.kvs ?? [];
    if (!own || own.key.toString() !== key || toBigInt(own.create_revision) !== token) {
      throw new LockedError('ETCD', `candidate key ${key} was not the newest key of its election after its creation`);
    }
    return { token, position: decodePlace(older, res.responses[at + 1], token), ranks: ranksOf(this.name, res) };
  }

  /**
   * Claims the term for the candidate `key` with create revision `token`, if
   * it is still there and no older candidate is (one linearizable write):
   * writes `record` to the election's term record and returns what it replaced.
   * When the claim does not apply, returns where the candidate stands instead
   * (its own key, null if gone; its nearest older candidate), at one revision.
   */
  async claim(
    key: string,
    token: bigint,
    recordKey: string,
    record: string,
  ): Promise<
    | { claimed: true; previous: string | null; revision: bigint; ranks: RankSnapshot }
    | { claimed: false; own: Candidate | null; position: Position; ranks: RankSnapshot }
  > {
    const res = await this.#transport.txn(
      {
        compare: firstCompares(this, key, token),
        success: [
          { request_put: { key: Buffer.from(recordKey), value: Buffer.from(record), prev_kv: true } },
          rankReadOp(this.name),
        ],
        failure: standingOps(this, key, token),
      },
      'claim term',
    );
    const ranks = ranksOf(this.name, res);
    if (res.succeeded) {
      const prev = res.responses[0]?.response_put.prev_kv;
      const revision = toBigInt(res.header.revision);
      return { claimed: true, previous: prev ? prev.value.toString() : null, revision, ranks };
    }
    return { claimed: false, ...decodeStanding(res), ranks };
  }

  /**
   * The read that lets a candidate whose predecessor is gone lead without a
   * write (take-over.ts): one linearizable read-only txn with the claim's
   * compares — our key stands with `token`, nothing older — that returns the
   * term record, or, when they fail, where the candidate stands instead.
   */
  async confirm(
    key: string,
    token: bigint,
    recordKey: string,
  ): Promise<
    | { standing: true; record: string | null; revision: bigint; ranks: RankSnapshot }
    | { standing: false; own: Candidate | null; position: Position; ranks: RankSnapshot }
  > {
    const res = await this.#transport.txn(
      {
        compare: firstCompares(this, key, token),
        success: [{ request_range: { key: Buffer.from(recordKey) } }, rankReadOp(this.name)],
        failure: standingOps(this, key, token),
      },
      'confirm first',
    );
    const ranks = ranksOf(this.name, res);
    if (res.succeeded) {
      const kv = res.responses[0]?.response_range.kvs[0];
      return {
        standing: true,
        record: kv ? kv.value.toString() : null,
        revision: toBigInt(res.header.revision),
        ranks,
      };
    }
    return { standing: false, ...decodeStanding(res), ranks };
  }

  /**
   * The candidate next in line after `token` (the nearest younger key), from
   * the member's local state (a serializable read). Only a hint: a stale
   * member may omit a newer key or show one since deleted, so whoever names it
   * as heir guards its write with that key's create revision. What a stale
   * member cannot do is hide a nearer key that still exists: that key is older
   * than any it shows.
   */
  async next(token: bigint): Promise<Candidate | null> {
    const res = await this.#transport.range({ ...this.nextRange(token), serializable: true }, 'read next candidate');
    const kv = res.kvs[0];
    return kv ? decodeCandidate(kv) : null;
  }

  /**
   * How many candidates stand between `after` and `before` (create revisions), from the member's local
   * state. Keys only, not `count_only`: etcd's count is the whole range's, before the revision filters.
   */
  async between(after: bigint, before: bigint): Promise<number> {
    const range = {
      key: this.prefix,
      range_end: this.rangeEnd,
      min_create_revision: (after + 1n).toString(),
      max_create_revision: (before - 1n).toString(),
      keys_only: true,
      serializable: true,
    };
    return (await this.#transport.range(range, 'count candidates between')).kvs.length;
  }

  /** The range of the candidate next in line after `token`: the oldest key created after it. */
  nextRange(token: bigint): etcd.IRangeRequest {
    return {
      key: this.prefix,
      range_end: this.rangeEnd,
      sort_target: 'Create',
      sort_order: 'Ascend',
      min_create_revision: (token + 1n).toString(),
      limit: 1,
    };
  }

  /** Every candidate, oldest first (the queue). */
  async all(): Promise<{ candidates: Candidate[]; revision: bigint }> {
    const res = await this.#transport.range(queueRange(this), 'read election candidates');
    return { candidates: res.kvs.map(decodeCandidate), revision: toBigInt(res.header.revision) };
  }

  /** One key, or null. */
  async get(key: string): Promise<{ candidate: Candidate | null; revision: bigint }> {
    const res = await this.#transport.range({ key: Buffer.from(key) }, 'read candidate key');
    const kv = res.kvs[0];
    return { candidate: kv ? decodeCandidate(kv) : null, revision: toBigInt(res.header.revision) };
  }
}
