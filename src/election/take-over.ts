import { abortReason, delay } from '../core/abort.js';
import type { Clock } from '../core/clock.js';
import type { Semaphore } from '../core/semaphore.js';
import type { Transport } from '../transport/transport.js';
import { LockedError } from '../errors.js';
import type { Deadline, Lease } from '../session/lease.js';
import type { Candidate, CandidateReads, Position } from './candidates.js';
import { Heir, type HeirDeps } from './heir-proof.js';
import { PreemptRequest } from './preempt-request.js';
import type { Rank, RankSnapshot } from './rank.js';
import { outranked } from './step-aside.js';
import {
  encodeTermRecord,
  holdOffMs,
  inheritedMs,
  isHeir,
  previousHolder,
  termRecordKey,
  type PreviousHolder,
} from './term-record.js';
import { waitOnView, type Follow } from './wait-on-view.js';
import { waitForDelete } from './wait-predecessors.js';

/** What a turn needs of its client; as an heir's (HeirDeps), the hub, the session's confirmations and where it shares. */
export interface TurnContext extends HeirDeps {
  readonly transport: Transport;
  readonly reads: CandidateReads;
  readonly clock: Clock;
  readonly driftRate: number;
  /** Wait on the election's shared view (seed nodes) instead of a watch of the predecessor's key. */
  readonly follow?: Follow;
  /** The client's admission of writes in flight (a burst of campaigns queues here, not at etcd). */
  readonly admission: Semaphore;
}

/** The candidate whose turn it is: its key, create revision and lease, and its rank (rank.ts). */
export interface TurnCandidate {
  readonly lease: Lease;
  readonly key: string;
  readonly token: bigint;
  readonly rank: Rank;
  /** How long it waits behind a leader of lower priority before asking it to hand over (preempt-request.ts). */
  readonly preemptAfterMs: number;
}

/** What a won turn hands to its term. */
export interface Turn {
  /** The term's first deadline: from keepalives sent before the confirmation that made it leader. */
  readonly until: Deadline;
  /** The revision of that confirmation: the term's key watch starts after it. */
  readonly revision: bigint;
  /** How the previous holder ended, and what this turn waited for it (ms). */
  readonly previous: PreviousHolder;
  readonly heldMs: number;
  /** The rank keys as the turn's last read of the queue saw them (whether the term knows of priorities: preemption.ts). */
  readonly ranks: RankSnapshot;
}

/** Where a turn starts: our place as last read (null: read it), the ranks, and our proven deadline before that read. */
export interface TurnStart {
  readonly position: Position | null;
  readonly ranks: RankSnapshot;
  readonly provenUntil: Deadline;
  /**
   * Whether we waited for a predecessor, kept across a turn and its resumptions after a failure
   * (the turn sets it): after a wait, a resignation may name us, so a read precedes any claim.
   */
  readonly trail: { waited: boolean };
}

/** How a turn ends without an error: leading, or stepping aside for a better-ranked candidate (rank.ts). */
export type TurnOutcome =
  | { readonly kind: 'lead'; readonly turn: Turn }
  /** `outranker` stands and outranks us; `first`: we were first, so the candidates between us and it must make way too. */
  | { readonly kind: 'step-aside'; readonly outranker: Candidate; readonly first: boolean };

/**
 * One candidate's way from its place in the queue to leading (the campaign's path after the join, straight through):
 *
 * 1. wait until no older candidate is left: on the predecessor's key (its
 *    deletion), or on the election's shared view;
 * 2. after waiting for a predecessor, find out whether a resignation named us its heir: the candidate
 *    next in line watches the term record with its predecessor's key, in one watch (heir-watch.ts),
 *    and keeps a proven deadline (heir-proof.ts), so the record's event alone elects it; otherwise
 *    one linearizable read shows our key standing, nothing older, and the record. Named, we lead now
 *    — the handover's only step after the resigner's write (term-record.ts says why no claim is
 *    needed). When the read's compares fail it returns our place instead, and we wait again;
 * 3. otherwise claim the term: one guarded write that holds only if our key
 *    still stands and nothing is older, and that replaces the term record; when
 *    it does not hold it returns our place instead, and we wait again (so the
 *    read or the claim is the re-check: never lead from a delete event alone);
 * 4. if the record shows that the previous holder did not resign, wait out the
 *    longest its deadline can last (a TTL, on our clock with drift) and confirm
 *    from a fresh linearizable read that our key still stands.
 *
 * Any failure ends the turn with its error (campaign.ts retries a transient
 * one with our key kept, its trail kept, and `from.position` null: the
 * failed step may have applied, so the place is read again); an abort of
 * `signal` rejects with its reason. A turn steps aside instead of leading when
 * a better-ranked candidate waits (step-aside.ts).
 */
