import { setMaxListeners } from 'node:events';
import type { Clock, Instant } from '../core/clock.js';
import { LockedError } from '../errors.js';
import { leaseHex } from '../transport/keys.js';
import { deadlineFrom } from './deadline.js';

/** A deadline on the monotonic clock and, as a second bound, on the wall clock (ms). */
export interface Deadline {
  readonly mono: number;
  readonly wall: number;
}

/**
 * One granted etcd lease as this process can prove it: alive until
 * `validUntil` (monotonic ms), extended only by keepalive replies, each measured
 * from the time its request was sent. `signal` aborts, once, when the lease can
 * no longer be proven live; a lease never comes back to life after that.
 */
export class Lease {
  readonly id: bigint;
  readonly hex: string;
  readonly ttlSec: number;
  readonly #clock: Clock;
  readonly #driftRate: number;
  readonly #marginMs: number;
  readonly #controller = new AbortController();
  #validUntil: number;
  /** The same deadline on the wall clock, fixed when it was computed. */
  #wallValidUntil: number;
  #cancelTimer: () => void = () => undefined;

  /** @internal */
  constructor(id: bigint, ttlSec: number, grantSentAt: Instant, clock: Clock, driftRate: number, marginMs: number) {
    this.id = id;
    this.hex = leaseHex(id);
    this.ttlSec = ttlSec;
    this.#clock = clock;
    this.#driftRate = driftRate;
    this.#marginMs = marginMs;
    this.#validUntil = deadlineFrom(grantSentAt.mono, ttlSec, driftRate, marginMs);
    this.#wallValidUntil = deadlineFrom(grantSentAt.wall, ttlSec, driftRate, marginMs);
    // Every term and campaign on this lease listens to its signal: thousands of elections may share it.
    setMaxListeners(0, this.#controller.signal);
    this.#armTimer();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  readonly #beforeRevoke = new Set<() => Promise<void>>();

  /**
   * Registers work to do before this lease, once lost, is revoked: its terms
   * resigning, so that etcd records that they stopped. Returns the function
   * that removes it.
   * @internal
   */
  onBeforeRevoke(fn: () => Promise<void>): () => void {
    this.#beforeRevoke.add(fn);
    return () => {
      this.#beforeRevoke.delete(fn);
    };
  }

  /** @internal Runs the registered work; resolves once all of it has settled (never rejects). */
  async beforeRevoke(): Promise<void> {
    await Promise.allSettled([...this.#beforeRevoke].map((fn) => fn()));
  }

  get validUntil(): number {
    return this.#validUntil;
  }

  /**
   * Synchronous: true only while the deadline has not passed and the lease was
   * not ended. The deadline is checked on the monotonic clock and, as a second
   * bound, on the wall clock (which keeps counting through a suspend); either
   * one having passed ends the lease. A wall clock stepped forward only ends it early.
   */
  isLive(): boolean {
    if (this.#controller.signal.aborted) return false;
    if (this.#clock.now() < this.#validUntil && this.#clock.wallNow() < this.#wallValidUntil) return true;
    this.end('validity deadline passed');
    return false;
  }

  /**
   * The deadline as proven right now, on both clocks: it comes from keepalives
   * sent before this instant. A term takes it just before it confirms that its
   * key still exists, so that its own deadline never rests on a keepalive sent
   * after that confirmation.
   * @internal
   */
  provenUntil(): Deadline {
    return { mono: this.#validUntil, wall: this.#wallValidUntil };
  }

  /**
   * A keepalive sent at `sentAt` was answered with `ttlSec` > 0. Never shortens
   * the deadline, and never counts more than the TTL granted (which the term
   * record tells successors to wait out).
   * @internal
   */
  renewed(sentAt: Instant, replyTtlSec: number): void {
    if (this.#controller.signal.aborted) return;
    const ttlSec = Math.min(replyTtlSec, this.ttlSec);
    const next = deadlineFrom(sentAt.mono, ttlSec, this.#driftRate, this.#marginMs);
    if (next > this.#validUntil) {
      this.#validUntil = next;
      this.#wallValidUntil = deadlineFrom(sentAt.wall, ttlSec, this.#driftRate, this.#marginMs);
      this.#armTimer();
    }
  }

  /** @internal Ends the lease for good (idempotent); aborts `signal` with a LEASE_LOST error. */
  end(reason: string): void {
    if (this.#controller.signal.aborted) return;
    this.#cancelTimer();
    this.#controller.abort(new LockedError('LEASE_LOST', `lease ${this.hex}: ${reason}`));
  }

  #armTimer(): void {
    this.#cancelTimer();
    this.#cancelTimer = this.#clock.setTimer(() => this.#onTimer(), this.#validUntil - this.#clock.now());
  }

  #onTimer(): void {
    if (this.#clock.now() >= this.#validUntil) this.end('validity deadline passed without a keepalive reply');
    else this.#armTimer();
  }
}
