import { LockedError } from '../errors.js';
import { describe } from '../core/validate.js';
import { renewIntervalMs } from '../session/deadline.js';
import type { Session } from '../session/session.js';
import { campaignWithRetry, type Campaigning, type ElectionDeps } from './campaign.js';
import { checkCampaign, onJoinedOf, type CampaignOptions } from './campaign-options.js';
import { CandidateReads, type Candidate } from './candidates.js';
import { guardedDelete } from './guarded-txn.js';
import { byRank, DEFAULT_PREEMPT_AFTER_MS } from './rank.js';
import type { LeaderTracker } from './tracker-registry.js';
import { observeLeader } from './observe.js';
import type { Term } from './term.js';

export type { CampaignOptions };

export type { ElectionDeps };

/** A candidate with its priority (rank.ts): `since` is the revision of its first join, its place among equals. */
export interface QueuedCandidate extends Candidate {
  readonly priority: number;
  readonly since: bigint;
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
    const { signal, tracker, priority = 0, preemptAfterMs = DEFAULT_PREEMPT_AFTER_MS } = options;
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
      const candidate = { value, signal, tracker, onJoined: onJoinedOf(options), priority, preemptAfterMs };
      term = await campaignWithRetry(this.#campaigning(), candidate);
      return term;
    } finally {
      if (!term) claims.delete(this.name);
      else term.onEnd(() => claims.delete(this.name));
    }
  }

  #campaigning(): Campaigning {
    return {
      name: this.name,
      deps: this.#deps,
      session: this.#session,
      reads: this.#reads,
      follow: (onLeader, onError) => this.track(onLeader, onError),
    };
  }

  /** The current leader from a fresh read, or null. */
  async leader(): Promise<Candidate | null> {
    return (await this.#reads.first()).candidate;
  }

  /** Every candidate, leader first, then in etcd's queue order (create revision). */
  async candidates(): Promise<Candidate[]> {
    return (await this.#reads.all()).candidates;
  }

  /** The priority `candidate` published (rank.ts), from one read of the election's rank keys; 0 if none. */
  async priorityOf(candidate: Pick<Candidate, 'leaseId'>): Promise<number> {
    const { ranks } = await this.#reads.ranked();
    return ranks.entries.find((r) => r.leaseId === candidate.leaseId)?.priority ?? 0;
  }

  /**
   * Every candidate with its priority (docs/DESIGN.md, "Priority"), from one read: the leader first,
   * then the waiting candidates in the order priorities serve them — highest first, equal ones by
   * first join. Candidates that set no priority (Go, `etcdctl elect`, locked at 0) count as 0.
   */
  async queue(): Promise<QueuedCandidate[]> {
    const [leader, ...waiting] = await this.#reads.rankedQueue();
    if (!leader) return [];
    waiting.sort(byRank);
    return [leader, ...waiting].map((r) => ({ ...r.candidate, priority: r.priority, since: r.since }));
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
