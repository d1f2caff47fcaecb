import type * as etcd from 'etcd3';
import { LockedError } from '../errors.js';
import { classify } from './classify.js';
import { toBigInt } from './keys.js';
import type { Transport, WatchStream } from './transport.js';

/**
 * All watches of one client multiplexed on one gRPC watch stream, as etcd's Go
 * client does. etcd answers create requests on a stream in the order they were
 * sent, so a FIFO of pending creates pairs each `created` reply with its watch.
 *
 * Contract for a watch: `onEvents` gets the events in revision order; `onEnd`
 * is called at most once, when the watch can deliver no more (stream failure,
 * cancellation by etcd, compaction). After `onEnd` or `cancel()` nothing more is
 * delivered. A caller that needs certainty re-reads and watches again: a watch
 * is a hint to re-check, never proof by itself.
 */
export interface WatchTarget {
  readonly key: Buffer;
  readonly rangeEnd?: Buffer;
  /** First revision to deliver (header revision of the read it follows + 1). */
  readonly startRevision: bigint;
  /** Deliver only deletions. */
  readonly deletesOnly?: boolean;
}

export interface WatchHandlers {
  onEvents(events: etcd.IEvent[], headerRevision: bigint): void;
  onEnd(err: LockedError): void;
}

export interface WatchHandle {
  cancel(): void;
}

interface Sub {
  readonly target: WatchTarget;
  readonly handlers: WatchHandlers;
  id: string | null;
  done: boolean;
}

/**
 * How long a stream with no watch left stays open before it is closed. A
 * handover cancels one watch and creates the next within milliseconds (the
 * successor's predecessor watch, then its term's key watch; the leaver's key
 * watch, then nothing): closing and reopening the call in between put a gRPC
 * stream tear-down and set-up (about 1 ms of CPU each) on its critical path.
 * The open call keeps Node's event loop alive meanwhile: a program that ends
 * its last watch without closing the client exits up to this much later.
 */
const IDLE_CLOSE_MS = 2_000;

