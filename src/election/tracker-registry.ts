import type { Clock } from '../core/clock.js';
import type { LockedError } from '../errors.js';
import type { WatchHub } from '../transport/watch-hub.js';
import type { Candidate, CandidateReads } from './candidates.js';
import { LeaderWatch } from './leader-watch.js';

/** A subscription to the leader of one election (see Election.track). */
export interface LeaderTracker {
  /** The leader as last seen (undefined before the first read). */
  readonly leader: Candidate | null | undefined;
  /** The candidate with `key` as the view now holds it (undefined if absent, or once closed). */
  candidate(key: string): Candidate | undefined;
  /** The candidate next in line after `token` in the view (LeaderWatch.after); undefined once closed. */
  after(token: bigint): Candidate | null | undefined;
  /** Stops the callbacks; the shared watch ends with its last subscriber. */
  close(): void;
}

type OnLeader = (leader: Candidate | null, revision: bigint) => void;
type OnError = (err: LockedError) => void;

interface Subscriber {
  readonly onLeader: OnLeader;
  readonly onError: OnError;
}

interface Entry {
  readonly watch: LeaderWatch;
  readonly subscribers: Set<Subscriber>;
  last: { leader: Candidate | null; revision: bigint } | undefined;
}

/**
 * One LeaderWatch (a snapshot and one prefix watch) per election name and
 * client, shared by every subscriber in the process: a thousand seed nodes on
 * one path cost one watch, and a failover delivers one event to the process,
 * not one per node. A late subscriber gets the current view at once (on a
 * microtask), then every change.
 */
export class TrackerRegistry {
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();
  /** The election name of every open subscription this registry handed out. */
  readonly #names = new WeakMap<LeaderTracker, string>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Whether `tracker` is an open subscription of this registry to election `name`. */
  follows(tracker: LeaderTracker, name: string): boolean {
    return this.#names.get(tracker) === name;
  }

  track(name: string, reads: CandidateReads, hub: WatchHub, onLeader: OnLeader, onError: OnError): LeaderTracker {
    let entry = this.#entries.get(name);
    // A watch that ended with its client (CLOSED) is not reused: a new one reports CLOSED to the new subscriber.
    if (!entry || entry.watch.closed) {
      const subscribers = new Set<Subscriber>();
      const created: Entry = {
        subscribers,
        last: undefined,
        watch: new LeaderWatch(
          reads,
          hub,
          (leader, revision) => {
            created.last = { leader, revision };
            for (const s of [...subscribers]) s.onLeader(leader, revision);
          },
          (err) => {
            for (const s of [...subscribers]) s.onError(err);
          },
          this.#clock,
        ),
      };
      entry = created;
      this.#entries.set(name, entry);
    }
    const subscriber: Subscriber = { onLeader, onError };
    const shared = entry;
    shared.subscribers.add(subscriber);
    const last = shared.last;
    if (last) {
      queueMicrotask(() => {
        // Unless closed meanwhile, or a newer view was already delivered to it by the watch.
        if (shared.subscribers.has(subscriber) && shared.last === last) onLeader(last.leader, last.revision);
      });
    }
    const registry = this.#entries;
    const names = this.#names;
    const tracker: LeaderTracker = {
      get leader() {
        return shared.subscribers.has(subscriber) ? shared.watch.leader : undefined;
      },
      candidate(key) {
        return shared.subscribers.has(subscriber) ? shared.watch.candidate(key) : undefined;
      },
      after(token) {
        return shared.subscribers.has(subscriber) ? shared.watch.after(token) : undefined;
      },
      close() {
        names.delete(tracker);
        if (!shared.subscribers.delete(subscriber) || shared.subscribers.size > 0) return;
        shared.watch.close();
        if (registry.get(name) === shared) registry.delete(name);
      },
    };
    names.set(tracker, name);
    return tracker;
  }
}
