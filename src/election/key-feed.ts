import type * as etcd from 'etcd3';
import type { LockedError } from '../errors.js';
import type { Candidate } from './candidates.js';

/**
 * One candidate's key, relayed from a watch that covers it (the heir's, heir-watch.ts) to the
 * process's view of the leader's key (leader-key-watch.ts), which then needs no watch of that key of
 * its own: at a handover etcd sends the heir's process one response, not two (docs/DESIGN.md, "The
 * handover's messages").
 *
 * What makes the relay gapless: `candidate` is the key as a linearizable read showed it at revision
 * `from - 1`, and from `from` on the feed hands on every event of that key, in revision order, until
 * it ends. It ends once: `onEnd(null)` when its watch was cancelled (a view then watches on its own
 * again, from the last revision it knows), `onEnd(err)` with the error that ended the watch.
 */
export interface KeyFeed {
  readonly candidate: Candidate;
  readonly from: bigint;
  /** True once it has ended: it hands on nothing more. */
  readonly ended: boolean;
  /** Adds a listener (none to a feed that has ended); returns its removal. */
  listen(listener: FeedListener): () => void;
}

export interface FeedListener {
  onEvents(events: etcd.IEvent[]): void;
  onEnd(err: LockedError | null): void;
}

/** The feed a watch keeps: it passes on the events of the candidate's key it receives, and its end. */
export class FeedRelay implements KeyFeed {
  readonly candidate: Candidate;
  readonly from: bigint;
  readonly #key: Buffer;
  readonly #listeners = new Set<FeedListener>();
  #ended = false;

  constructor(candidate: Candidate, from: bigint) {
    this.candidate = candidate;
    this.from = from;
    this.#key = Buffer.from(candidate.key);
  }

  get ended(): boolean {
    return this.#ended;
  }

  listen(listener: FeedListener): () => void {
    if (this.#ended) return () => undefined;
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Passes on the events of the candidate's key among `events` (one watch response). */
  relay(events: etcd.IEvent[]): void {
    if (this.#ended || this.#listeners.size === 0) return;
    const own = events.filter((e) => this.#key.equals(e.kv.key));
    if (own.length === 0) return;
    for (const listener of [...this.#listeners]) listener.onEvents(own);
  }

  end(err: LockedError | null): void {
    if (this.#ended) return;
    this.#ended = true;
    const listeners = [...this.#listeners];
    this.#listeners.clear();
    for (const listener of listeners) listener.onEnd(err);
  }
}