export class WatchHub {
  readonly #transport: Transport;
  #stream: WatchStream | null = null;
  #opening = false;
  #pending: Sub[] = [];
  readonly #active = new Map<string, Sub>();
  readonly #createTimeoutMs: number;
  #createTimer: ReturnType<typeof setTimeout> | null = null;
  #probeTimer: ReturnType<typeof setTimeout> | null = null;
  #idleTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(transport: Transport) {
    this.#transport = transport;
    this.#createTimeoutMs = Math.min(transport.requestTimeoutMs, 2000);
  }

  get size(): number {
    return this.#pending.length + this.#active.size;
  }

  watch(target: WatchTarget, handlers: WatchHandlers): WatchHandle {
    this.#clearIdle();
    const sub: Sub = { target, handlers, id: null, done: false };
    this.#pending.push(sub);
    if (this.#stream) this.#sendCreate(this.#stream, sub);
    else this.#open();
    return { cancel: () => this.#cancel(sub) };
  }

  /** Ends every watch with `reason` and drops the stream (used when the connection is suspect). */
  reset(reason: LockedError): void {
    this.#failAll(reason);
  }

  /**
   * Proves the stream alive after a connection problem seen elsewhere (a
   * keepalive failure): a progress request must be answered within the
   * create timeout, or every watch is failed so that its owner re-reads and
   * watches again on a new stream. Never sent while all is well, so an idle
   * process does not poll.
   */
  probe(): void {
    const stream = this.#stream;
    if (!stream || this.#probeTimer) return;
    stream.write({ progress_request: {} });
    this.#probeTimer = setTimeout(() => {
      this.#probeTimer = null;
      if (stream === this.#stream) {
        this.#failAll(
          new LockedError(
            'UNAVAILABLE',
            `watch stream silent for ${this.#createTimeoutMs} ms after a progress request`,
          ),
        );
      }
    }, this.#createTimeoutMs);
    this.#probeTimer.unref();
  }

  #clearProbe(): void {
    if (this.#probeTimer) clearTimeout(this.#probeTimer);
    this.#probeTimer = null;
  }

  /** Ends every watch with CLOSED and closes the stream. */
  close(): void {
    this.#failAll(new LockedError('CLOSED', 'client closed'));
  }

  #open(): void {
    if (this.#opening) return;
    this.#opening = true;
    this.#transport.openWatch().then(
      (stream) => {
        this.#opening = false;
        if (this.size === 0 || this.#transport.closed) {
          stream.cancel();
          // The client was closed meanwhile (on a connection the caller owns, the stream still opens):
          // the watches waiting for it end with CLOSED, as if the client had closed after it opened.
          if (this.#transport.closed) this.#failAll(new LockedError('CLOSED', 'client closed'));
          return;
        }
        this.#stream = stream;
        stream.on('data', (res) => this.#onResponse(stream, res));
        stream.on('error', (err) => this.#onStreamEnd(stream, classify(err, 'watch stream')));
        stream.on('end', () => this.#onStreamEnd(stream, new LockedError('UNAVAILABLE', 'watch stream ended')));
        for (const sub of this.#pending) this.#sendCreate(stream, sub);
      },
      (err: unknown) => {
        this.#opening = false;
        this.#failAll(classify(err, 'watch stream'));
      },
    );
  }

  /**
   * A create that etcd does not acknowledge in time means the stream sits on a
   * hung member: fail every watch (callers re-read and watch again) and drop the
   * stream, so the next one is opened to a member drawn anew.
   */
  #armCreateTimer(stream: WatchStream): void {
    if (this.#createTimer) return;
    this.#createTimer = setTimeout(() => {
      this.#createTimer = null;
      if (stream === this.#stream && this.#pending.length > 0) {
        this.#failAll(
          new LockedError('UNAVAILABLE', `etcd did not acknowledge a watch within ${this.#createTimeoutMs} ms`),
        );
      }
    }, this.#createTimeoutMs);
    this.#createTimer.unref();
  }

  #clearCreateTimer(): void {
    if (this.#createTimer) clearTimeout(this.#createTimer);
    this.#createTimer = null;
  }

  #sendCreate(stream: WatchStream, sub: Sub): void {
    this.#armCreateTimer(stream);
    const { key, rangeEnd, startRevision, deletesOnly } = sub.target;
    stream.write({
      create_request: {
        key,
        ...(rangeEnd ? { range_end: rangeEnd } : {}),
        start_revision: startRevision.toString(),
        ...(deletesOnly ? { filters: ['Noput'] } : {}),
      },
    });
  }

  #onResponse(stream: WatchStream, res: etcd.IWatchResponse): void {
    if (stream !== this.#stream) return;
    this.#clearProbe(); // any response proves the stream alive
    let sub: Sub | undefined;
    if (res.created) {
      sub = this.#pending.shift();
      this.#clearCreateTimer();
      if (this.#pending.length > 0) this.#armCreateTimer(stream);
      if (!sub) return;
      sub.id = res.watch_id;
      if (sub.done) {
        stream.write({ cancel_request: { watch_id: res.watch_id } });
        this.#maybeIdle();
        return;
      }
      this.#active.set(res.watch_id, sub);
    } else {
      sub = this.#active.get(res.watch_id);
      if (!sub) return;
    }
    const compactRevision = toBigInt(res.compact_revision);
    if (res.canceled || compactRevision > 0n) {
      this.#active.delete(res.watch_id);
      const err =
        compactRevision > 0n
          ? new LockedError(
              'COMPACTED',
              `watch from revision ${sub.target.startRevision} needs compacted revision ${compactRevision}`,
            )
          : classify(new Error(res.cancel_reason || 'watch canceled by etcd'), 'watch');
      if (/invalid auth token/.test(res.cancel_reason)) {
        // The stream carries the token it was opened with; a new stream gets a fresh one.
        this.#failAll(err);
        return;
      }
      this.#end(sub, err);
      this.#maybeIdle();
      return;
    }
    if (res.events.length > 0) {
      this.#transport.trace.received('watch', res);
      sub.handlers.onEvents(res.events, toBigInt(res.header.revision));
    }
  }

  /**
   * Nothing is delivered to a cancelled watch from now on; etcd is told on the
   * next turn of the event loop, so that a request made right after the cancel
   * (a resign after its term's watch ends, a read after the predecessor's
   * delete) is not queued behind the cancel's encoding and write.
   */
  #cancel(sub: Sub): void {
    if (sub.done) return;
    sub.done = true;
    const id = sub.id;
    const stream = this.#stream;
    if (id !== null && this.#active.delete(id) && stream) {
      setImmediate(() => {
        if (stream === this.#stream) stream.write({ cancel_request: { watch_id: id } });
      });
    }
    this.#maybeIdle();
  }

  #end(sub: Sub, err: LockedError): void {
    if (sub.done) return;
    sub.done = true;
    sub.handlers.onEnd(err);
  }

  #onStreamEnd(stream: WatchStream, err: LockedError): void {
    if (stream !== this.#stream) return;
    this.#failAll(err);
  }

  #failAll(err: LockedError): void {
    this.#clearIdle();
    this.#clearCreateTimer();
    this.#clearProbe();
    const stream = this.#stream;
    this.#stream = null;
    const subs = [...this.#pending, ...this.#active.values()];
    this.#pending = [];
    this.#active.clear();
    stream?.cancel();
    for (const sub of subs) this.#end(sub, err);
  }

  /**
   * With no watch left, the stream is closed after IDLE_CLOSE_MS, so an idle
   * process holds no open call; a watch created meanwhile keeps it.
   */
  #maybeIdle(): void {
    if (this.#active.size > 0 || this.#pending.some((s) => !s.done)) return;
    if (this.#pending.length > 0) return; // wait for the outstanding `created` replies first
    if (!this.#stream || this.#idleTimer) return;
    const stream = this.#stream;
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      if (stream !== this.#stream || this.size > 0) return;
      this.#stream = null;
      stream.cancel(); // etcd keeps a half-closed watch stream open; cancel ends the call on both sides
    }, IDLE_CLOSE_MS);
    this.#idleTimer.unref();
  }

  #clearIdle(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
  }
}
