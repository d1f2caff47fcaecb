import { instant, type Clock, type Instant } from '../core/clock.js';
import { Listeners } from '../core/listeners.js';
import { raceAbort } from '../core/abort.js';
import { LockedError } from '../errors.js';
import type { LeaseCalls } from '../transport/transport.js';
import { classify } from '../transport/classify.js';
import { KeepAlive } from './keepalive.js';
import { Lease } from './lease.js';
import { renewIntervalMs } from './deadline.js';
import { revokeLostLease } from './revoke.js';

export interface SessionOptions {
  readonly ttlSec: number;
  readonly driftRate: number;
  readonly marginMs: number;
  readonly clock: Clock;
}

/** A lease the session holds, and the keepalive that renews it. */
interface Held {
  readonly lease: Lease;
  readonly keepAlive: KeepAlive;
}

/**
 * What the session is doing; each transition replaces it whole.
 * - `idle`: no lease; the next `lease()` grants one.
 * - `granting`: a grant is in flight; concurrent callers share it.
 * - `live`: `held` is renewed; when it is lost the session goes back to `idle`.
 * - `closing`: `close()` was called; no lease is granted any more, while the
 *   one held (if any) is still renewed until its terms have resigned.
 * - `closed`: the lease was revoked (or given up); nothing runs.
 */
type SessionState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'granting'; readonly grant: Promise<Lease> }
  | { readonly kind: 'live'; readonly held: Held }
  | { readonly kind: 'closing'; readonly held: Held | null; readonly done: Promise<void> }
  | { readonly kind: 'closed'; readonly done: Promise<void> };

/**
 * A session keeps one lease alive (port of concurrency/session.go): one
 * keepalive stream (keepalive.ts), whatever the number of elections using the
 * lease. When the lease is lost the session grants a fresh one on the next
 * `lease()` call; elections re-campaign on it. A lost lease is revoked (best
 * effort, after its terms have told etcd they stopped) so that its keys go at once.
 *
 * Two ways to end, as in etcd's concurrency package: a term resigns; a session
 * closes (its terms resign, then the lease is revoked).
 */
export class Session {
  readonly ttlSec: number;
  readonly #calls: LeaseCalls;
  readonly #options: SessionOptions;
  readonly #renewMs: number;
  #state: SessionState = { kind: 'idle' };

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
  constructor(calls: LeaseCalls, options: SessionOptions) {
    this.#calls = calls;
    this.#options = options;
    this.ttlSec = options.ttlSec;
    this.#renewMs = renewIntervalMs(options.ttlSec);
  }

  /** The current lease if it is still provably live. */
  current(): Lease | null {
    const state = this.#state;
    const lease = state.kind === 'live' || state.kind === 'closing' ? state.held?.lease : undefined;
    return lease?.isLive() ? lease : null; // a lease past its deadline ends here, and the state moves on
  }

  /** The current live lease, granting a new one if there is none. Concurrent callers share one grant. */
  lease(signal?: AbortSignal): Promise<Lease> {
    if (this.#state.kind === 'closing' || this.#state.kind === 'closed') {
      return Promise.reject(new LockedError('CLOSED', 'session is closed'));
    }
    const live = this.current();
    if (live) return Promise.resolve(live);
    if (this.#state.kind !== 'granting') this.#state = { kind: 'granting', grant: this.#grant() };
    return raceAbort(this.#state.grant, signal);
  }

  async #grant(): Promise<Lease> {
    const { clock, driftRate, marginMs } = this.#options;
    const sentAt = instant(clock);
    let grant;
    try {
      grant = await this.#calls.grant(Math.ceil(this.ttlSec));
    } catch (err) {
      const error = classify(err, 'lease grant');
      if (this.#state.kind === 'granting') this.#state = { kind: 'idle' };
      this.errors.emit(error);
      throw error;
    }
    const lease = new Lease(grant.leaseId, grant.ttlSec, sentAt, clock, driftRate, marginMs);
    if (this.#state.kind !== 'granting') {
      // Closed meanwhile: nobody will use it.
      lease.end('session closed');
      revokeLostLease(this.#calls, lease, clock);
      throw new LockedError('CLOSED', 'session is closed');
    }
    const keepAlive = new KeepAlive(lease, this.#calls, clock, this.#renewMs, {
      renewed: (at, rttMs) => this.renewed.emit(lease, { sentAt: at, rttMs }),
      failed: (error) => this.errors.emit(error),
    });
    this.#state = { kind: 'live', held: { lease, keepAlive } };
    lease.signal.addEventListener('abort', () => this.#onLeaseEnded(lease), { once: true });
    return lease;
  }

  /** The held lease ended (deadline, etcd said so, or lost): stop renewing; its terms tell etcd; then revoke it. */
  #onLeaseEnded(lease: Lease): void {
    const state = this.#state;
    if ((state.kind !== 'live' && state.kind !== 'closing') || state.held?.lease !== lease) return;
    this.#state = state.kind === 'live' ? { kind: 'idle' } : { ...state, held: null };
    state.held.keepAlive.stop()?.cancel();
    // Marked resignations let successors lead at once; then the lease goes.
    void lease.beforeRevoke().then(() => revokeLostLease(this.#calls, lease, this.#options.clock));
  }

  /** @internal Registers `fn` for `close()` to await before it revokes the lease; returns the function that removes it. */
  beforeClose(fn: () => Promise<void>): () => void {
    this.#beforeClose.add(fn);
    return () => {
      this.#beforeClose.delete(fn);
    };
  }

  /**
   * Ends the session: its terms resign (the `beforeClose` work), then the lease
   * is revoked (its keys go with it). Idempotent: every call returns the first
   * call's promise, so a caller that closes the connection next (the client's
   * close) waits for a revoke still in flight. The keepalive call is cancelled
   * after the revoke, so that its tear-down (about 1 ms of CPU in gRPC) does not
   * delay the revoke, which is what a successor waits for.
   */
  close(): Promise<void> {
    const state = this.#state;
    if (state.kind === 'closing' || state.kind === 'closed') return state.done;
    const done = this.#close();
    this.#state = { kind: 'closing', held: state.kind === 'live' ? state.held : null, done };
    return done;
  }

  async #close(): Promise<void> {
    await Promise.resolve(); // the state is `closing` before any of the work below runs
    await Promise.all([...this.#beforeClose].map((fn) => fn().catch(() => undefined)));
    const state = this.#state;
    if (state.kind !== 'closing') return;
    const held = state.held;
    this.#state = { ...state, held: null };
    if (held) {
      const stream = held.keepAlive.stop();
      held.lease.end('session closed'); // no longer ours: #onLeaseEnded sees no held lease
      await this.#calls.revoke(held.lease.id).catch(() => undefined);
      stream?.cancel();
    }
    this.#state = { kind: 'closed', done: state.done };
    this.closed.emit();
    this.renewed.clear();
    this.errors.clear();
    this.closed.clear();
  }
}
