import { abortReason, anySignal } from '../core/abort.js';
import { LockedError, isLockedError } from '../errors.js';
import type { Lease } from '../session/lease.js';
import type { Session } from '../session/session.js';
import { candidateKey, toBigInt } from '../transport/keys.js';
import type { Transport } from '../transport/transport.js';
import type { WatchHub } from '../transport/watch-hub.js';
import { CandidateReads, decodeCandidate, type Candidate } from './candidates.js';
import { LeaderTracker } from './leader-tracker.js';
import { Term } from './term.js';
import { waitForPredecessors } from './wait-predecessors.js';

export interface ElectionDeps {
  readonly transport: Transport;
  readonly hub: WatchHub;
}

/**
 * One election on etcd, in the key layout of etcd's concurrency.Election (so
 * `etcdctl elect` and Go programs queue with us): the election `name` is a key
 * prefix `name/`, a candidate's key is `name/<lease hex>` on its session's
 * lease, and the leader is the candidate with the smallest create revision.
 */
export class Election {
  readonly name: string;
  readonly #session: Session;
  readonly #deps: ElectionDeps;
  readonly #reads: CandidateReads;

  constructor(deps: ElectionDeps, session: Session, name: string) {
    this.#deps = deps;
    this.#session = session;
    this.name = name;
    this.#reads = new CandidateReads(deps.transport, name);
  }

  get session(): Session {
    return this.#session;
  }

  /**
   * Joins the queue and resolves once this process leads, with the term.
   * Rejects when `signal` aborts, when the session's lease is lost (LEASE_LOST),
   * or on a non-transient error; in every rejection the candidate key is
   * removed (best effort) so no stale entry blocks the queue.
   */
  async campaign(value: string, options: { signal?: AbortSignal } = {}): Promise<Term> {
    const { signal } = options;
    const claims = this.#session.elections;
    if (claims.has(this.name)) {
      throw new LockedError(
        'INVALID_ARGUMENT',
        `this session already campaigns in or leads ${JSON.stringify(this.name)}; a second candidate needs its own session`,
      );
    }
    claims.add(this.name);
    let term: Term | undefined;
    try {
      term = await this.#campaignWithRetry(value, signal);
      return term;
    } finally {
      if (!term || term.signal.aborted) claims.delete(this.name);
      else term.signal.addEventListener('abort', () => claims.delete(this.name), { once: true });
    }
  }

