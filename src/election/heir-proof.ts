import type { Clock } from '../core/clock.js';
import type { Deadline, Lease } from '../session/lease.js';
import type { WatchHub } from '../transport/watch-hub.js';
import type { ConfirmedKey, TermConfirmations } from './term-confirmations.js';
import type { LockedError } from '../errors.js';
import { HeirWatch, type Predecessor } from './heir-watch.js';
import { isHeir } from './term-record.js';

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

/**
 * A waiting candidate that is next in line: its proof, kept by the session's confirmations, and its one
 * watch of the record that names it and of its predecessor's key (heir-watch.ts). `stop()` ends both.
 */
export class Heir {
  readonly #proof: HeirProof;
  readonly #watch: HeirWatch;
  readonly #unregister: () => void;
  readonly #fromRevision: bigint;
  #spent = false;

  constructor(
    deps: { readonly hub: WatchHub; readonly confirmations: TermConfirmations },
    recordKey: string,
    candidate: { readonly key: string; readonly token: bigint; readonly lease: Lease },
    proven: Deadline | null,
    from: { readonly predecessor: Predecessor; readonly revision: bigint },
  ) {
    const { key, token, lease } = candidate;
    const ttlMs = lease.ttlSec * 1000;
    this.#proof = new HeirProof(key, token, lease, proven);
    this.#unregister = deps.confirmations.add(this.#proof);
    this.#watch = new HeirWatch(deps.hub, recordKey, from.predecessor, from.revision, { token, ttlMs });
    this.#fromRevision = from.revision;
  }

  /** The wait for `predecessor` on the heir's own watch (HeirWatch.waitFor), or null: the caller watches its key. */
  waitFor(predecessor: Predecessor, signal: AbortSignal): Promise<LockedError | bigint> | null {
    return this.#watch.waitFor(predecessor, signal);
  }

  /**
   * Whether a resignation named us, now that our predecessor's key is gone (at `deletedAt`, when the wait
   * knows it): not if the heir's own watch delivered that delete (its response had the record's event if
   * there was one); else the record's event if it comes with the I/O already waiting (the record is written
   * with the delete, in one txn, and comes on another watch of the same stream, usually in the same socket
   * read); else the record as it stood at `deletedAt`, read member-local (`recordAt`). That read is as
   * good as the event: the history up to a revision is the same on every member, so a record found there
   * that names us, written at or after this watch's start, is the very put the watch is to deliver.
   * Resolves with the naming revision, or null: not named, or unknown (the read failed), and the caller
   * reads linearizably. The event still wins if it comes while the read is on the wire.
   */
  async namedAt(
    deletedAt: bigint | null,
    recordAt: (revision: bigint) => Promise<{ readonly value: string; readonly modRevision: bigint } | null>,
    clock: Clock,
  ): Promise<bigint | null> {
    // The heir's own watch delivered the delete, and with it every event of its revision: no record named us.
    if (deletedAt !== null && this.#watch.deliveredDelete(deletedAt)) return null;
    const soon = await this.race(new Promise<null>((resolve) => clock.afterPendingIo(() => resolve(null))));
    if ('named' in soon) return soon.named;
    if (deletedAt === null) return null;
    const { token, lease } = this.#proof;
    const read = recordAt(deletedAt).then(
      (seen) =>
        seen && seen.modRevision >= this.#fromRevision && isHeir(seen.value, token, lease.ttlSec * 1000)
          ? seen.modRevision
          : null,
      () => null,
    );
    const result = await this.race(read);
    return 'named' in result ? result.named : result.done;
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