export async function takeTurn(
  ctx: TurnContext,
  candidate: TurnCandidate,
  joined: TurnStart,
  signal: AbortSignal,
): Promise<TurnOutcome> {
  const { lease, key, token } = candidate;
  // Ends what this turn started and did not finish (a wait that lost a race, the heir's watch).
  const scope = new AbortController();
  const onAbort = (): void => scope.abort(abortReason(signal));
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  const made: { heir: Heir | null } = { heir: null }; // at most one per turn, made when first next in line
  const asker = new PreemptRequest(ctx, {
    token,
    priority: candidate.rank.priority,
    preemptAfterMs: candidate.preemptAfterMs,
  });
  const end = (): void => {
    scope.abort(new LockedError('CLOSED', 'turn over'));
    made.heir?.stop();
    asker.stop();
  };
  let outcome: TurnOutcome | undefined;
  try {
    return (outcome = await turn(ctx, candidate, joined, scope.signal, asker, (place, proven) => {
      if (!made.heir && nextInLine(place)) {
        const from = { predecessor: place.older, revision: place.revision + 1n };
        made.heir = new Heir(ctx, termRecordKey(ctx.reads.name), { key, token, lease }, proven, from);
      }
      return made.heir;
    }));
  } finally {
    signal.removeEventListener('abort', onAbort);
    // A won turn's leftovers end after pending I/O, so that the term starts and `select` goes out first (README,
    // "Then and now"). None can act meanwhile: lost waits resolve to no one, a preemption ask would find us first.
    if (outcome?.kind === 'lead') ctx.clock.afterPendingIo(end);
    else end();
  }
}

/** The turn of a named heir: no wait, the resigner had ended. */
function heirTurn(until: Deadline, revision: bigint, ranks: RankSnapshot): TurnOutcome {
  return { kind: 'lead', turn: { until, revision, previous: { kind: 'resigned' }, heldMs: 0, ranks } };
}

/** Whether the candidate at `place` is next in line: its predecessor is the first (the leader). */
function nextInLine(place: Position): place is Position & { readonly older: Candidate } {
  return place.older !== null && place.first !== null && place.older.key === place.first.key;
}

