import { instant, type Clock, type Instant } from '../core/clock.js';
import { Listeners } from '../core/listeners.js';
import { raceAbort } from '../core/abort.js';
import { LockedError } from '../errors.js';
import type { KeepAliveStream, Transport } from '../transport/transport.js';
import { classify } from '../transport/classify.js';
import { Lease } from './lease.js';
import { renewIntervalMs } from './deadline.js';
import { revokeLostLease } from './revoke.js';

export interface SessionOptions {
  readonly ttlSec: number;
  readonly driftRate: number;
  readonly marginMs: number;
  readonly clock: Clock;
}

/**
 * A session keeps one lease alive (port of concurrency/session.go, with the
 * deadline measured from the send): one keepalive every ttl/3 on a stream,
 * whatever the number of elections using the lease. When the lease is lost the
 * session grants a fresh one on the next `lease()` call; elections re-campaign
 * on it. A lost lease is revoked (best effort) so that its keys go at once.
 * A keepalive unanswered for half an interval, or a failed stream, is resent
 * on a new stream (to a member drawn anew) after a short jittered pause, again
 * and again until a reply comes or the lease's deadline passes.
 */
export class Session {
  readonly ttlSec: number;
  readonly #transport: Transport;
  readonly #options: SessionOptions;
  readonly #renewMs: number;
  readonly #replyTimeoutMs: number;
  #lease: Lease | null = null;
  #granting: Promise<Lease> | null = null;
  #stream: KeepAliveStream | null = null;
  #outstanding: Instant[] = [];
  #cancelTick: () => void = () => undefined;
  #cancelWatchdog: (() => void) | null = null;
  #cancelRetry: () => void = () => undefined;
  #retryPending = false;
  #opening = false;
  #closed = false;
  #closing: Promise<void> | null = null;

  /** @internal Each successful keepalive of the current lease, with when it was sent and its round trip. */
  readonly renewed = new Listeners<[Lease, { sentAt: Instant; rttMs: number }]>();
  /** @internal Failures of keepalive or grant (the session recovers by itself). */
  readonly errors = new Listeners<[LockedError]>();
  /** @internal Called once when `close()` has finished (the lease revoked or given up); then every listener is dropped. */
  readonly closed = new Listeners<[]>();
  /** @internal Names of the elections this session campaigns in or leads (one candidate key per lease and election). */
  readonly elections = new Set<string>();
  /** Work that `close()` awaits before it revokes the lease (terms resigning gracefully). */
  readonly #beforeClose = new Set<() => Promise<void>>();

  /** @internal */
  constructor(transport: Transport, options: SessionOptions) {
    this.#transport = transport;
    this.#options = options;
    this.ttlSec = options.ttlSec;
    this.#renewMs = renewIntervalMs(options.ttlSec);
    this.#replyTimeoutMs = this.#renewMs / 2;
  }

  /** The current lease if it is still provably live. */
  current(): Lease | null {
    return this.#lease?.isLive() ? this.#lease : null;
  }

  /** The current live lease, granting a new one if there is none. Concurrent callers share one grant. */
  lease(signal?: AbortSignal): Promise<Lease> {
    if (this.#closed) return Promise.reject(new LockedError('CLOSED', 'session is closed'));
    const live = this.current();
    if (live) return Promise.resolve(live);
    this.#granting ??= this.#grant().finally(() => {
      this.#granting = null;
    });
    return raceAbort(this.#granting, signal);
  }

  async #grant(): Promise<Lease> {
    const { clock, driftRate, marginMs } = this.#options;
    const sentAt = instant(clock);
    let grant;
    try {
      grant = await this.#transport.grant(Math.ceil(this.ttlSec));
    } catch (err) {
      const error = classify(err, 'lease grant');
      this.errors.emit(error);
      throw error;
    }
    const lease = new Lease(grant.leaseId, grant.ttlSec, sentAt, clock, driftRate, marginMs);
    if (this.#closed) {
      lease.end('session closed');
      revokeLostLease(this.#transport, lease, this.#options.clock);
      throw new LockedError('CLOSED', 'session is closed');
    }
    this.#adopt(lease);
    return lease;
  }

  #adopt(lease: Lease): void {
    this.#lease = lease;
    lease.signal.addEventListener('abort', () => this.#onLeaseEnded(lease), { once: true });
    this.#scheduleTick();
    this.#openStream(lease); // open (and renew) now, so the first renewal does not pay for the stream set-up
  }

