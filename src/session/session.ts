import type { Clock } from '../core/clock.js';
import { Listeners } from '../core/listeners.js';
import { raceAbort } from '../core/abort.js';
import { LockedError } from '../errors.js';
import type { KeepAliveStream, Transport } from '../transport/transport.js';
import { classify } from '../transport/classify.js';
import { Lease } from './lease.js';
import { renewIntervalMs } from './deadline.js';

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
 */
export class Session {
  readonly ttlSec: number;
  readonly #transport: Transport;
  readonly #options: SessionOptions;
  readonly #renewMs: number;
  #lease: Lease | null = null;
  #granting: Promise<Lease> | null = null;
  #stream: KeepAliveStream | null = null;
  #outstanding: number[] = [];
  #cancelTick: () => void = () => undefined;
  #closed = false;

  /** Each successful keepalive of the current lease. */
  readonly renewed = new Listeners<[Lease]>();
  /** Failures of keepalive or grant (the session recovers by itself). */
  readonly errors = new Listeners<[LockedError]>();
  /** Keepalive requests sent; read by benchmarks. */
  keepalivesSent = 0;

  constructor(transport: Transport, options: SessionOptions) {
    this.#transport = transport;
    this.#options = options;
    this.ttlSec = options.ttlSec;
    this.#renewMs = renewIntervalMs(options.ttlSec);
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
    const sentAt = clock.now();
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
      this.#revoke(lease);
      throw new LockedError('CLOSED', 'session is closed');
    }
    this.#adopt(lease);
    return lease;
  }

  #adopt(lease: Lease): void {
    this.#lease = lease;
    lease.signal.addEventListener('abort', () => this.#onLeaseEnded(lease), { once: true });
    this.#scheduleTick();
  }

  #onLeaseEnded(lease: Lease): void {
    if (this.#lease !== lease) return;
    this.#lease = null;
    this.#cancelTick();
    this.#dropStream();
    this.#revoke(lease);
  }

  #revoke(lease: Lease): void {
    this.#transport.revoke(lease.id).catch(() => undefined); // expiry does the same, later
  }

  #scheduleTick(): void {
    this.#cancelTick();
    this.#cancelTick = this.#options.clock.setTimer(() => this.#tick(), this.#renewMs);
  }

  #tick(): void {
    const lease = this.#lease;
    if (!lease || !lease.isLive()) return;
    this.#scheduleTick();
    const now = this.#options.clock.now();
    const oldest = this.#outstanding[0];
    if (oldest !== undefined && now - oldest >= this.#renewMs) {
      // A whole interval without a reply: the stream is suspect; open a new one (maybe to another member).
      this.#dropStream();
    }
    if (this.#stream) this.#send(this.#stream, lease);
    else this.#openStream(lease);
  }

  #send(stream: KeepAliveStream, lease: Lease): void {
    this.#outstanding.push(this.#options.clock.now());
    this.keepalivesSent++;
    stream.write({ ID: lease.id.toString() });
  }

  #openStream(lease: Lease): void {
    this.#transport.openKeepAlive().then(
      (stream) => {
        if (this.#lease !== lease || this.#stream || !lease.isLive()) {
          stream.cancel();
          return;
        }
        this.#stream = stream;
        this.#outstanding = [];
        stream.on('data', (res) => {
          if (this.#stream !== stream) return;
          const sentAt = this.#outstanding.shift();
          if (sentAt === undefined) return;
          const ttl = Number(res.TTL);
          if (!(ttl > 0)) {
            lease.end('etcd reports the lease expired (keepalive TTL 0)');
            return;
          }
          lease.renewed(sentAt, ttl);
          this.renewed.emit(lease);
        });
        const onFail = (err: unknown): void => {
          if (this.#stream !== stream) return;
          this.#dropStream();
          this.errors.emit(classify(err, 'lease keepalive'));
        };
        stream.on('error', onFail);
        stream.on('end', () => onFail(new Error('keepalive stream ended')));
        this.#send(stream, lease);
      },
      (err: unknown) => this.errors.emit(classify(err, 'lease keepalive stream')),
    );
  }

  #dropStream(): void {
    const stream = this.#stream;
    this.#stream = null;
    this.#outstanding = [];
    stream?.cancel();
  }

  /** Ends the session: the lease is revoked (its keys go with it). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const lease = this.#lease;
    this.#lease = null;
    this.#cancelTick();
    this.#dropStream();
    if (lease) {
      lease.end('session closed');
      await this.#transport.revoke(lease.id).catch(() => undefined);
    }
  }
}
