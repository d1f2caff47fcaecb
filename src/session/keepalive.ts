import type * as etcd from 'etcd3';
import { instant, randomOf, type Clock, type Instant } from '../core/clock.js';
import { LockedError } from '../errors.js';
import { classify } from '../transport/classify.js';
import type { KeepAliveStream, LeaseCalls } from '../transport/transport.js';
import type { Lease } from './lease.js';

/** What a keepalive tells its session. */
export interface KeepAliveEvents {
  /** A keepalive sent at `sentAt` was answered and renewed the lease. */
  renewed(sentAt: Instant, rttMs: number): void;
  /** The stream failed or went silent; the keepalive recovers by itself. */
  failed(error: LockedError): void;
}

/**
 * The keepalive stream of one lease, as a state:
 * - `opening`: a stream is being opened (it sends a keepalive as soon as it is);
 * - `open`: keepalives go on `stream`; `outstanding` are the send times of those
 *   not answered yet, oldest first; `cancelWatchdog` cancels the timer that
 *   judges the oldest;
 * - `pausing`: the last stream failed; a new one is opened when the jittered
 *   pause ends (`cancel` ends it sooner);
 * - `stopped`: for good (the lease ended or the session is closing).
 */
type Link =
  | { readonly kind: 'opening' }
  | {
      readonly kind: 'open';
      readonly stream: KeepAliveStream;
      readonly outstanding: Instant[];
      readonly cancelWatchdog: (() => void) | null;
    }
  | { readonly kind: 'pausing'; readonly cancel: () => void }
  | { readonly kind: 'stopped' };
type OpenLink = Extract<Link, { kind: 'open' }>;

/**
 * Keeps one lease renewed (port of clientv3's keepalive loop, with the deadline
 * measured from the send): a keepalive every `renewMs` on a stream. A keepalive
 * unanswered for half an interval, or a failed stream, is resent on a new
 * stream (to a member drawn anew) after a short jittered pause, again and again
 * until a reply comes or the lease's deadline passes (then the lease ends, and
 * its session stops this). Safety does not depend on any of it: the lease's
 * deadline counts only from keepalives etcd answered.
 */
export class KeepAlive {
  readonly #lease: Lease;
  readonly #calls: LeaseCalls;
  readonly #clock: Clock;
  readonly #renewMs: number;
  readonly #replyTimeoutMs: number;
  readonly #events: KeepAliveEvents;
  #link: Link = { kind: 'opening' };
  #cancelTick: () => void = () => undefined;

  constructor(lease: Lease, calls: LeaseCalls, clock: Clock, renewMs: number, events: KeepAliveEvents) {
    this.#lease = lease;
    this.#calls = calls;
    this.#clock = clock;
    this.#renewMs = renewMs;
    this.#replyTimeoutMs = renewMs / 2;
    this.#events = events;
    this.#scheduleTick();
    this.#open(); // now, so that the first renewal does not pay for the stream set-up
  }

  /**
   * Stops for good: no more keepalives, pauses or reopens. Returns the stream
   * (its replies ignored from now on) for the caller to cancel when it suits it
   * (a session closing cancels it after its revoke), or null.
   */
  stop(): KeepAliveStream | null {
    const link = this.#link;
    this.#link = { kind: 'stopped' };
    this.#cancelTick();
    if (link.kind === 'pausing') link.cancel();
    if (link.kind !== 'open') return null;
    link.cancelWatchdog?.();
    return link.stream;
  }