  #onLeaseEnded(lease: Lease): void {
    if (this.#lease !== lease) return;
    this.#lease = null;
    this.#cancelTick();
    this.#cancelRetry();
    this.#retryPending = false;
    this.#dropStream();
    // Its terms first tell etcd they have stopped (marked resignations let successors lead at once),
    // then the lease goes.
    void lease.beforeRevoke().then(() => revokeLostLease(this.#transport, lease, this.#options.clock));
  }

  #scheduleTick(): void {
    this.#cancelTick();
    this.#cancelTick = this.#options.clock.setTimer(() => this.#tick(), this.#renewMs);
  }

  #tick(): void {
    const lease = this.#lease;
    if (!lease || !lease.isLive()) return;
    this.#scheduleTick();
    if (this.#stream) this.#send(this.#stream, lease);
    else if (!this.#opening && !this.#retryPending) this.#openStream(lease);
  }

  #send(stream: KeepAliveStream, lease: Lease): void {
    this.#outstanding.push(instant(this.#options.clock));
    stream.write({ ID: lease.id.toString() });
    this.#armWatchdog(stream, lease);
  }

  /**
   * A keepalive unanswered for half a renew interval means the stream is stuck
   * (a hung member, a silently dead connection): drop it and resend on a new
   * one, drawn to a random member, instead of waiting for the next tick.
   * Not fooled by our own event loop: the verdict waits for pending I/O, and
   * a timer that fires late by more than half the window (the loop was blocked,
   * so the request itself may have left late) gives the request one more window.
   * Safety does not depend on this: the lease deadline is kept from send times.
   */
  #armWatchdog(stream: KeepAliveStream, lease: Lease, notBefore = -Infinity): void {
    if (this.#cancelWatchdog) return;
    const oldest = this.#outstanding[0];
    if (oldest === undefined) return;
    const { clock } = this.#options;
    const dueAt = Math.max(oldest.mono + this.#replyTimeoutMs, notBefore);
    let cancelled = false;
    const cancelTimer = clock.setTimer(() => {
      // Node runs due timers before it reads sockets, so after the event loop was blocked (a burst of
      // work, a GC pause) a reply may be waiting unread: judge only once pending I/O has been handled.
      clock.afterPendingIo(() => {
        if (cancelled) return; // a reply came (or the stream changed) meanwhile
        this.#cancelWatchdog = null;
        if (this.#stream !== stream) return;
        const first = this.#outstanding[0];
        if (first === undefined) return;
        const now = clock.now();
        if (first === oldest && notBefore === -Infinity && now - dueAt > this.#replyTimeoutMs / 2) {
          this.#armWatchdog(stream, lease, now + this.#replyTimeoutMs);
        } else if (now - first.mono >= this.#replyTimeoutMs) {
          this.#recover(
            lease,
            new LockedError('UNAVAILABLE', `no keepalive reply within ${Math.round(this.#replyTimeoutMs)} ms`),
          );
        } else {
          this.#armWatchdog(stream, lease);
        }
      });
    }, dueAt - clock.now());
    this.#cancelWatchdog = () => {
      cancelled = true;
      cancelTimer();
    };
  }

  #clearWatchdog(): void {
    this.#cancelWatchdog?.();
    this.#cancelWatchdog = null;
  }

  /** After a stream failure: report it, then reopen and resend after a short jittered pause, until the lease ends. */
  #recover(lease: Lease, error: LockedError): void {
    this.#dropStream();
    this.errors.emit(error);
    if (this.#retryPending || this.#lease !== lease) return;
    this.#retryPending = true;
    const pauseMs = 50 + Math.random() * 200;
    this.#cancelRetry = this.#options.clock.setTimer(() => {
      this.#retryPending = false;
      if (this.#lease === lease && lease.isLive() && !this.#stream && !this.#opening) this.#openStream(lease);
    }, pauseMs);
  }

  #openStream(lease: Lease): void {
    this.#opening = true;
    this.#transport.openKeepAlive().then(
      (stream) => {
        this.#opening = false;
        if (this.#lease !== lease || this.#stream || !lease.isLive()) {
          stream.cancel();
          return;
        }
        this.#stream = stream;
        this.#outstanding = [];
        stream.on('data', (res) => {
          if (this.#stream !== stream) return;
          this.#transport.trace.received('keepalive', res);
          const sentAt = this.#outstanding.shift();
          if (sentAt === undefined) return;
          this.#clearWatchdog();
          this.#armWatchdog(stream, lease);
          const ttl = Number(res.TTL);
          if (!(ttl > 0)) {
            lease.end('etcd reports the lease expired (keepalive TTL 0)');
            return;
          }
          lease.renewed(sentAt, ttl);
          this.renewed.emit(lease, { sentAt, rttMs: this.#options.clock.now() - sentAt.mono });
        });
        const onFail = (err: unknown): void => {
          if (this.#stream === stream) this.#recover(lease, classify(err, 'lease keepalive'));
        };
        stream.on('error', onFail);
        stream.on('end', () => onFail(new Error('keepalive stream ended')));
        this.#send(stream, lease);
      },
      (err: unknown) => {
        this.#opening = false;
        this.#recover(lease, classify(err, 'lease keepalive stream'));
      },
    );
  }

  #dropStream(): void {
    this.#detachStream()?.cancel();
  }

  /** Stops using the keepalive stream (its replies are ignored from now on) and returns it, to be cancelled. */
  #detachStream(): KeepAliveStream | null {
    const stream = this.#stream;
    this.#stream = null;
    this.#outstanding = [];
    this.#clearWatchdog();
    return stream;
  }

  /** @internal Registers `fn` for `close()` to await before it revokes the lease; returns the function that removes it. */
  beforeClose(fn: () => Promise<void>): () => void {
    this.#beforeClose.add(fn);
    return () => {
      this.#beforeClose.delete(fn);
    };
  }

  /**
   * Ends the session: its terms resign (the `beforeClose` work), then the lease is revoked (its keys go with it). Idempotent:
   * every call returns the first call's promise, so a caller that closes the
   * connection next (the client's close) waits for a revoke still in flight.
   * The keepalive call is cancelled after the revoke, so that its tear-down
   * (about 1 ms of CPU in gRPC) does not delay the revoke, which is what a
   * successor waits for.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#beforeClose].map((fn) => fn().catch(() => undefined)));
    const lease = this.#lease;
    this.#lease = null;
    this.#cancelTick();
    this.#cancelRetry();
    const stream = this.#detachStream();
    if (lease) {
      lease.end('session closed');
      await this.#transport.revoke(lease.id).catch(() => undefined);
    }
    stream?.cancel();
    this.closed.emit();
    this.renewed.clear();
    this.errors.clear();
    this.closed.clear();
  }
}
