import type * as etcd from 'etcd3';
import { LockedError } from '../errors.js';
import { prefixEnd, toBigInt } from '../transport/keys.js';
import type { Transport } from '../transport/transport.js';

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
  async position(token: bigint): Promise<Position> {
    const res = await this.#transport.txn(
      { compare: [], success: this.#placeOps(1, token - 1n), failure: [] },
      'read predecessor',
    );
    const older = res.responses[0]?.response_range.kvs[0];
    return this.#decodePlace(older, res.responses[1], toBigInt(res.header.revision));
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
  ): Promise<{ token: bigint; position: Position } | { token: null; existing: Candidate | null }> {
    const keyBuf = Buffer.from(key);
    const res = await this.#transport.txn(
      {
        compare: [{ key: keyBuf, target: 'Create', result: 'Equal', create_revision: '0' }],
        success: [
          { request_put: { key: keyBuf, value: Buffer.from(value), lease: leaseId.toString() } },
          ...this.#placeOps(2),
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
    const [own, older] = res.responses[1]?.response_range.kvs ?? [];
    if (!own || own.key.toString() !== key || toBigInt(own.create_revision) !== token) {
      throw new LockedError('ETCD', `candidate key ${key} was not the newest key of its election after its creation`);
    }
    return { token, position: this.#decodePlace(older, res.responses[2], token) };
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
    | { claimed: true; previous: string | null; revision: bigint }
    | { claimed: false; own: Candidate | null; position: Position }
  > {
    const res = await this.#transport.txn(
      {
        compare: this.#firstCompares(key, token),
        success: [{ request_put: { key: Buffer.from(recordKey), value: Buffer.from(record), prev_kv: true } }],
        failure: [{ request_range: { key: Buffer.from(key) } }, ...this.#placeOps(1, token - 1n)],
      },
      'claim term',
    );
    if (res.succeeded) {
      const prev = res.responses[0]?.response_put.prev_kv;
      return { claimed: true, previous: prev ? prev.value.toString() : null, revision: toBigInt(res.header.revision) };
    }
    return { claimed: false, ...this.#decodeStanding(res) };
  }

  /**
   * The compares of a candidate that is first: its key stands with `token`,
   * and nothing is older — a compare over the whole prefix, every key's create
   * revision ≥ `token` (etcd checks each key of a range compare).
   */
  #firstCompares(key: string, token: bigint): etcd.ICompare[] {
    return [
      { key: Buffer.from(key), target: 'Create', result: 'Equal', create_revision: token.toString() },
      {
        key: this.prefix,
        range_end: this.rangeEnd,
        target: 'Create',
        result: 'Greater',
        create_revision: (token - 1n).toString(),
      },
    ];
  }

  /** A failed claim's or confirmation's answer: our own key (or null), and our place. */
  #decodeStanding(res: etcd.ITxnResponse): { own: Candidate | null; position: Position } {
    const own = res.responses[0]?.response_range.kvs[0];
    const older = res.responses[1]?.response_range.kvs[0];
    return {
      own: own ? decodeCandidate(own) : null,
      position: this.#decodePlace(older, res.responses[2], toBigInt(res.header.revision)),
    };
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
    | { standing: true; record: string | null; revision: bigint }
    | { standing: false; own: Candidate | null; position: Position }
  > {
    const res = await this.#transport.txn(
      {
        compare: this.#firstCompares(key, token),
        success: [{ request_range: { key: Buffer.from(recordKey) } }],
        failure: [{ request_range: { key: Buffer.from(key) } }, ...this.#placeOps(1, token - 1n)],
      },
      'confirm first',
    );
    if (res.succeeded) {
      const kv = res.responses[0]?.response_range.kvs[0];
      return { standing: true, record: kv ? kv.value.toString() : null, revision: toBigInt(res.header.revision) };
    }
    return { standing: false, ...this.#decodeStanding(res) };
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

  /**
   * The two ranges that place a candidate: the newest `newest` keys created
   * at or before `maxCreateRevision` (any, if omitted), and the first key.
   */
  #placeOps(newest: number, maxCreateRevision?: bigint): etcd.IRequestOp[] {
    const upTo = maxCreateRevision === undefined ? {} : { max_create_revision: maxCreateRevision.toString() };
    const range = { key: this.prefix, range_end: this.rangeEnd, sort_target: 'Create' as const };
    return [
      { request_range: { ...range, sort_order: 'Descend', limit: newest, ...upTo } },
      { request_range: { ...range, sort_order: 'Ascend', limit: 1 } },
    ];
  }

  #decodePlace(older: etcd.IKeyValue | undefined, firstOp: etcd.IResponseOp | undefined, revision: bigint): Position {
    const first = firstOp?.response_range.kvs[0];
    return {
      older: older ? decodeCandidate(older) : null,
      first: first ? decodeCandidate(first) : null,
      revision,
    };
  }

  /** Every candidate, oldest first (the queue). */
  async all(): Promise<{ candidates: Candidate[]; revision: bigint }> {
    const res = await this.#transport.range(
      { key: this.prefix, range_end: this.rangeEnd, sort_target: 'Create', sort_order: 'Ascend' },
      'read election candidates',
    );
    return { candidates: res.kvs.map(decodeCandidate), revision: toBigInt(res.header.revision) };
  }

  /** One key, or null. */
  async get(key: string): Promise<{ candidate: Candidate | null; revision: bigint }> {
    const res = await this.#transport.range({ key: Buffer.from(key) }, 'read candidate key');
    const kv = res.kvs[0];
    return { candidate: kv ? decodeCandidate(kv) : null, revision: toBigInt(res.header.revision) };
  }
}