  #scheduleTick(): void {
    this.#cancelTick = this.#clock.setTimer(() => this.#tick(), this.#renewMs);
  }

  #tick(): void {
    if (this.#link.kind === 'stopped' || !this.#lease.isLive()) return; // a lease past its deadline ends now
    this.#scheduleTick();
    if (this.#link.kind === 'open') this.#send(this.#link); // opening or pausing: the new stream sends
  }

  #send(link: OpenLink): void {
    link.outstanding.push(instant(this.#clock));
    link.stream.write({ ID: this.#lease.id.toString() });
    this.#armWatchdog(link);
  }

  #open(): void {
    this.#link = { kind: 'opening' };
    this.#calls.openKeepAlive().then(
      (stream) => {
        if (this.#link.kind !== 'opening' || !this.#lease.isLive()) {
          stream.cancel();
          return;
        }
        const link: Link = { kind: 'open', stream, outstanding: [], cancelWatchdog: null };
        this.#link = link;
        stream.on('data', (res) => this.#onReply(stream, res));
        const onFail = (err: unknown): void => {
          if (this.#isOpenOn(stream)) this.#recover(classify(err, 'lease keepalive'));
        };
        stream.on('error', onFail);
        stream.on('end', () => onFail(new Error('keepalive stream ended')));
        this.#send(link);
      },
      (err: unknown) => {
        if (this.#link.kind === 'opening') this.#recover(classify(err, 'lease keepalive stream'));
      },
    );
  }

  #isOpenOn(stream: KeepAliveStream): boolean {
    return this.#link.kind === 'open' && this.#link.stream === stream;
  }

  #onReply(stream: KeepAliveStream, res: etcd.ILeaseKeepAliveResponse): void {
    const link = this.#link;
    if (link.kind !== 'open' || link.stream !== stream) return;
    this.#calls.trace.received('keepalive', res);
    const ttlSec = Number(res.TTL);
    const sentAt = link.outstanding.shift();
    if (sentAt === undefined) return;
    link.cancelWatchdog?.();
    const next: OpenLink = { ...link, cancelWatchdog: null };
    this.#link = next;
    this.#armWatchdog(next);
    if (!(ttlSec > 0)) {
      this.#lease.end('etcd reports the lease expired (keepalive TTL 0)');
      return;
    }
    this.#lease.renewed(sentAt, ttlSec);
    this.#events.renewed(sentAt, this.#clock.now() - sentAt.mono);
  }

  /**
   * A keepalive unanswered for half a renew interval means the stream is stuck
   * (a hung member, a silently dead connection): drop it and resend on a new
   * one instead of waiting for the next tick. Not fooled by our own event loop:
   * the verdict waits for pending I/O, and a timer that fires late by more than
   * half the window (the loop was blocked, so the request itself may have left
   * late) gives the request one more window.
   */
  #armWatchdog(link: OpenLink, notBefore = -Infinity): void {
    if (link.cancelWatchdog) return;
    const oldest = link.outstanding[0];
    if (oldest === undefined) return;
    const clock = this.#clock;
    const dueAt = Math.max(oldest.mono + this.#replyTimeoutMs, notBefore);
    let cancelled = false;
    const cancelTimer = clock.setTimer(() => {
      // Node runs due timers before it reads sockets, so after the event loop was blocked (a burst of
      // work, a GC pause) a reply may be waiting unread: judge only once pending I/O has been handled.
      clock.afterPendingIo(() => {
        const link = this.#link;
        if (cancelled || link.kind !== 'open' || link.stream !== armed.stream) return; // a reply came, or the stream went
        const current: OpenLink = { ...link, cancelWatchdog: null };
        this.#link = current;
        const first = current.outstanding[0];
        if (first === undefined) return;
        const now = clock.now();
        if (first === oldest && notBefore === -Infinity && now - dueAt > this.#replyTimeoutMs / 2) {
          this.#armWatchdog(current, now + this.#replyTimeoutMs);
        } else if (now - first.mono >= this.#replyTimeoutMs) {
          this.#recover(
            new LockedError('UNAVAILABLE', `no keepalive reply within ${Math.round(this.#replyTimeoutMs)} ms`),
          );
        } else {
          this.#armWatchdog(current);
        }
      });
    }, dueAt - clock.now());
    const armed: OpenLink = {
      ...link,
      cancelWatchdog: () => {
        cancelled = true;
        cancelTimer();
      },
    };
    this.#link = armed;
  }

  /** After a stream failure: drop the stream, report, and reopen after a short jittered pause. */
  #recover(error: LockedError): void {
    const link = this.#link;
    if (link.kind === 'stopped' || link.kind === 'pausing') return;
    if (link.kind === 'open') {
      link.cancelWatchdog?.();
      link.stream.cancel();
    }
    const pauseMs = 50 + randomOf(this.#clock)() * 200;
    const cancel = this.#clock.setTimer(() => {
      if (this.#link.kind === 'pausing' && this.#lease.isLive()) this.#open();
    }, pauseMs);
    this.#link = { kind: 'pausing', cancel };
    this.#events.failed(error);
  }
}
