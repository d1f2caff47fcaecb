import type * as etcd from 'etcd3';
import type { Clock } from '../core/clock.js';
import { LockedError } from '../errors.js';
import { classify } from './classify.js';
import { toBigInt } from './keys.js';
import { askedStart, fromStart } from './watch-start.js';
import type { WatchCalls, WatchStream } from './transport.js';
import type { WatchHandle, WatchHandlers, WatchTarget } from './watch.js';

export type { WatchHandle, WatchHandlers, WatchTarget } from './watch.js';

interface Sub {
  readonly target: WatchTarget;
  readonly handlers: WatchHandlers;
  /** etcd's ID for it, once created. */
  id: string | null;
  done: boolean;
}

/**
 * The stream, as a state; each transition replaces it whole.
 * - `none`: no stream and no watch; the next watch opens one.
 * - `opening`: a stream is being opened; `pending` watches wait for it.
 * - `open`: `pending` watches have been sent and await etcd's `created`, in order; `active` ones deliver
 *   events, by watch ID; `cancels`: IDs of cancelled watches etcd has not been told of. Its timers (each
 *   a cancel function, or null when not running): `create` fails every watch when etcd does not
 *   acknowledge a create in time; `probe` does the same when a progress request goes unanswered; `idle`
 *   closes the stream once no watch is left; `cancel` tells etcd of the `cancels`.
 */
type HubState =
  | { readonly kind: 'none' }
  | { readonly kind: 'opening'; readonly pending: Sub[] }
  | {
      readonly kind: 'open';
      readonly stream: WatchStream;
      readonly pending: Sub[];
      readonly active: Map<string, Sub>;
      readonly cancels: string[];
      readonly timers: { create: Timer; probe: Timer; idle: Timer; cancel: Timer };
    };
type OpenHub = Extract<HubState, { kind: 'open' }>;
type Timer = (() => void) | null;

/**
 * How long a stream with no watch left stays open before it is closed. A handover cancels one watch and
 * creates the next within milliseconds (the successor's predecessor watch, then its term's key watch):
 * closing and reopening the call in between put a gRPC stream tear-down and set-up (about 1 ms of CPU
 * each) on its critical path. The open call keeps Node's event loop alive meanwhile: a program that ends
 * its last watch without closing the client exits up to this much later.
 */
const IDLE_CLOSE_MS = 2_000;

/**
 * How long after a cancel etcd is told, with the other cancels due then. Nothing waits on it, and watches
 * end at a handover's instant (the leader's key watch as it resigns, the heir's as it leads): told at
 * once, etcd did that work while it committed the resignation and delivered it (README "Performance").
 */
export const CANCEL_AFTER_MS = 50;

/**
 * All watches of one client multiplexed on one gRPC watch stream, as etcd's Go
 * client does. etcd answers create requests on a stream in the order they were
 * sent, so a FIFO of pending creates pairs each `created` reply with its watch.
 * Each watch keeps the contract of watch.ts.
 */
export class WatchHub {
  readonly #calls: WatchCalls;
  readonly #clock: Clock;
  readonly #createTimeoutMs: number;
  #state: HubState = { kind: 'none' };

  /** @internal */
  constructor(calls: WatchCalls, clock: Clock) {
    this.#calls = calls;
    this.#clock = clock;
    this.#createTimeoutMs = Math.min(calls.requestTimeoutMs, 2000);
  }

  /** Watches not yet ended or cancelled, created or not. */
  get size(): number {
    const s = this.#state;
    return s.kind === 'none' ? 0 : s.pending.length + (s.kind === 'open' ? s.active.size : 0);
  }

