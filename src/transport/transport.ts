import * as etcd from 'etcd3';
import { classify } from './classify.js';
import { toBigInt } from './keys.js';

/**
 * The few etcd calls locked makes, over the etcd3 package's raw gRPC clients
 * (which bring endpoint failover, TLS and auth). Unary calls carry a deadline,
 * so no call on the safety path can hang forever; failures are classified once
 * (classify.ts). Streams are opened here and driven by session/ and watch-hub.
 */
export interface TransportOptions {
  /** Deadline of one unary request. */
  readonly requestTimeoutMs: number;
}

export interface Grant {
  readonly leaseId: bigint;
  /** The TTL etcd granted: etcd raises TTLs below its minimum. */
  readonly ttlSec: number;
}

export type KeepAliveStream = etcd.IDuplexStream<etcd.ILeaseKeepAliveRequest, etcd.ILeaseKeepAliveResponse>;
export type WatchStream = etcd.IDuplexStream<etcd.IWatchRequest, etcd.IWatchResponse>;

/** What a session needs of the transport (a fake stands in for it in unit tests). */
export type LeaseCalls = Pick<Transport, 'grant' | 'revoke' | 'openKeepAlive'>;
/** What the watch hub needs of the transport. */
export type WatchCalls = Pick<Transport, 'openWatch' | 'requestTimeoutMs' | 'closed'>;

export class Transport {
  readonly #client: etcd.Etcd3;
  readonly #owned: boolean;
  readonly #timeoutMs: number;
  #closed = false;

  constructor(client: etcd.Etcd3, owned: boolean, options: TransportOptions) {
    this.#client = client;
    this.#owned = owned;
    this.#timeoutMs = options.requestTimeoutMs;
  }

  get client(): etcd.Etcd3 {
    return this.#client;
  }

  /** gRPC takes a deadline as a wall-clock Date: real I/O's time, not the algorithm's (which is the injected Clock's). */
  #callOptions(): { deadline: Date } {
    return { deadline: new Date(Date.now() + this.#timeoutMs) };
  }

  async #call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw classify(err, what);
    }
  }

  async grant(ttlSec: number): Promise<Grant> {
    const res = await this.#call('lease grant', () =>
      this.#client.leaseClient.leaseGrant({ TTL: ttlSec, ID: 0 }, this.#callOptions()),
    );
    if (res.error) throw classify(new Error(res.error), 'lease grant');
    return { leaseId: toBigInt(res.ID), ttlSec: Number(res.TTL) };
  }

  async revoke(leaseId: bigint): Promise<void> {
    await this.#call('lease revoke', () =>
      this.#client.leaseClient.leaseRevoke({ ID: leaseId.toString() }, this.#callOptions()),
    );
  }

  async txn(req: etcd.ITxnRequest, what = 'txn'): Promise<etcd.ITxnResponse> {
    return this.#call(what, () => this.#client.kv.txn(req, this.#callOptions()));
  }

  async range(req: etcd.IRangeRequest, what = 'range'): Promise<etcd.IRangeResponse> {
    return this.#call(what, () => this.#client.kv.range(req, this.#callOptions()));
  }

  async openKeepAlive(): Promise<KeepAliveStream> {
    return this.#call('lease keepalive stream', () => this.#client.leaseClient.leaseKeepAlive());
  }

  async openWatch(): Promise<WatchStream> {
    return this.#call('watch stream', () => this.#client.watchClient.watch());
  }

  /** The same connection with another request deadline (e.g. a fraction of a session's TTL). Closing it closes nothing. */
  withTimeout(requestTimeoutMs: number): Transport {
    const view = new Transport(this.#client, false, { requestTimeoutMs });
    view.#parent = this;
    return view;
  }

  #parent: Transport | null = null;

  get requestTimeoutMs(): number {
    return this.#timeoutMs;
  }

  get closed(): boolean {
    return this.#closed || (this.#parent?.closed ?? false);
  }

  /** Closes the etcd3 client if this transport created it; a client the user passed stays theirs. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned) this.#client.close();
  }
}
