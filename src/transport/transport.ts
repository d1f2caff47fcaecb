import * as etcd from 'etcd3';
import { classify } from './classify.js';
import { toBigInt } from './keys.js';
import { Traces, type TracedCall, type TracedRequests } from './trace.js';

/**
 * The few etcd calls locked makes, over the etcd3 package's raw gRPC clients
 * (which bring endpoint failover, TLS and auth). Unary calls carry a deadline,
 * so no call on the safety path can hang forever; failures are classified once
 * (classify.ts). Streams are opened here and driven by session/ and watch-hub.
 * Tests and benchmarks observe a client through its `trace` (trace.ts).
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

/** @internal What a session needs of the transport (a fake stands in for it in unit tests). */
export type LeaseCalls = Pick<Transport, 'grant' | 'revoke' | 'openKeepAlive' | 'trace'>;
/** @internal What the watch hub needs of the transport. */
export type WatchCalls = Pick<Transport, 'openWatch' | 'requestTimeoutMs' | 'closed' | 'trace'>;

export class Transport {
  readonly #client: etcd.Etcd3;
  readonly #owned: boolean;
  readonly #timeoutMs: number;
  #closed = false;
  /** @internal Hooks of tests and benchmarks, shared by every `withTimeout` view of this transport. */
  readonly trace: Traces;

  /** @internal */
  constructor(client: etcd.Etcd3, owned: boolean, options: TransportOptions, trace = new Traces()) {
    this.#client = client;
    this.#owned = owned;
    this.#timeoutMs = options.requestTimeoutMs;
    this.trace = trace;
  }

  get client(): etcd.Etcd3 {
    return this.#client;
  }

  /** gRPC takes a deadline as a wall-clock Date: real I/O's time, not the algorithm's (which is the injected Clock's). */
  #callOptions(): { deadline: Date } {
    return { deadline: new Date(Date.now() + this.#timeoutMs) };
  }

  async #classified<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw classify(err, what);
    }
  }

  /** A unary call, reported to the traces (if any) before it is sent and when it settles. */
  async #call<M extends keyof TracedRequests, T>(
    method: M,
    what: string,
    request: TracedRequests[M],
    send: (request: TracedRequests[M]) => Promise<T>,
  ): Promise<T> {
    if (this.trace.size === 0) return this.#classified(what, () => send(request));
    const call = { method, what, request } as TracedCall;
    try {
      const hold = this.trace.request(call);
      if (hold) await hold;
      const res = await send(call.request);
      this.trace.settled(call, null);
      return res;
    } catch (err) {
      const error = classify(err, what);
      this.trace.settled(call, error);
      throw error;
    }
  }

  async grant(ttlSec: number): Promise<Grant> {
    const res = await this.#call('grant', 'lease grant', { TTL: ttlSec, ID: 0 }, async (req) => {
      const granted = await this.#client.leaseClient.leaseGrant(req, this.#callOptions());
      if (granted.error) throw new Error(granted.error);
      return granted;
    });
    return { leaseId: toBigInt(res.ID), ttlSec: Number(res.TTL) };
  }

  async revoke(leaseId: bigint): Promise<void> {
    await this.#call('revoke', 'lease revoke', { ID: leaseId.toString() }, (req) =>
      this.#client.leaseClient.leaseRevoke(req, this.#callOptions()),
    );
  }

  async txn(req: etcd.ITxnRequest, what = 'txn'): Promise<etcd.ITxnResponse> {
    return this.#call('txn', what, req, (r) => this.#client.kv.txn(r, this.#callOptions()));
  }

  async range(req: etcd.IRangeRequest, what = 'range'): Promise<etcd.IRangeResponse> {
    return this.#call('range', what, req, (r) => this.#client.kv.range(r, this.#callOptions()));
  }

  async openKeepAlive(): Promise<KeepAliveStream> {
    const stream = await this.#classified('lease keepalive stream', () => this.#client.leaseClient.leaseKeepAlive());
    this.trace.opened('keepalive', stream);
    return stream;
  }

  async openWatch(): Promise<WatchStream> {
    const stream = await this.#classified('watch stream', () => this.#client.watchClient.watch());
    this.trace.opened('watch', stream);
    return stream;
  }

  /** The same connection with another request deadline (e.g. a fraction of a session's TTL). Closing it closes nothing. */
  withTimeout(requestTimeoutMs: number): Transport {
    const view = new Transport(this.#client, false, { requestTimeoutMs }, this.trace);
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
