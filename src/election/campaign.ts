import { abortReason, delay, linkSignals } from '../core/abort.js';
import { Backoff } from '../core/backoff.js';
import { randomOf, type Clock } from '../core/clock.js';
import type { Semaphore } from '../core/semaphore.js';
import { LockedError } from '../errors.js';
import type { Lease } from '../session/lease.js';
import type { Session } from '../session/session.js';
import { classify } from '../transport/classify.js';
import { candidateKey } from '../transport/keys.js';
import type { Transport } from '../transport/transport.js';
import type { WatchHub } from '../transport/watch-hub.js';
import type { Joined } from './campaign-options.js';
import type { CandidateReads, Position } from './candidates.js';
import { deleteIf, fencedTxn, keyOnLease } from './guarded-txn.js';
import { publishedRank, rankKey, type RankSnapshot, type RankWrite } from './rank.js';
import { makeWay } from './step-aside.js';
import { takeTurn, type TurnCandidate, type TurnContext, type TurnOutcome, type TurnStart } from './take-over.js';
import type { TermConfirmations } from './term-confirmations.js';
import { Term } from './term.js';
import type { LeaderTracker, TrackerRegistry } from './tracker-registry.js';
import type { Follow } from './wait-on-view.js';

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

/** What a campaign needs of its election. */
export interface Campaigning {
  readonly name: string;
  readonly deps: ElectionDeps;
  readonly session: Session;
  readonly reads: CandidateReads;
  /** Subscribes to the election's shared leader view (for a campaign given a tracker). */
  readonly follow: Follow;
}

/** One campaign call, as validated by `Election.campaign`. */
export interface CampaignRequest {
  readonly value: string;
  readonly signal: AbortSignal | undefined;
  /**
   * The caller's tracker: wait on the election's shared leader watch rather than on the predecessor's
   * key, and the term names its heir from that view when it resigns.
   */
  readonly tracker: LeaderTracker | undefined;
  /** Hears where each join found the queue. */
  readonly onJoined: ((joined: Joined) => void) | undefined;
  readonly priority: number;
  readonly preemptAfterMs: number;
}

/** Attempts of one `campaign` call before a lost lease or a transient failure is the caller's. */
const CAMPAIGN_ATTEMPTS = 3;

/**
 * A lease etcd reports gone is ended (so the session grants a new one) and
 * the campaign starts again on the new lease; a transient failure (a request
 * deadline, an unreachable member) is retried after a jittered backoff. Both
 * at most `CAMPAIGN_ATTEMPTS` times in all, then the error is the caller's.
 */
export async function campaignWithRetry(c: Campaigning, request: CampaignRequest): Promise<Term> {
  const { signal } = request;
  const backoff = new Backoff(100, 1000, randomOf(c.deps.clock));
  for (let attempt = 1; ; attempt++) {
    // Admission first, while a waiting campaign holds little: its slot is given back after the join.
    const release = await c.deps.admission.acquire(signal);
    let lease: Lease | null = null;
    try {
      lease = await c.session.lease(signal);
      return await campaignOn(c, request, lease, release);
    } catch (err) {
      release();
      if (signal?.aborted) throw err;
      const error = classify(err, 'campaign');
      if (attempt >= CAMPAIGN_ATTEMPTS) {
        // The last join may have applied with its reply lost (earlier ones the next join cleans up).
        if (error.transient && lease?.isLive()) await leaveOwnLease(c, lease, request).catch(() => undefined);
        throw error;
      }
      if (error.code === 'LEASE_LOST') lease?.end('etcd reports the lease not found');
      else if (error.transient) await delay(backoff.next(), signal, c.deps.clock);
      else throw error;
    }
  }
}

/**
 * One attempt on `lease`, straight through: join (one txn that creates our key and reads our place),
 * wait for our turn and take it (take-over.ts), then the term. A turn that steps aside for a
 * better-ranked candidate (rank.ts) leaves and joins again at the back, keeping its rank. Every
 * failure is the caller's to retry, with our key (and rank key) removed first. `admitted` gives back
 * the admission slot held for the first join.
 */
