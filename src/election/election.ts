import { abortReason, delay, linkSignals } from '../core/abort.js';
import { Backoff } from '../core/backoff.js';
import { randomOf, type Clock } from '../core/clock.js';
import type { Semaphore } from '../core/semaphore.js';
import { classify } from '../transport/classify.js';
import { LockedError } from '../errors.js';
import { describe } from '../core/validate.js';
import type { Lease } from '../session/lease.js';
import { renewIntervalMs } from '../session/deadline.js';
import type { Session } from '../session/session.js';
import { candidateKey } from '../transport/keys.js';
import type { Transport } from '../transport/transport.js';
import type { WatchHub } from '../transport/watch-hub.js';
import { checkCampaign, onJoinedOf, type CampaignOptions, type Joined } from './campaign-options.js';
import { CandidateReads, type Candidate, type Position } from './candidates.js';
import { deleteIf, guardedDelete, keyOnLease } from './guarded-txn.js';
import type { LeaderTracker, TrackerRegistry } from './tracker-registry.js';
import { observeLeader } from './observe.js';
import { takeTurn } from './take-over.js';
import type { TermConfirmations } from './term-confirmations.js';
import { Term } from './term.js';

/** One attempt of a campaign, on `lease`. */
interface Attempt {
  readonly lease: Lease;
  readonly value: string;
  readonly signal: AbortSignal | undefined;
  /** Gives back the admission slot held for the join; called once joined (or failed to). */
  readonly admitted: () => void;
  /**
   * The caller's tracker: wait on the election's shared leader watch rather than on the predecessor's
   * key, and the term names its heir from that view when it resigns.
   */
  readonly tracker: LeaderTracker | undefined;
  /** Hears where the join found the queue. */
  readonly onJoined: ((joined: Joined) => void) | undefined;
}

/** Attempts of one `campaign` call before a lost lease or a transient failure is the caller's. */
const CAMPAIGN_ATTEMPTS = 3;

export type { CampaignOptions };

export interface ElectionDeps {
  readonly transport: Transport;
  readonly hub: WatchHub;
  /** Bounds the joins in flight across a client's elections (admission of campaigns). */
  readonly admission: Semaphore;
  /** Leader watches shared by the client's subscribers of one election. */
  readonly trackers: TrackerRegistry;
  readonly clock: Clock;
  /** Clock drift bound: a successor's hold-off is measured with it (term-record.ts). */
  readonly driftRate: number;
  /** The session's leading terms, confirmed after each renewal. */
  readonly confirmations: TermConfirmations;
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