  async #campaignWithRetry(value: string, signal: AbortSignal | undefined): Promise<Term> {
    for (let attempt = 1; ; attempt++) {
      const lease = await this.#session.lease(signal);
      try {
        return await this.#campaignOn(lease, value, signal);
      } catch (err) {
        // etcd says the lease is gone (revoked or expired before our keepalive told us):
        // end it so the session grants a new one, and try again on that.
        if (!isLockedError(err, 'LEASE_LOST') || attempt >= 3 || signal?.aborted) throw err;
        lease.end('etcd reports the lease not found');
      }
    }
  }

  async #campaignOn(lease: Lease, value: string, signal: AbortSignal | undefined): Promise<Term> {
    const scope = anySignal([lease.signal, signal]);
    const key = candidateKey(this.name, lease.id);
    const token = await this.#join(key, value, lease.id);
    try {
      // The read that found no older candidate also shows whether our own key still stands first
      // (it is gone if the lease expired or someone deleted it): never assume leadership from a delete event.
      const confirm = await waitForPredecessors(this.#reads, this.#deps.hub, token, scope);
      if (scope.aborted) throw abortReason(scope);
      if (!confirm.first || confirm.first.key !== key || confirm.first.token !== token) {
        throw new LockedError('LEADERSHIP_LOST', `candidate key ${key} disappeared while campaigning`);
      }
      const term = new Term(
        { ...this.#deps, reads: this.#reads },
        key,
        token,
        confirm.first.value,
        lease,
        confirm.revision + 1n,
      );
      if (!term.isValid()) throw new LockedError('LEASE_LOST', `lease ${lease.hex} expired while campaigning`);
      return term;
    } catch (err) {
      await this.#leave(key, token).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Creates the candidate key and returns its create revision. A key left by
   * an earlier campaign on the same lease is deleted and created anew (where
   * Go's Campaign would resume it), so that every term gets a token strictly
   * greater than the last.
   */
  async #join(key: string, value: string, leaseId: bigint): Promise<bigint> {
    const keyBuf = Buffer.from(key);
    for (let attempt = 1; ; attempt++) {
      const res = await this.#deps.transport.txn(
        {
          compare: [{ key: keyBuf, target: 'Create', result: 'Equal', create_revision: '0' }],
          success: [{ request_put: { key: keyBuf, value: Buffer.from(value), lease: leaseId.toString() } }],
          failure: [{ request_range: { key: keyBuf } }],
        },
        'create candidate key',
      );
      if (res.succeeded) return toBigInt(res.header.revision);
      const kv = res.responses[0]?.response_range.kvs[0];
      if (!kv || attempt >= 3) throw new LockedError('ETCD', `candidate key ${key} could not be created`);
      await this.#leave(key, decodeCandidate(kv).token);
    }
  }

  async #leave(key: string, token: bigint): Promise<void> {
    const keyBuf = Buffer.from(key);
    await this.#deps.transport.txn(
      {
        compare: [{ key: keyBuf, target: 'Create', result: 'Equal', create_revision: token.toString() }],
        success: [{ request_delete_range: { key: keyBuf } }],
        failure: [],
      },
      'leave election',
    );
  }

  /** The current leader from a fresh read, or null. */
  async leader(): Promise<Candidate | null> {
    return (await this.#reads.first()).candidate;
  }

  /** Every candidate, leader first. */
  async candidates(): Promise<Candidate[]> {
    return (await this.#reads.all()).candidates;
  }

  /**
   * Follows the leader without campaigning. Calls `onLeader` on every change
   * (null when nobody leads), `onError` on failures it recovers from by itself.
   * Returns the tracker; `close()` it to stop.
   */
  track(
    onLeader: (leader: Candidate | null, revision: bigint) => void,
    onError: (err: LockedError) => void = () => undefined,
  ): LeaderTracker {
    return new LeaderTracker(this.#reads, this.#deps.hub, onLeader, onError);
  }

  /** Async-iterator form of `track`: yields the leader (or null) on each change until `signal` aborts. */
  async *observe(options: { signal?: AbortSignal } = {}): AsyncGenerator<Candidate | null, void, undefined> {
    const { signal } = options;
    const queue: (Candidate | null)[] = [];
    let wake: (() => void) | null = null;
    const notify = (): void => {
      wake?.();
      wake = null;
    };
    const tracker = this.track((leader) => {
      queue.push(leader);
      notify();
    });
    signal?.addEventListener('abort', notify, { once: true });
    try {
      while (!signal?.aborted) {
        const next = queue.shift();
        if (next !== undefined) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
      }
    } finally {
      signal?.removeEventListener('abort', notify);
      tracker.close();
    }
  }

  /**
   * Runs `fn` only while leading (the `using(resource, fn(signal))` shape):
   * campaigns, calls `fn(term.signal, term)`, resigns when `fn` settles. The
   * signal aborts at the term's validity deadline, before the lease can expire
   * on etcd, or at any other loss of leadership; `fn` must stop its work then.
   */
  async withLeadership<T>(
    value: string,
    fn: (signal: AbortSignal, term: Term) => Promise<T> | T,
    options: { signal?: AbortSignal } = {},
  ): Promise<T> {
    const term = await this.campaign(value, options);
    const onAbort = (): void => term.end('aborted by the caller');
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await fn(term.signal, term);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      await term.resign().catch(() => undefined);
    }
  }
}