/** The turn's steps (takeTurn's contract), with `heirAt` making the next-in-line candidate's Heir once. */
async function turn(
  ctx: TurnContext,
  self: TurnCandidate,
  joined: TurnStart,
  signal: AbortSignal,
  asker: PreemptRequest,
  heirAt: (place: Position, proven: Deadline | null) => Heir | null,
): Promise<TurnOutcome> {
  const { lease, key, token } = self;
  const recordKey = termRecordKey(ctx.reads.name);
  const ttlMs = lease.ttlSec * 1000;
  let place: Position | null = joined.position;
  let proven: Deadline | null = joined.provenUntil; // before the read that gave `place`
  let ranks = joined.ranks; // the latest read's
  const trail = joined.trail; // `waited` for a predecessor: a resignation may have named us its heir
  let touched = false; // a preemptor behind us asked the candidates ahead of it to make way
  /** The turn of the heir a resignation named at `revision`, on its proven deadline (null if that ran out). */
  const named = (heir: Heir | null, revision: bigint): TurnOutcome | null => {
    const until = heir?.provenUntil(ctx.clock);
    return until ? heirTurn(until, revision, ranks) : null;
  };
  for (;;) {
    if (signal.aborted) throw abortReason(signal);
    try {
      if (place === null) {
        proven = lease.provenUntil();
        const read = await ctx.reads.position(token);
        place = read;
        ranks = read.ranks;
      }
      if (place.older) {
        trail.waited = true;
        asker.consider(place.first, ranks);
        const heir = heirAt(place, proven);
        const wait = ctx.follow
          ? waitOnView(ctx.follow, key, token, signal).then(() => null)
          : heir && nextInLine(place)
            ? heir.waitFor(place.older, place.revision + 1n, signal) // its delete and the record, as one
            : waitForDelete(ctx.hub, place.older, place.revision + 1n, signal);
        const first = heir ? await heir.race(wait) : { done: await wait };
        if ('named' in first) {
          const t = named(heir, first.named);
          if (t) return t;
        } else if (first.done === 'touched') touched = true;
        else if (first.done !== null && typeof first.done !== 'bigint' && !first.done.transient) throw first.done;
      }
      if (trail.waited) {
        const untilRead = lease.provenUntil(); // before the read: keepalives sent before it
        const heir = heirAt(place, proven);
        const read = ctx.reads.confirm(key, token, recordKey);
        const result = heir ? await heir.race(read) : { done: await read };
        if ('named' in result) {
          const t = named(heir, result.named);
          if (t) return t;
          continue; // the proof ran out: read again
        }
        const seen = result.done;
        ranks = seen.ranks;
        if (!seen.standing) {
          if (!isOurs(seen.own, key, token)) throw lostKey(key);
          const above = touched ? await outranked(ctx.reads, self, ranks) : null;
          if (above) return { kind: 'step-aside', outranker: above, first: false };
          touched = false;
          place = seen.position;
          proven = untilRead;
          continue;
        }
        if (isHeir(seen.record, token, ttlMs)) return heirTurn(untilRead, seen.revision, ranks);
        // First, and not named: a better-ranked candidate waiting goes before us (priority, rank.ts).
        const above = await outranked(ctx.reads, self, ranks);
        if (above) return { kind: 'step-aside', outranker: above, first: true };
      }
      const until = lease.provenUntil(); // before the claim: keepalives sent before it
      const release = await ctx.admission.acquire(signal);
      const claim = await ctx.reads
        .claim(key, token, recordKey, encodeTermRecord({ state: 'leading', token, ttlMs, holdMs: 0 }))
        .finally(release);
      const seenAt = ctx.clock.now();
      ranks = claim.ranks;
      if (!claim.claimed) {
        if (!isOurs(claim.own, key, token)) throw lostKey(key);
        place = claim.position;
        proven = until;
        continue;
      }
      const previous = previousHolder(claim.previous, token);
      const holdMs = holdOffMs(previous, ttlMs, ctx.driftRate);
      if (holdMs === 0) {
        return { kind: 'lead', turn: { until, revision: claim.revision, previous, heldMs: 0, ranks } };
      }
      const held = await holdOff(ctx, lease, key, token, recordKey, previous, seenAt, holdMs, signal);
      return { kind: 'lead', turn: { ...held, ranks } };
    } catch (err) {
      if (signal.aborted) throw abortReason(signal);
      throw err;
    }
  }
}

/**
 * The previous holder may still lead: record what we inherit (so that our own
 * successor waits for it too should we vanish meanwhile), wait until its
 * deadline has certainly passed, then confirm our key from a linearizable read.
 */
async function holdOff(
  ctx: TurnContext,
  lease: Lease,
  key: string,
  token: bigint,
  recordKey: string,
  previous: PreviousHolder,
  seenAt: number,
  holdMs: number,
  signal: AbortSignal,
): Promise<Omit<Turn, 'ranks'>> {
  const ttlMs = lease.ttlSec * 1000;
  const inherited = inheritedMs(previous, ttlMs);
  if (inherited > ttlMs) {
    const rewrite = await ctx.reads.claim(
      key,
      token,
      recordKey,
      encodeTermRecord({ state: 'leading', token, ttlMs, holdMs: inherited }),
    );
    if (!rewrite.claimed) throw lostKey(key);
  }
  // A timer may fire early by a fraction of a millisecond: wait on the clock until the span has passed.
  for (let left = holdMs; left > 0; left = seenAt + holdMs - ctx.clock.now()) {
    await delay(left, signal, ctx.clock);
  }
  const until = lease.provenUntil();
  const { candidate, revision } = await ctx.reads.get(key);
  if (!isOurs(candidate, key, token)) throw lostKey(key);
  return { until, revision, previous, heldMs: holdMs };
}

function isOurs(candidate: Candidate | null, key: string, token: bigint): candidate is Candidate {
  return candidate !== null && candidate.key === key && candidate.token === token;
}

function lostKey(key: string): LockedError {
  return new LockedError('LEADERSHIP_LOST', `candidate key ${key} disappeared while campaigning`);
}
