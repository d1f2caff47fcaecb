import type { Clock } from '../core/clock.js';
import { LockedError } from '../errors.js';
import { leaseHex } from '../transport/keys.js';
import { deadlineFrom } from './deadline.js';

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
  #cancelTimer: () => void = () => undefined;

  constructor(id: bigint, ttlSec: number, grantSentAt: number, clock: Clock, driftRate: number, marginMs: number) {
    this.id = id;
    this.hex = leaseHex(id);
    this.ttlSec = ttlSec;
    this.#clock = clock;
    this.#driftRate = driftRate;
    this.#marginMs = marginMs;
    this.#validUntil = deadlineFrom(grantSentAt, ttlSec, driftRate, marginMs);
    this.#armTimer();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get validUntil(): number {
    return this.#validUntil;
  }

  /** Synchronous: true only while the deadline has not passed and the lease was not ended. */
  isLive(): boolean {
    return !this.#controller.signal.aborted && this.#clock.now() < this.#validUntil;
  }

  /** A keepalive sent at `sentAt` was answered with `ttlSec` > 0. Never shortens the deadline. */
  renewed(sentAt: number, ttlSec: number): void {
    if (this.#controller.signal.aborted) return;
    const next = deadlineFrom(sentAt, ttlSec, this.#driftRate, this.#marginMs);
    if (next > this.#validUntil) {
      this.#validUntil = next;
      this.#armTimer();
    }
  }

  /** Ends the lease for good (idempotent); aborts `signal` with a LEASE_LOST error. */
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