async function campaignOn(c: Campaigning, request: CampaignRequest, lease: Lease, admitted: () => void): Promise<Term> {
  const { value, signal, tracker, onJoined, priority, preemptAfterMs } = request;
  const key = candidateKey(c.name, lease.id);
  // Linking costs an AbortController: only when the caller gave a signal of its own.
  const { signal: scope, dispose } = signal
    ? linkSignals([lease.signal, signal])
    : { signal: lease.signal, dispose: () => undefined };
  let admit = admitted;
  let since: bigint | null = null; // our first join's revision: our place among equal priorities
  let published: string | null = null; // our rank key, once written
  try {
    for (;;) {
      const provenUntil = lease.provenUntil(); // before the join, which reads our key: the heir's first proof
      const rank = publishedRank(c.name, { priority, preemptAfterMs }, lease.id, since);
      const joined = await join(c, key, value, lease.id, rank).finally(admit);
      admit = () => undefined; // a join again after a step-aside is admitted too (below): many may make way at once
      const { token } = joined;
      since ??= token;
      published = rank?.key ?? published;
      onJoined?.({ key, token, first: joined.position.first });
      try {
        const self = { lease, key, token, rank: { priority, since }, preemptAfterMs };
        const start = { ...joined, provenUntil, trail: { waited: false } };
        const outcome = await keepingPlace(c, turnContext(c, tracker), self, start, scope);
        if (outcome.kind === 'step-aside') {
          await leave(c, key, token, null); // our rank key stays: the next join rewrites it, with `since`
          if (outcome.first) await makeWay(c.reads, c.deps.transport, outcome.outranker, token).catch(() => undefined);
          admit = await c.deps.admission.acquire(scope);
          continue;
        }
        const { transport, hub, clock, confirmations } = c.deps;
        const deps = { transport, hub, reads: c.reads, clock, confirmations, ...(tracker ? { view: tracker } : {}) };
        const term = new Term(
          deps,
          { key, token, value, lease, rank: { priority, key: published, preemptAfterMs } },
          outcome.turn,
        );
        if (!term.isValid()) throw new LockedError('LEASE_LOST', `lease ${lease.hex} expired while campaigning`);
        return term;
      } catch (err) {
        await leave(c, key, token, published).catch(() => undefined);
        throw err;
      }
    }
  } finally {
    dispose();
  }
}

/**
 * The turn (take-over.ts), with a transient failure (a request deadline, an unreachable member)
 * retried after a jittered backoff, our key kept: leaving the queue for it would cost the candidate
 * its place and wake its successor. The place is read again (the failed step may have applied), and
 * the turn's trail says whether it waited before (then a resignation may name it). Our key's loss,
 * a lost lease, a non-transient error or an abort end the campaign's attempt (the caller leaves the
 * queue).
 */
async function keepingPlace(
  c: Campaigning,
  ctx: TurnContext,
  self: TurnCandidate,
  start: TurnStart,
  scope: AbortSignal,
): Promise<TurnOutcome> {
  const backoff = new Backoff(50, 2000, randomOf(c.deps.clock));
  for (let from = start; ; from = { ...from, position: null }) {
    try {
      const outcome = await takeTurn(ctx, self, from, scope);
      if (scope.aborted) throw abortReason(scope);
      return outcome;
    } catch (err) {
      if (scope.aborted) throw abortReason(scope);
      const error = classify(err, 'take turn');
      if (!error.transient || error.code === 'LEADERSHIP_LOST' || error.code === 'LEASE_LOST') throw error;
      await delay(backoff.next(), scope, c.deps.clock);
    }
  }
}

function turnContext(c: Campaigning, tracker: LeaderTracker | undefined): TurnContext {
  const { transport, hub, clock, driftRate, confirmations, admission } = c.deps;
  return {
    transport,
    reads: c.reads,
    hub,
    clock,
    driftRate,
    admission,
    confirmations,
    share: (feed) => c.deps.trackers.share(c.name, feed),
    ...(tracker ? { follow: c.follow } : {}),
  };
}

/**
 * Creates the candidate key and returns its create revision, with where it
 * stands at that revision. A key left by an earlier campaign on the same
 * lease is deleted and created anew (where Go's Campaign would resume it),
 * so that every term gets a token strictly greater than the last.
 */
async function join(
  c: Campaigning,
  key: string,
  value: string,
  leaseId: bigint,
  rank: RankWrite | null,
): Promise<{ token: bigint; position: Position; ranks: RankSnapshot }> {
  for (let attempt = 1; ; attempt++) {
    const joined = await c.reads.join(key, value, leaseId, rank);
    if (joined.token !== null) return joined;
    if (!joined.existing || attempt >= 3) throw new LockedError('ETCD', `candidate key ${key} could not be created`);
    await leave(c, key, joined.existing.token, null);
  }
}

/** Removes our key if it still stands with `token`, and our rank key (`rankKeyName`) with it. */
async function leave(c: Campaigning, key: string, token: bigint, rankKeyName: string | null): Promise<void> {
  const ops = [key, ...(rankKeyName ? [rankKeyName] : [])].map((k) => ({
    request_delete_range: { key: Buffer.from(k) },
  }));
  await fencedTxn(c.deps.transport, key, token, ops, 'leave election', {});
}

/** Deletes this election's key of `lease`, whatever its revision (a key of that name on our lease is ours), and our rank key. */
async function leaveOwnLease(c: Campaigning, lease: Lease, request: CampaignRequest): Promise<void> {
  const key = candidateKey(c.name, lease.id);
  await deleteIf(c.deps.transport, key, keyOnLease(key, lease.id), 'leave election');
  if (request.priority !== 0) {
    const own = rankKey(c.name, request.priority, lease.id);
    await deleteIf(c.deps.transport, own, keyOnLease(own, lease.id), 'leave election');
  }
}
