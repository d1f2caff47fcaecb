import type { Clock } from '../core/clock.js';
import type { LockedError } from '../errors.js';
import type { WatchHub } from '../transport/watch-hub.js';
import type { Candidate, CandidateReads } from './candidates.js';
import type { KeyFeed } from './key-feed.js';
import { LeaderKeyWatch } from './leader-key-watch.js';
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

/**
 * What a subscriber follows: `election`, the whole election (a snapshot and a prefix watch: LeaderWatch,
 * for `Election.track` and the campaigns that wait on it); `leader-key`, the leader's key alone
 * (LeaderKeyWatch, the seed node's view: nothing behind the leader wakes it), its reads after a
 * failover spread over `spreadMs` (the first subscriber's).
 */
export type ViewKind = { readonly kind: 'election' } | { readonly kind: 'leader-key'; readonly spreadMs: number };

interface Entry {
  readonly watch: LeaderWatch | LeaderKeyWatch;
  readonly subscribers: Set<Subscriber>;
  last: { leader: Candidate | null; revision: bigint } | undefined;
}

/**
 * One view of each kind per election name and client, shared by every
 * subscriber in the process: a thousand seed nodes on one path cost one watch
 * of the leader's key, and a failover delivers one event (and one read) to the
 * process, not one per node. A late subscriber gets the current view at once
 * (on a microtask), then every change.
 */
export class TrackerRegistry {
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();
  /** The election name of every open subscription this registry handed out. */
  readonly #names = new WeakMap<LeaderTracker, string>();
  /** Per election name, the latest feed of a candidate's key an heir offered, until it ends. */
  readonly #feeds = new Map<string, KeyFeed>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Whether `tracker` is an open subscription of this registry to election `name`. */
  follows(tracker: LeaderTracker, name: string): boolean {
    return this.#names.get(tracker) === name;
  }

  /**
   * An heir of election `name` in this process offers its watch's feed of its predecessor's key
   * (key-feed.ts): the election's leader-key view rides it instead of its own watch while the key is
   * the leader's, now or once the view finds it so, until the feed ends.
   */
  share(name: string, feed: KeyFeed): void {
    if (feed.ended) return;
    const feeds = this.#feeds;
    feeds.set(name, feed);
    feed.listen({
      onEvents: () => undefined,
      onEnd: () => {
        if (feeds.get(name) === feed) feeds.delete(name);
      },
    });
    const view = this.#entries.get(viewId({ kind: 'leader-key' }, name))?.watch;
    if (view instanceof LeaderKeyWatch) view.ride(feed);
  }

  track(
    name: string,
    reads: CandidateReads,
    hub: WatchHub,
    onLeader: OnLeader,
    onError: OnError,
    view: ViewKind = { kind: 'election' },
  ): LeaderTracker {
    const id = viewId(view, name);
    let entry = this.#entries.get(id);
    // A watch that ended with its client (CLOSED) is not reused: a new one reports CLOSED to the new subscriber.
    if (!entry || entry.watch.closed) {
      const subscribers = new Set<Subscriber>();
      const fanOut: OnLeader = (leader, revision) => {
        created.last = { leader, revision };
        for (const s of [...subscribers]) s.onLeader(leader, revision);
      };
      const fanErr: OnError = (err) => {
        for (const s of [...subscribers]) s.onError(err);
      };
      const created: Entry = {
        subscribers,
        last: undefined,
        watch:
          view.kind === 'election'
            ? new LeaderWatch(reads, hub, fanOut, fanErr, this.#clock)
            : new LeaderKeyWatch(
                reads,
                hub,
                { clock: this.#clock, spreadMs: view.spreadMs, feedOf: () => this.#feeds.get(name) },
                fanOut,
                fanErr,
              ),
      };
      entry = created;
      this.#entries.set(id, entry);
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
        const { watch } = shared;
        return shared.subscribers.has(subscriber) && watch instanceof LeaderWatch ? watch.candidate(key) : undefined;
      },
      after(token) {
        const { watch } = shared;
        return shared.subscribers.has(subscriber) && watch instanceof LeaderWatch ? watch.after(token) : undefined;
      },
      close() {
        names.delete(tracker);
        if (!shared.subscribers.delete(subscriber) || shared.subscribers.size > 0) return;
        shared.watch.close();
        if (registry.get(id) === shared) registry.delete(id);
      },
    };
    if (view.kind === 'election') names.set(tracker, name); // a campaign waits on a view of the whole election only
    return tracker;
  }
}

/** The registry's key of the view of `kind` of election `name`. */
function viewId(view: Pick<ViewKind, 'kind'>, name: string): string {
  return `${view.kind}:${name}`;
}
