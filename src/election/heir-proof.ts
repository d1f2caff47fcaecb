import type { Clock } from '../core/clock.js';
import type { LockedError } from '../errors.js';
import type { Deadline, Lease } from '../session/lease.js';
import type { WatchHub } from '../transport/watch-hub.js';
import type { Candidate } from './candidates.js';
import type { ConfirmedKey, TermConfirmations } from './term-confirmations.js';
import { HeirWatch } from './heir-watch.js';
import type { KeyFeed } from './key-feed.js';

/**
 * What lets the candidate next in line take over from a graceful resignation
 * with no request at all: the record that names it heir arrives on a watch,
 * and the deadline it leads with is already proven.
 *
 * The proof: the lease's deadline as it stood before a linearizable read (the
 * join, then the session's confirmation after each renewal) that found our key.
 * That read took effect after its send and before our key's deletion, whenever
 * etcd deletes it, so the deadline ends less than one TTL after the deletion —
 * the same rule as a term's (term-confirmations.ts), and what a successor that
 * finds the record naming us waits out (term-record.ts, `previousHolder`).
 *
 * The watch: the resign txn that names us heir was applied only while our key
 * stood, and at its revision we were first (docs/DESIGN.md, "Taking over"), so
 * its event alone says that nobody else may lead until our key is gone; no
 * read of the queue is needed. A watch on a lagging member only delivers that
 * later: the proven deadline is checked when it arrives.
 */
export class HeirProof implements ConfirmedKey {
  readonly key: string;
  readonly token: bigint;
  readonly lease: Lease;
  #until: Deadline | null;

  constructor(key: string, token: bigint, lease: Lease, proven: Deadline | null) {
    this.key = key;
    this.token = token;
    this.lease = lease;
    this.#until = proven;
  }

  confirmed(until: Deadline): void {
    if (this.#until === null || until.mono > this.#until.mono) this.#until = until;
  }

  lost(): void {
    this.#until = null; // the wait learns of it on its own (its place, its key)
  }

  resign(): Promise<void> {
    return Promise.resolve(); // not leading: the campaign leaves the queue by itself
  }

  /** The proven deadline if it is still ahead on both clocks, else null. */
  validAt(clock: Clock): Deadline | null {
    const until = this.#until;
    if (!until || !this.lease.isLive()) return null;
    return clock.now() < until.mono && clock.wallNow() < until.wall ? until : null;
  }
}

/** What an heir needs of its client: the watch hub, the confirmations, and where it shares its predecessor's key. */
export interface HeirDeps {
  readonly hub: WatchHub;
  readonly confirmations: TermConfirmations;
  /** Offers each heir watch's feed of the predecessor's key to the process's view of the leader (key-feed.ts). */
  readonly share?: (feed: KeyFeed) => void;
}

/**
 * A waiting candidate that is next in line: its proof, kept by the session's confirmations, and its one
 * watch of the record that names it and of its predecessor's key (heir-watch.ts). `stop()` ends both.
 */
export class Heir {
  readonly #proof: HeirProof;
  readonly #deps: HeirDeps;
  readonly #recordKey: string;
  #watch: HeirWatch;
  readonly #unregister: () => void;
  #spent = false;

  constructor(
    deps: HeirDeps,
    recordKey: string,
    candidate: { readonly key: string; readonly token: bigint; readonly lease: Lease },
    proven: Deadline | null,
    from: { readonly predecessor: Candidate; readonly revision: bigint },
  ) {
    const { key, token, lease } = candidate;
    this.#proof = new HeirProof(key, token, lease, proven);
    this.#unregister = deps.confirmations.add(this.#proof);
    this.#deps = deps;
    this.#recordKey = recordKey;
    this.#watch = this.#watchFrom(from.predecessor, from.revision);
  }

  #watchFrom(predecessor: Candidate, revision: bigint): HeirWatch {
    const { token, lease } = this.#proof;
    const naming = { token, ttlMs: lease.ttlSec * 1000 };
    const watch = new HeirWatch(this.#deps.hub, this.#recordKey, predecessor, revision, naming);
    this.#deps.share?.(watch.feed);
    return watch;
  }

  /**
   * The wait of the candidate next in line for `predecessor`, on the heir's watch (HeirWatch.waitFor):
   * the one it has, or — once that one has been waited on (its wait ended: a delete that named no one, a
   * failed watch) or covers another predecessor — a new one from `revision`, the revision after the read
   * that showed the place. Nothing naming us is missed in between: that linearizable read returned the
   * record as it stood then.
   */
  waitFor(predecessor: Candidate, revision: bigint, signal: AbortSignal): Promise<LockedError | bigint> {
    const wait = this.#watch.waitFor(predecessor, signal);
    if (wait) return wait;
    this.#watch.cancel();
    this.#watch = this.#watchFrom(predecessor, revision);
    return this.waitFor(predecessor, revision, signal); // the new watch serves it
  }

  /**
   * Races `step` with the record naming us: the step's result, or the named
   * revision — once; after that `step` alone (its rejection is the caller's,
   * a step that loses the race is left to settle unobserved).
   */
  async race<T>(step: Promise<T>): Promise<{ readonly done: T } | { readonly named: bigint }> {
    if (this.#spent) return { done: await step };
    const result = await Promise.race([
      step.then((done) => ({ done })),
      this.#watch.named.then((named) => ({ named })),
    ]);
    if ('named' in result) {
      this.#spent = true;
      step.catch(() => undefined);
    }
    return result;
  }

  /** The deadline to lead with now, from the proof, or null if it has run out. */
  provenUntil(clock: Clock): Deadline | null {
    return this.#proof.validAt(clock);
  }

  stop(): void {
    this.#watch.cancel();
    this.#unregister();
  }
}
