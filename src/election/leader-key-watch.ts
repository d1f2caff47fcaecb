import { Backoff } from '../core/backoff.js';
import { randomOf, type Clock } from '../core/clock.js';
import type { LockedError } from '../errors.js';
import { classify } from '../transport/classify.js';
import { toBigInt } from '../transport/keys.js';
import type { WatchHandle, WatchHub } from '../transport/watch-hub.js';
import type * as etcd from 'etcd3';
import { rereadAfterMs, sameLeader } from './leader-view.js';
import { decodeCandidate, type Candidate, type CandidateReads } from './candidates.js';
import type { KeyFeed } from './key-feed.js';

/** What a leader-key watch reads: the first candidate (linearizable or member-local) and the election's range. */
export type LeaderReads = Pick<CandidateReads, 'first' | 'prefix' | 'rangeEnd'>;

/**
 * What the watch is doing; each transition replaces it whole.
 * - `reading`: reading the first candidate (after the start, a failure, or the leader's deletion);
 * - `leader`: following the leader's key alone: on a watch of its own, or riding an heir's feed of it
 *   (`watch` is then the feed's listener);
 * - `empty`: no candidate: watching the whole range until one appears;
 * - `spreading`: the leader left; a jittered pause, then the watch is cancelled and a member-local read made;
 * - `waiting`: a pause after a failure, then a linearizable read;
 * - `closed`: for good.
 */
type State =
  | { readonly kind: 'reading' }
  | { readonly kind: 'leader'; readonly leader: Candidate; readonly watch: WatchHandle }
  | { readonly kind: 'empty'; readonly watch: WatchHandle }
  | { readonly kind: 'spreading'; readonly cancel: () => void; readonly watch: WatchHandle }
  | { readonly kind: 'waiting'; readonly cancel: () => void }
  | { readonly kind: 'closed' };

/**
 * Follows who leads an election by watching the leader's key alone (the seed
 * node's view; herd-free across processes): a read of the first candidate,
 * then a watch of that one key. The leader is the oldest key, and no key older
 * can appear (create revisions only grow), so the leader changes only when its
 * key is deleted. Joins and leaves behind the leader wake nobody here; a put on
 * the key (a proclaim) reports the new value; its deletion costs one event and
 * one member-local read of the new first candidate (a linearizable read when
 * that member has not yet applied the deletion). An empty election is watched
 * on its whole range until a candidate appears.
 *
 * `onLeader` is called on every change of (leader key, token, value), including
 * to null, with a revision at which the store showed it first; `onError` on each
 * watch or read failure, after which it reads and watches again by itself until
 * `close()` — except `CLOSED` (the client is gone), reported once, after which
 * nothing more follows.
 */
export class LeaderKeyWatch {
  readonly #reads: LeaderReads;
  readonly #hub: WatchHub;
  readonly #clock: Clock;
  readonly #spreadMs: number;
  readonly #onLeader: (leader: Candidate | null, revision: bigint) => void;
  readonly #onError: (err: LockedError) => void;
  readonly #feedOf: () => KeyFeed | undefined;
  readonly #backoff: Backoff;
  #state: State = { kind: 'reading' };
  #reported: Candidate | null | undefined = undefined;
  /** The revision up to which the view knows the leader's key: its last read's, or its last event's. */
  #at = 0n;

  constructor(
    reads: LeaderReads,
    hub: WatchHub,
    options: { readonly clock: Clock; readonly spreadMs: number; readonly feedOf?: () => KeyFeed | undefined },
    onLeader: (leader: Candidate | null, revision: bigint) => void,
    onError: (err: LockedError) => void,
  ) {
    const { clock, spreadMs } = options;
    this.#reads = reads;
    this.#hub = hub;
    this.#clock = clock;
    this.#spreadMs = spreadMs;
    this.#feedOf = options.feedOf ?? (() => undefined);
    this.#onLeader = onLeader;
    this.#onError = onError;
    this.#backoff = new Backoff(50, 2000, randomOf(clock));
    this.#read(true, 0n);
  }

  /** The leader as last reported (undefined before the first read). */
  get leader(): Candidate | null | undefined {
    return this.#reported;
  }

  /** True after `close()`, or once the client was closed under it. */
  get closed(): boolean {
    return this.#state.kind === 'closed';
  }

  close(): void {
    const state = this.#state;
    this.#state = { kind: 'closed' };
    if (state.kind === 'leader' || state.kind === 'empty' || state.kind === 'spreading') state.watch.cancel();
    if (state.kind === 'waiting' || state.kind === 'spreading') state.cancel();
  }

