import type * as etcd from 'etcd3';
import type { Deadline, Lease } from '../session/lease.js';
import type { Session } from '../session/session.js';
import { rethrowLater } from '../core/listeners.js';
import { toBigInt } from '../transport/keys.js';
import type { Transport } from '../transport/transport.js';
import { decodeCandidate, type Candidate, type CandidateReads } from './candidates.js';
import { decodeRanks, rankReadOp, type RankEntry } from './rank.js';

/** What the confirmations need of a key they confirm: a leading term's, or a waiting heir's (heir-proof.ts). */
export interface ConfirmedKey {
  readonly key: string;
  readonly token: bigint;
  readonly lease: Lease;
  /**
   * For a leading term: the prefix of its election, so that the same read
   * also returns the candidate next in line (the heir its resignation names).
   */
  readonly queue?: Pick<CandidateReads, 'nextRange' | 'name'>;
  /**
   * A linearizable read sent after `until` was taken found the key with our
   * token; `next` is the candidate next in line at that read, and `ranks` the
   * election's highest rank keys (rank.ts), when `queue` is set.
   */
  confirmed(until: Deadline, next: Candidate | null, ranks: readonly RankEntry[]): void;
  /** A linearizable read found the key gone or re-created. */
  lost(reason: string): void;
  /** Steps down and tells etcd (graceful: the successor may take over at once); nothing for a waiting heir. */
  resign(): Promise<void>;
}

/** etcd refuses transactions of more than 128 operations by default (--max-txn-ops); a key takes up to three. */
const KEYS_PER_READ = 40;

/**
 * A term's deadline grows only with proof that its key still stands: after
 * each renewal of the session's lease, the keys of the session's leading terms
 * are read in one linearizable transaction, and each term found there moves its
 * deadline to the lease's, as taken just before the read was sent. The same
 * read returns each term's next candidate (its heir, named when it resigns)
 * and confirms the keys of the session's waiting heirs (heir-proof.ts), which
 * may then lead on the record that names them without a read.
 *
 * Why: a keepalive proves the lease alive, not the key. etcd can revoke a lease
 * early (etcd-io/etcd#15247) and then keep acknowledging keepalives on a member
 * that has not applied the revocation yet (#13915); a deadline extended by such
 * an acknowledgement could outlast the key by more than a TTL. With this rule a
 * term's deadline rests on a keepalive sent before a read that saw its key,
 * hence before the key's deletion: it ends less than one TTL after the deletion,
 * which is what a successor waits out (term-record.ts).
 *
 * One per session. Closing the session resigns its terms first (marked as
 * graceful in the term record), then the session revokes its lease.
 */
export class TermConfirmations {
  readonly #session: Session;
  readonly #transport: Transport;
  readonly #onError: (err: unknown) => void;
  readonly #terms = new Set<ConfirmedKey>();
  #unsubscribe: (() => void)[] = [];
  /** The confirmation on the wire, if any. */
  #inFlight: Promise<void> | null = null;
  #again = false;

  /** `onError`: where an exception of a key's own callbacks goes (`confirmed`, `lost`: a bug, never etcd's). */
  constructor(session: Session, transport: Transport, onError: (err: unknown) => void = rethrowLater) {
    this.#onError = onError;
    this.#session = session;
    this.#transport = transport;
  }

  /** Confirms `term` after each renewal until the returned function is called (when the term ends). */
  add(term: ConfirmedKey): () => void {
    this.#terms.add(term);
    if (this.#unsubscribe.length === 0) {
      this.#unsubscribe.push(
        this.#session.renewed.add((lease) => this.#onRenewed(lease)),
        this.#session.beforeClose(() => this.#resignAll()),
      );
    }
    return () => {
      this.#terms.delete(term);
      if (this.#terms.size === 0) for (const off of this.#unsubscribe.splice(0)) off();
    };
  }

  get size(): number {
    return this.#terms.size;
  }

  /**
   * The confirmation on the wire (settles when its answer has been applied; never rejects), or null:
   * a term that resigns and knew no one after it waits for this rather than read who is next itself.
   */
  inFlight(): Promise<void> | null {
    return this.#inFlight;
  }

  #onRenewed(lease: Lease): void {
    if (this.#inFlight) {
      this.#again = true;
      return;
    }
    // Caught here, so that `inFlight()` never rejects: a resignation that waits on it must go out regardless.
    this.#inFlight = this.#confirm(lease)
      .catch((err: unknown) => void this.#onError(err))
      .finally(() => {
        this.#inFlight = null;
        if (this.#again) {
          this.#again = false;
          this.#onRenewed(lease);
        }
      });
  }

  async #confirm(lease: Lease): Promise<void> {
    const terms = [...this.#terms].filter((t) => t.lease === lease);
    for (let i = 0; i < terms.length; i += KEYS_PER_READ) {
      const batch = terms.slice(i, i + KEYS_PER_READ);
      const until = lease.provenUntil();
      let res;
      try {
        res = await this.#transport.txn(
          { compare: [], success: batch.flatMap((t) => readOps(t)), failure: [] },
          'confirm leader keys',
        );
      } catch {
        return; // unconfirmed terms end at their deadline; the next renewal tries again
      }
      let op = 0;
      for (const term of batch) {
        const kv = res.responses[op++]?.response_range.kvs[0];
        const nextKv = term.queue ? res.responses[op++]?.response_range.kvs[0] : undefined;
        const ranks = term.queue ? decodeRanks(term.queue.name, res.responses[op++], 0n).entries : [];
        if (kv && toBigInt(kv.create_revision) === term.token) {
          term.confirmed(until, nextKv ? decodeCandidate(nextKv) : null, ranks);
        } else term.lost(kv ? `leader key ${term.key} was re-created` : `leader key ${term.key} is gone`);
      }
    }
  }

  async #resignAll(): Promise<void> {
    await Promise.all([...this.#terms].map((t) => t.resign().catch(() => undefined)));
  }
}

/** The key itself, and for a term the candidate next in line after it and the election's highest rank keys. */
function readOps(t: ConfirmedKey): etcd.IRequestOp[] {
  const own: etcd.IRequestOp = { request_range: { key: Buffer.from(t.key) } };
  return t.queue ? [own, { request_range: t.queue.nextRange(t.token) }, rankReadOp(t.queue.name)] : [own];
}