  /** @internal */
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
   * Rejects when `signal` aborts, on a non-transient error, or when a lost
   * lease or a transient failure (etcd unreachable, a request deadline) has
   * repeated three times; in every rejection the candidate key is removed
   * (best effort) so no stale entry blocks the queue. Joins in flight are
   * bounded per client (admission): a campaign may wait for its turn to join.
   */
  async campaign(value: string, options: CampaignOptions = {}): Promise<Term> {
    checkCampaign(value, options);
    const { signal, tracker } = options;
    if (tracker !== undefined && !this.#deps.trackers.follows(tracker, this.name)) {
      throw new LockedError(
        'INVALID_ARGUMENT',
        `campaign: options.tracker must be an open tracker of ${JSON.stringify(this.name)} from this client's election(...).track()`,
      );
    }
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
      term = await this.#campaignWithRetry(value, signal, tracker, onJoinedOf(options));
      return term;
    } finally {
      if (!term) claims.delete(this.name);
      else term.onEnd(() => claims.delete(this.name));
    }
  }

  /**
   * A lease etcd reports gone is ended (so the session grants a new one) and
   * the campaign starts again on the new lease; a transient failure (a request
   * deadline, an unreachable member) is retried after a jittered backoff. Both
   * at most `CAMPAIGN_ATTEMPTS` times in all, then the error is the caller's.
   */
  async #campaignWithRetry(
    value: string,
    signal: AbortSignal | undefined,
    tracker: LeaderTracker | undefined,
    onJoined: ((joined: Joined) => void) | undefined,
  ): Promise<Term> {
    const backoff = new Backoff(100, 1000, randomOf(this.#deps.clock));
    for (let attempt = 1; ; attempt++) {
      // Admission first, while a waiting campaign holds little: its slot is given back after the join.
      const release = await this.#deps.admission.acquire(signal);
      let lease: Lease | null = null;
      try {
        lease = await this.#session.lease(signal);
        return await this.#campaignOn({ lease, value, signal, admitted: release, tracker, onJoined });
      } catch (err) {
        release();
        if (signal?.aborted) throw err;
        const error = classify(err, 'campaign');
        if (attempt >= CAMPAIGN_ATTEMPTS) {
          // The last join may have applied with its reply lost (earlier ones the next join cleans up).
          if (error.transient && lease?.isLive()) await this.#leaveOwnLease(lease).catch(() => undefined);
          throw error;
        }
        if (error.code === 'LEASE_LOST') lease?.end('etcd reports the lease not found');
        else if (error.transient) await delay(backoff.next(), signal, this.#deps.clock);
        else throw error;
      }
    }
  }

  /**
   * One attempt, straight through: join (one txn that creates our key and reads our place), wait for
   * our turn and take it (take-over.ts), then the term. Every failure is the caller's to retry, with
   * our key removed first.
   */
  async #campaignOn({ lease, value, signal, admitted, tracker, onJoined }: Attempt): Promise<Term> {
    const key = candidateKey(this.name, lease.id);
    const provenUntil = lease.provenUntil(); // before the join, which reads our key: the heir's first proof
    const { token, position } = await this.#join(key, value, lease.id).finally(admitted);
    onJoined?.({ key, token, first: position.first });
    // Linking costs an AbortController: only when the caller gave a signal of its own.
    const { signal: scope, dispose } = signal
      ? linkSignals([lease.signal, signal])
      : { signal: lease.signal, dispose: () => undefined };
    try {
      const { transport, hub, clock, driftRate, confirmations, admission } = this.#deps;
      const turn = await takeTurn(
        {
          reads: this.#reads,
          hub,
          clock,
          driftRate,
          admission,
          confirmations,
          ...(tracker ? { follow: (onLeader, onError) => this.track(onLeader, onError) } : {}),
        },
        lease,
        key,
        token,
        { position, provenUntil },
        scope,
      );
      if (scope.aborted) throw abortReason(scope);
      const term = new Term(
        { transport, hub, reads: this.#reads, clock, confirmations, ...(tracker ? { view: tracker } : {}) },
        key,
        token,
        value,
        lease,
        turn,
      );
      if (!term.isValid()) throw new LockedError('LEASE_LOST', `lease ${lease.hex} expired while campaigning`);
      return term;
    } catch (err) {
      await this.#leave(key, token).catch(() => undefined);
      throw err;
    } finally {
      dispose();
    }
  }

  /**
   * Creates the candidate key and returns its create revision, with where it
   * stands at that revision. A key left by an earlier campaign on the same
   * lease is deleted and created anew (where Go's Campaign would resume it),
   * so that every term gets a token strictly greater than the last.
   */
  async #join(key: string, value: string, leaseId: bigint): Promise<{ token: bigint; position: Position }> {
    for (let attempt = 1; ; attempt++) {
      const joined = await this.#reads.join(key, value, leaseId);
      if (joined.token !== null) return joined;
      if (!joined.existing || attempt >= 3) throw new LockedError('ETCD', `candidate key ${key} could not be created`);
      await this.#leave(key, joined.existing.token);
    }
  }

  async #leave(key: string, token: bigint): Promise<void> {
    await guardedDelete(this.#deps.transport, key, token, 'leave election');
  }

  /** Deletes this election's key of `lease`, whatever its revision: a key of that name on our lease is ours. */
  async #leaveOwnLease(lease: Lease): Promise<void> {
    const key = candidateKey(this.name, lease.id);
    await deleteIf(this.#deps.transport, key, keyOnLease(key, lease.id), 'leave election');
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
    return this.#deps.trackers.track(this.name, this.#reads, this.#deps.hub, onLeader, onError);
  }

  /** @internal The leader followed by a watch of its key alone, shared per client (the seed node's view). */
  watchLeader(
    onLeader: (leader: Candidate | null, revision: bigint) => void,
    onError: (err: LockedError) => void,
  ): LeaderTracker {
    const spreadMs = Math.min(5000, renewIntervalMs(this.#session.ttlSec));
    const view = { kind: 'leader-key', spreadMs } as const;
    return this.#deps.trackers.track(this.name, this.#reads, this.#deps.hub, onLeader, onError, view);
  }

  /** Async-iterator form of `track`: yields the leader (or null) on each change until `signal` aborts. */
  observe(options: { signal?: AbortSignal } = {}): AsyncGenerator<Candidate | null, void, undefined> {
    return observeLeader((onLeader) => this.track(onLeader), options.signal);
  }

  /**
   * Removes `candidate`'s key if it still stands with its create revision
   * (a guarded delete: never a newer key of the same name), as an operator's
   * forced step-down (`locked resign`). Resolves whether it did. The removal is
   * not marked as a resignation in the term record: a locked candidate that
   * takes over after it waits out the removed leader's deadline, as after a crash.
   */
  async evict(candidate: Pick<Candidate, 'key' | 'token'>): Promise<boolean> {
    return guardedDelete(this.#deps.transport, candidate.key, candidate.token, 'evict candidate');
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
    options: CampaignOptions = {},
  ): Promise<T> {
    if (typeof fn !== 'function') throw new TypeError(`withLeadership: fn must be a function, got ${describe(fn)}`);
    const term = await this.campaign(value, options);
    const onAbort = (): void => void term.stepDown('aborted by the caller').catch(() => undefined);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      return await fn(term.signal, term);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      await term.resign().catch(() => undefined);
    }
  }
}
