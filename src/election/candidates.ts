import type * as etcd from 'etcd3';
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

/** The read-side of an election's key range `<name>/`. Every read returns the header revision it saw. */
export class CandidateReads {
  readonly prefix: Buffer;
  readonly rangeEnd: Buffer;
  readonly #transport: Transport;

  constructor(transport: Transport, name: string) {
    this.#transport = transport;
    this.prefix = Buffer.from(`${name}/`);
    this.rangeEnd = prefixEnd(this.prefix);
  }

  /** The leader: the key with the smallest create revision (or null). */
  async first(): Promise<{ candidate: Candidate | null; revision: bigint }> {
    const res = await this.#transport.range(
      { key: this.prefix, range_end: this.rangeEnd, sort_target: 'Create', sort_order: 'Ascend', limit: 1 },
      'read election leader',
    );
    const kv = res.kvs[0];
    return { candidate: kv ? decodeCandidate(kv) : null, revision: toBigInt(res.header.revision) };
  }

  /**
   * Where the candidate with `token` stands, in one read (a compare-free txn,
   * so both ranges see one revision): its nearest older candidate — the largest
   * create revision below `token`, the key to wait on (port of waitDeletes'
   * read) — and the first candidate, which is the caller itself when nothing is older.
   */
  async position(token: bigint): Promise<{ older: Candidate | null; first: Candidate | null; revision: bigint }> {
    const res = await this.#transport.txn(
      {
        compare: [],
        success: [
          {
            request_range: {
              key: this.prefix,
              range_end: this.rangeEnd,
              sort_target: 'Create',
              sort_order: 'Descend',
              limit: 1,
              max_create_revision: (token - 1n).toString(),
            },
          },
          {
            request_range: {
              key: this.prefix,
              range_end: this.rangeEnd,
              sort_target: 'Create',
              sort_order: 'Ascend',
              limit: 1,
            },
          },
        ],
        failure: [],
      },
      'read predecessor',
    );
    const older = res.responses[0]?.response_range.kvs[0];
    const first = res.responses[1]?.response_range.kvs[0];
    return {
      older: older ? decodeCandidate(older) : null,
      first: first ? decodeCandidate(first) : null,
      revision: toBigInt(res.header.revision),
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
