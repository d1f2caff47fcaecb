import { raceAbort } from '../core/abort.js';
import type { LockedError } from '../errors.js';
import { toBigInt } from '../transport/keys.js';
import type { WatchHandle, WatchHub } from '../transport/watch-hub.js';
import type { Candidate } from './candidates.js';
import { FeedRelay, type KeyFeed } from './key-feed.js';
import { isHeir } from './term-record.js';

/** The predecessor an heir's watch covers: its key and create revision. */
export interface Predecessor {
  readonly key: string;
  readonly token: bigint;
}

/**
 * The one watch of the candidate next in line, from `fromRevision`: the range from the term record's key to
 * its predecessor's key, inclusive. The record's key sorts just before every candidate key
 * (`<election>.locked-term`, `<election>/<lease>`: '.' < '/'), so the range holds the two keys a handover
 * is about, and the keys of the candidates that sort before the predecessor's: their events are ignored
 * (a wake-up of this one candidate, never of the queue).
 *
 * etcd sends all the events of one revision to one watch in one response (its watchable store batches a
 * watcher's events by revision and never splits a revision), so the resignation's txn — the predecessor's
 * delete and the record naming us — arrives as one response: the record decides at once, with no wait for
 * another response and no read. A deletion that arrives without it was no resignation naming us (a crash,
 * an expiry, a resignation that named none): the wait ends with it, and the caller reads linearizably.
 *
 * `named` resolves with the naming record's revision, once, and never rejects (a failed watch just never
 * names). The predecessor's wait (`waitFor`) resolves with the revision of its key's deletion, or of its
 * key made again by another lease, or with the error that ended the watch first; the predecessor's own
 * writes (its proclaims) are not heard, as the candidate next in line waits (wait-predecessors.ts).
 *
 * `feed` hands the predecessor's events on, before this watch acts on them, to the process's view of the
 * leader's key (key-feed.ts; `predecessor` is the key as the read before `fromRevision` showed it).
 */
export class HeirWatch {
  readonly named: Promise<bigint>;
  readonly #gone: Promise<LockedError | bigint>;
  readonly #predecessor: Predecessor;
  readonly #handle: WatchHandle;
  readonly #relay: FeedRelay;
  #waited = false;

  constructor(
    hub: WatchHub,
    recordKey: string,
    predecessor: Candidate,
    fromRevision: bigint,
    naming: { readonly token: bigint; readonly ttlMs: number },
  ) {
    this.#predecessor = predecessor;
    const relay = new FeedRelay(predecessor, fromRevision);
    this.#relay = relay;
    const record = Buffer.from(recordKey);
    const older = Buffer.from(predecessor.key);
    let name: (revision: bigint) => void = () => undefined;
    let leave: (result: LockedError | bigint) => void = () => undefined;
    this.named = new Promise((resolve) => (name = resolve));
    this.#gone = new Promise((resolve) => (leave = resolve));
    let named = false;
    let gone = false;
    const handle = hub.watch(
      { key: record, rangeEnd: Buffer.concat([older, Buffer.from([0])]), startRevision: fromRevision },
      {
        onEvents: (events) => {
          relay.relay(events);
          if (named) return;
          // The record first: in the resignation's response, the delete comes before it.
          for (const e of events) {
            if (
              e.type === 'Put' &&
              record.equals(e.kv.key) &&
              isHeir(e.kv.value.toString(), naming.token, naming.ttlMs)
            ) {
              named = true;
              this.cancel();
              name(toBigInt(e.kv.mod_revision));
              return;
            }
          }
          if (gone) return;
          for (const e of events) {
            if (!older.equals(e.kv.key)) continue;
            if (e.type === 'Delete' || toBigInt(e.kv.create_revision) !== predecessor.token) {
              gone = true;
              leave(toBigInt(e.kv.mod_revision));
              return;
            }
          }
        },
        onEnd: (err) => {
          gone = true;
          relay.end(err);
          leave(err);
        },
      },
    );
    this.#handle = handle;
  }

  /**
   * The wait for the predecessor this watch covers, once (null for another predecessor or a second wait:
   * the caller watches that key on its own, wait-predecessors.ts). Rejects only on abort.
   */
  waitFor(predecessor: Predecessor, signal: AbortSignal): Promise<LockedError | bigint> | null {
    const own = this.#predecessor;
    if (this.#waited || predecessor.key !== own.key || predecessor.token !== own.token) return null;
    this.#waited = true;
    return raceAbort(this.#gone, signal);
  }

  /** The predecessor's key, relayed for as long as this watch lasts. */
  get feed(): KeyFeed {
    return this.#relay;
  }

  cancel(): void {
    this.#handle.cancel();
    this.#relay.end(null);
  }
}
