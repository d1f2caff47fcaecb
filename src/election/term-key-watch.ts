import { Backoff } from '../core/backoff.js';
import { randomOf, type Clock } from '../core/clock.js';
import type { LockedError } from '../errors.js';
import { classify } from '../transport/classify.js';
import type { WatchHandle, WatchHub } from '../transport/watch-hub.js';
import type { CandidateReads } from './candidates.js';

/** What the key watch tells its term. */
export interface KeyWatchEvents {
  /** The key was deleted or re-created by anyone, or the watch failed for good: the term is over. */
  readonly ended: (reason: unknown) => void;
  /** The key was written again with the term's token (a proclaim, or a preemption's touch), at `modRevision`. */
  readonly value: (value: string, modRevision: bigint) => void;
}

/**
 * Watches a term's leader key. After a watch failure it re-reads the key, then
 * watches again from that read, with a backoff; a failure that is not
 * transient ends the term.
 */
export class TermKeyWatch {
  readonly #hub: WatchHub;
  readonly #reads: CandidateReads;
  readonly #clock: Clock;
  readonly #key: string;
  readonly #token: bigint;
  readonly #events: KeyWatchEvents;
  #watch: WatchHandle | null = null;
  #cancelRewatch: () => void = () => undefined;
  /** Created on the first watch failure only: most terms never need one. */
  #backoff: Backoff | null = null;
  #stopped = false;

  constructor(
    deps: { readonly hub: WatchHub; readonly reads: CandidateReads; readonly clock: Clock },
    key: string,
    token: bigint,
    events: KeyWatchEvents,
  ) {
    this.#hub = deps.hub;
    this.#reads = deps.reads;
    this.#clock = deps.clock;
    this.#key = key;
    this.#token = token;
    this.#events = events;
  }

  /**
   * Watches from `fromRevision` (etcd replays any change since); nothing once stopped. A term starts it on
   * the turn of the event loop after it leads (term.ts), from the revision after the one that confirmed it:
   * nothing is missed meanwhile, and a term that ends first never starts it (stopped by then).
   */
  start(fromRevision: bigint): void {
    if (this.#stopped) return;
    this.#watch = this.#hub.watch(
      { key: Buffer.from(this.#key), startRevision: fromRevision },
      {
        onEvents: (events) => {
          for (const event of events) {
            if (event.type === 'Delete') this.#events.ended(`leader key ${this.#key} was deleted`);
            else if (event.kv.create_revision !== this.#token.toString())
              this.#events.ended(`leader key ${this.#key} was re-created`);
            else this.#events.value(event.kv.value.toString(), BigInt(event.kv.mod_revision));
          }
          this.#backoff?.reset();
        },
        onEnd: (err) => this.#rewatch(err),
      },
    );
  }

  /** Stops watching for good (idempotent). */
  stop(): void {
    this.#stopped = true;
    this.#watch?.cancel();
    this.#cancelRewatch();
  }

  #rewatch(err: LockedError): void {
    if (this.#stopped) return;
    if (!err.transient) {
      this.#events.ended(err);
      return;
    }
    this.#cancelRewatch = this.#clock.setTimer(
      () => {
        this.#cancelRewatch = () => undefined;
        this.#reads.get(this.#key).then(
          ({ candidate, revision }) => {
            if (!candidate || candidate.token !== this.#token) this.#events.ended(`leader key ${this.#key} is gone`);
            else {
              this.#events.value(candidate.value, candidate.modRevision); // a write the failed watch may have missed
              this.start(revision + 1n);
            }
          },
          (readErr: unknown) => this.#rewatch(classify(readErr, 're-read leader key')),
        );
      },
      (this.#backoff ??= new Backoff(50, 2000, randomOf(this.#clock))).next(),
    );
  }
}