  /**
   * Reads the first candidate: linearizable at the start and after a failure; member-local after a
   * deletion at `after`, unless that member has not applied it yet (then linearizable).
   */
  #read(linearizable: boolean, after: bigint): void {
    this.#state = { kind: 'reading' };
    this.#reads.first(linearizable ? undefined : { serializable: true }).then(
      ({ candidate, revision }) => {
        if (this.#state.kind !== 'reading') return; // closed meanwhile
        if (revision < after) return this.#read(true, after); // a member behind the deletion we saw
        this.#at = revision;
        this.#report(candidate, revision);
        this.#watchFrom(candidate, revision + 1n);
      },
      (err: unknown) => this.#retry(classify(err, 'read election leader')),
    );
  }

  #watchFrom(leader: Candidate | null, fromRevision: bigint): void {
    if (leader === null) {
      const watch = this.#hub.watch(
        { key: this.#reads.prefix, rangeEnd: this.#reads.rangeEnd, startRevision: fromRevision },
        { onEvents: (events) => this.#reread(watch, maxRevision(events)), onEnd: (err) => this.#ended(watch, err) },
      );
      this.#state = { kind: 'empty', watch };
      return;
    }
    if (this.#ride(leader, this.#feedOf())) return;
    const watch = this.#hub.watch(
      { key: Buffer.from(leader.key), startRevision: fromRevision },
      { onEvents: (events) => this.#onKeyEvents(watch, leader, events), onEnd: (err) => this.#ended(watch, err) },
    );
    this.#state = { kind: 'leader', leader, watch };
  }

  /** Events of the leader's key, from the view's own watch or from a feed (`watch`: the one they came on). */
  #onKeyEvents(watch: WatchHandle, leader: Candidate, events: etcd.IEvent[]): void {
    if (this.#spreadingOn(watch)) return; // the deletion was heard; the read is due
    this.#backoff.reset();
    for (const event of events) {
      const revision = toBigInt(event.kv.mod_revision);
      if (revision <= this.#at) continue; // known already: a feed may start before the view's read
      this.#at = revision;
      if (event.type === 'Delete') return this.#reread(watch, revision);
      const next = decodeCandidate(event.kv);
      if (next.token !== leader.token) return this.#reread(watch, next.modRevision); // re-created: not our leader
      this.#report(next, next.modRevision); // a proclaim
    }
  }

  /** An heir in this process offers its feed of `feed.candidate`'s key (tracker-registry.ts, `share`). */
  ride(feed: KeyFeed): void {
    const state = this.#state;
    if (state.kind === 'leader' && this.#ride(state.leader, feed)) state.watch.cancel();
  }

  /**
   * Follows `leader`'s key on `feed` instead of a watch of its own, when the feed covers that key (the
   * same key and create revision, so the key stood all along between the view's revision and the
   * feed's read). Gapless: the view knows the key up to `#at`; the feed's read showed it at `from - 1`
   * (taken as a proclaim when later than `#at`), and the feed hands on every event from `from`, the ones
   * up to `#at` skipped. When the feed is cancelled, the view watches on its own from `#at + 1`.
   */
  #ride(leader: Candidate, feed: KeyFeed | undefined): boolean {
    if (!feed || feed.ended || feed.candidate.key !== leader.key || feed.candidate.token !== leader.token) return false;
    const watch: WatchHandle = { cancel: () => off() };
    const off = feed.listen({
      onEvents: (events) => this.#onKeyEvents(watch, leader, events),
      onEnd: (err) => {
        if (err) return this.#ended(watch, err);
        const state = this.#state;
        if (state.kind === 'leader' && state.watch === watch) this.#watchFrom(leader, this.#at + 1n);
      },
    });
    this.#state = { kind: 'leader', leader, watch };
    if (feed.from - 1n > this.#at) {
      this.#at = feed.from - 1n;
      this.#report(feed.candidate, feed.candidate.modRevision);
    }
    return true;
  }

  /** The leader left (or the empty election got a candidate) at `revision`: read who is first now. */
  #reread(watch: WatchHandle, revision: bigint): void {
    const state = this.#state;
    if ((state.kind !== 'leader' && state.kind !== 'empty') || state.watch !== watch) return;
    // Not urgent, and every follower of the fleet reads now: what else waits on this deletion in the
    // process (a successor's own wait, the record that names it heir) goes first, and the reads of the
    // fleet are spread over `spreadMs` (a jittered delay), so a thousand followers do not read at once.
    // A deleted leader's key watch is cancelled with the read, for the same reasons (a request to etcd
    // from every follower, and its gRPC encoding and write in the successor's process, at the handover's
    // instant): it hears nothing more meanwhile. The empty election's range watch would hear every
    // join: it goes at once.
    if (state.kind === 'empty') watch.cancel();
    const cancel = this.#clock.setTimer(
      () => {
        if (!this.#spreadingOn(watch)) return;
        watch.cancel();
        this.#read(false, revision);
      },
      randomOf(this.#clock)() * this.#spreadMs,
    );
    this.#state = { kind: 'spreading', cancel, watch };
  }

  /** A watch that ends while its read is already due (spreading) changes nothing: the read follows. */
  #ended(watch: WatchHandle, err: LockedError): void {
    if (!this.#spreadingOn(watch)) this.#retry(err);
  }

  #spreadingOn(watch: WatchHandle): boolean {
    const state = this.#state;
    return state.kind === 'spreading' && state.watch === watch;
  }

  #report(leader: Candidate | null, revision: bigint): void {
    if (sameLeader(this.#reported, leader)) return;
    this.#reported = leader;
    this.#onLeader(leader, revision);
  }

  #retry(err: LockedError): void {
    if (this.#state.kind === 'closed') return;
    if (err.code === 'CLOSED') {
      this.close(); // the client is gone: nothing to retry on
      this.#onError(err);
      return;
    }
    this.#onError(err);
    const cancel = this.#clock.setTimer(
      () => {
        if (this.#state.kind === 'waiting') this.#read(true, 0n);
      },
      rereadAfterMs(err, this.#backoff),
    );
    this.#state = { kind: 'waiting', cancel };
  }
}

function maxRevision(events: { kv: { mod_revision: string | number } }[]): bigint {
  let max = 0n;
  for (const e of events) if (toBigInt(e.kv.mod_revision) > max) max = toBigInt(e.kv.mod_revision);
  return max;
}