  watch(target: WatchTarget, handlers: WatchHandlers): WatchHandle {
    const sub: Sub = { target, handlers, id: null, done: false };
    const s = this.#state;
    if (s.kind === 'open') {
      this.#stopTimer(s, 'idle');
      s.pending.push(sub);
      this.#sendCreate(s, sub);
    } else if (s.kind === 'opening') {
      s.pending.push(sub);
    } else {
      this.#state = { kind: 'opening', pending: [sub] };
      this.#open();
    }
    return { cancel: () => this.#cancel(sub) };
  }

  /**
   * Proves the stream alive after a connection problem seen elsewhere (a keepalive failure): a progress
   * request must be answered within the create timeout, or every watch is failed so that its owner
   * re-reads and watches again on a new stream. Never sent while all is well: an idle process does not poll.
   */
  probe(): void {
    const s = this.#state;
    if (s.kind !== 'open' || s.timers.probe) return;
    s.stream.write({ progress_request: {} });
    this.#startTimer(s, 'probe', this.#createTimeoutMs, () =>
      this.#failAll(
        new LockedError('UNAVAILABLE', `watch stream silent for ${this.#createTimeoutMs} ms after a progress request`),
      ),
    );
  }

  /** Ends every watch with CLOSED and closes the stream. */
  close(): void {
    this.#failAll(new LockedError('CLOSED', 'client closed'));
  }

  #open(): void {
    this.#calls.openWatch().then(
      (stream) => {
        const s = this.#state;
        if (s.kind !== 'opening') {
          stream.cancel(); // every watch ended meanwhile
          return;
        }
        const pending = s.pending.filter((sub) => !sub.done);
        if (pending.length === 0 || this.#calls.closed) {
          stream.cancel();
          this.#state = { kind: 'none' };
          // The client was closed meanwhile (on a connection the caller owns, the stream still opens):
          // the watches waiting for it end with CLOSED, as if the client had closed after it opened.
          if (this.#calls.closed) for (const sub of pending) this.#end(sub, new LockedError('CLOSED', 'client closed'));
          return;
        }
        const open: OpenHub = {
          kind: 'open',
          stream,
          pending,
          active: new Map(),
          cancels: [],
          timers: { create: null, probe: null, idle: null, cancel: null },
        };
        this.#state = open;
        stream.on('data', (res) => this.#onResponse(stream, res));
        stream.on('error', (err) => this.#onStreamEnd(stream, classify(err, 'watch stream')));
        stream.on('end', () => this.#onStreamEnd(stream, new LockedError('UNAVAILABLE', 'watch stream ended')));
        for (const sub of pending) this.#sendCreate(open, sub);
      },
      (err: unknown) => {
        if (this.#state.kind === 'opening') this.#failAll(classify(err, 'watch stream'));
      },
    );
  }

  #sendCreate(s: OpenHub, sub: Sub): void {
    if (!s.timers.create) this.#armCreateTimer(s);
    const { key, rangeEnd, startRevision } = sub.target;
    const start_revision = askedStart(startRevision).toString();
    s.stream.write({ create_request: { key, ...(rangeEnd ? { range_end: rangeEnd } : {}), start_revision } });
  }

  /**
   * A create that etcd does not acknowledge in time means the stream sits on a hung member: fail every
   * watch (callers re-read and watch again) and drop the stream, so the next one goes to a member drawn anew.
   */
  #armCreateTimer(s: OpenHub): void {
    const late = `etcd did not acknowledge a watch within ${this.#createTimeoutMs} ms`;
    this.#startTimer(s, 'create', this.#createTimeoutMs, () => {
      if (s.pending.length > 0) this.#failAll(new LockedError('UNAVAILABLE', late));
    });
  }

  #onResponse(stream: WatchStream, res: etcd.IWatchResponse): void {
    const s = this.#state;
    if (s.kind !== 'open' || s.stream !== stream) return;
    this.#stopTimer(s, 'probe'); // any response proves the stream alive
    let sub: Sub | undefined;
    if (res.created) {
      sub = s.pending.shift();
      this.#stopTimer(s, 'create');
      if (s.pending.length > 0) this.#armCreateTimer(s);
      if (!sub) return;
      sub.id = res.watch_id;
      if (sub.done) {
        stream.write({ cancel_request: { watch_id: res.watch_id } });
        this.#maybeIdle(s);
        return;
      }
      s.active.set(res.watch_id, sub);
    } else {
      sub = s.active.get(res.watch_id);
      if (!sub) return;
    }
    const compactRevision = toBigInt(res.compact_revision);
    if (res.canceled || compactRevision > 0n) {
      s.active.delete(res.watch_id);
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
      this.#maybeIdle(s);
      return;
    }
    const events = fromStart(res.events, sub.target.startRevision);
    if (events.length > 0) {
      this.#calls.trace.received('watch', res);
      sub.handlers.onEvents(events, toBigInt(res.header.revision));
    }
  }

  /**
   * Nothing is delivered to a cancelled watch from now on (etcd's events meanwhile are dropped); etcd is
   * told CANCEL_AFTER_MS later. A watch not yet created is cancelled when etcd's `created` names its ID.
   */
  #cancel(sub: Sub): void {
    if (sub.done) return;
    sub.done = true;
    const s = this.#state;
    if (s.kind !== 'open') return; // opening: the open drops it
    const id = sub.id;
    if (id !== null && s.active.delete(id)) {
      s.cancels.push(id);
      if (!s.timers.cancel) this.#startTimer(s, 'cancel', CANCEL_AFTER_MS, () => this.#tellCancels(s));
    }
    this.#maybeIdle(s);
  }

  #tellCancels(s: OpenHub): void {
    for (const id of s.cancels.splice(0)) s.stream.write({ cancel_request: { watch_id: id } });
  }

  #end(sub: Sub, err: LockedError): void {
    if (sub.done) return;
    sub.done = true;
    sub.handlers.onEnd(err);
  }

  #onStreamEnd(stream: WatchStream, err: LockedError): void {
    const s = this.#state;
    if (s.kind === 'open' && s.stream === stream) this.#failAll(err);
  }

  #failAll(err: LockedError): void {
    const s = this.#state;
    this.#state = { kind: 'none' };
    if (s.kind === 'none') return;
    const subs = [...s.pending];
    if (s.kind === 'open') {
      for (const cancel of Object.values(s.timers)) cancel?.();
      subs.push(...s.active.values());
      s.stream.cancel();
    }
    for (const sub of subs) this.#end(sub, err);
  }

  /**
   * With no watch left, the stream is closed after IDLE_CLOSE_MS, so an idle process holds no open call;
   * a watch created meanwhile keeps it. Waits for the outstanding `created` replies first (they pair by order).
   */
  #maybeIdle(s: OpenHub): void {
    if (s.active.size > 0 || s.pending.length > 0 || s.timers.idle) return;
    this.#startTimer(s, 'idle', IDLE_CLOSE_MS, () => {
      this.#state = { kind: 'none' };
      s.stream.cancel(); // etcd keeps a half-closed watch stream open; cancel ends the call on both sides
    });
  }

  /** Runs `fn` after `ms` while `s` is still the state (a background timer: it keeps no process alive). */
  #startTimer(s: OpenHub, which: keyof OpenHub['timers'], ms: number, fn: () => void): void {
    s.timers[which] = this.#clock.setTimer(
      () => {
        s.timers[which] = null;
        if (this.#state === s) fn();
      },
      ms,
      { background: true },
    );
  }

  #stopTimer(s: OpenHub, which: keyof OpenHub['timers']): void {
    s.timers[which]?.();
    s.timers[which] = null;
  }
}
