import { Backoff } from '../core/backoff.js';
import { randomOf, type Clock } from '../core/clock.js';
import type { LockedError } from '../errors.js';
import { classify } from '../transport/classify.js';
import type { WatchHandle, WatchHub } from '../transport/watch-hub.js';
import { rereadAfterMs, sameLeader } from './leader-view.js';
import { decodeCandidate, type Candidate, type CandidateReads } from './candidates.js';

/** What a leader watch reads: the election's whole key range, and its bounds (CandidateReads). */
export type ElectionSnapshot = Pick<CandidateReads, 'all' | 'prefix' | 'rangeEnd'>;

/**
 * Follows who leads an election without campaigning: a snapshot of every
 * candidate, then one prefix watch from the snapshot's revision. The leader is
 * always the lowest create revision of the whole set, so several keys in one
 * watch response (or a put of a newer key after the leader's) never mislead it,
 * and a failover costs one delete event and no read.
 *
 * `onLeader` is called on every change of (leader key, token, value), including
 * to null, with the etcd revision at which the view holds; `onError` on each
 * watch or read failure, after which the tracker re-reads and re-watches by
 * itself until `close()` — except `CLOSED` (the client is gone), reported once,
 * after which nothing more follows.
 *
 * The view is exact, not a cache: a linearizable read at revision S, then every
 * event after S in revision order without gaps (a watch that breaks or is
 * compacted starts over with a new read). So when `onLeader` reports revision
 * R, the candidate set is the store's at R, as a read at R would return it.
 */
export class LeaderWatch {
  readonly #reads: ElectionSnapshot;
  readonly #hub: WatchHub;
  readonly #onLeader: (leader: Candidate | null, revision: bigint) => void;
  readonly #onError: (err: LockedError) => void;
  readonly #candidates = new Map<string, Candidate>();
  readonly #clock: Clock;
  readonly #backoff: Backoff;
  #leader: Candidate | null = null;
  #reported: Candidate | null | undefined = undefined;
  #watch: WatchHandle | null = null;
  #cancelTimer: (() => void) | null = null;
  #closed = false;

  constructor(
    reads: ElectionSnapshot,
    hub: WatchHub,
    onLeader: (leader: Candidate | null, revision: bigint) => void,
    onError: (err: LockedError) => void,
    clock: Clock,
  ) {
    this.#clock = clock;
    this.#backoff = new Backoff(50, 2000, randomOf(clock));
    this.#reads = reads;
    this.#hub = hub;
    this.#onLeader = onLeader;
    this.#onError = onError;
    this.#snapshot();
  }

  /** The leader as last seen (undefined before the first read). */
  get leader(): Candidate | null | undefined {
    return this.#reported;
  }

  /** The candidate with `key` in the view, as of the last report or later (undefined if absent). */
  candidate(key: string): Candidate | undefined {
    return this.#candidates.get(key);
  }

  /**
   * The candidate next in line after `token` in the view (the oldest key
   * created after it), null if none; undefined before the first read. A hint
   * (the view may lag the store by a watch delivery): whoever acts on it must
   * guard on the key's create revision, as a resignation naming an heir does.
   */
  after(token: bigint): Candidate | null | undefined {
    if (this.#reported === undefined) return undefined;
    let next: Candidate | null = null;
    for (const c of this.#candidates.values()) if (c.token > token && (!next || c.token < next.token)) next = c;
    return next;
  }

  /** True after `close()`, or once the client was closed under it. */
  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    this.#closed = true;
    this.#watch?.cancel();
    this.#cancelTimer?.();
  }

  #snapshot(): void {
    if (this.#closed) return;
    this.#reads.all().then(
      ({ candidates, revision }) => {
        if (this.#closed) return;
        this.#candidates.clear();
        for (const c of candidates) this.#candidates.set(c.key, c);
        this.#leader = candidates[0] ?? null;
        this.#report(revision);
        this.#watchFrom(revision + 1n);
      },
      (err: unknown) => this.#retry(classify(err, 'read election candidates')),
    );
  }

  #watchFrom(revision: bigint): void {
    this.#watch = this.#hub.watch(
      { key: this.#reads.prefix, rangeEnd: this.#reads.rangeEnd, startRevision: revision },
      {
        onEvents: (events) => {
          let revision = 0n;
          for (const event of events) {
            const candidate = decodeCandidate(event.kv);
            if (candidate.modRevision > revision) revision = candidate.modRevision;
            if (event.type === 'Delete') this.#remove(candidate.key);
            else this.#upsert(candidate);
          }
          this.#backoff.reset();
          this.#report(revision);
        },
        onEnd: (err) => this.#retry(err),
      },
    );
  }

  #upsert(candidate: Candidate): void {
    this.#candidates.set(candidate.key, candidate);
    if (!this.#leader || candidate.key === this.#leader.key || candidate.token < this.#leader.token) {
      this.#leader = candidate;
    }
  }

  #remove(key: string): void {
    this.#candidates.delete(key);
    if (this.#leader?.key !== key) return;
    let lowest: Candidate | null = null;
    for (const c of this.#candidates.values()) if (!lowest || c.token < lowest.token) lowest = c;
    this.#leader = lowest;
  }

  #report(revision: bigint): void {
    const next = this.#leader;
    if (sameLeader(this.#reported, next)) return;
    this.#reported = next;
    this.#onLeader(next, revision);
  }

  #retry(err: LockedError): void {
    if (this.#closed) return;
    this.#watch = null;
    if (err.code === 'CLOSED') {
      this.close(); // the client is gone: nothing to retry on
      this.#onError(err);
      return;
    }
    this.#onError(err);
    this.#cancelTimer = this.#clock.setTimer(
      () => {
        this.#cancelTimer = null;
        this.#snapshot();
      },
      rereadAfterMs(err, this.#backoff),
    );
  }
}
