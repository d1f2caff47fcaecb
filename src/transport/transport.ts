import * as etcd from 'etcd3';
import { classify } from './classify.js';
import { toBigInt } from './keys.js';
import { ParkedTxn } from './parked-txn.js';
import { Traces, type TracedCall, type TracedRequests } from './trace.js';
import { openWatchCall, type WatchPool } from './watch-call.js';

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

/**
 * How many parked Txn calls (parked-txn.ts) one client holds at most: each is an open stream to etcd
 * and a waiting goroutine there. A process that leads more elections at once resigns the others with
 * ordinary calls (about 1 ms later on the wire).
 */
export const MAX_PARKED_TXNS = 16;

export class Transport {
  readonly #client: etcd.Etcd3;
  readonly #owned: boolean;
  readonly #timeoutMs: number;
  #closed = false;
  /** @internal Hooks of tests and benchmarks, shared by every `withTimeout` view of this transport. */
  readonly trace: Traces;
  /** Parked calls not yet spent, shared by every `withTimeout` view (MAX_PARKED_TXNS). */
  readonly #parking: Set<ParkedTxn>;

  /** @internal */
  constructor(
    client: etcd.Etcd3,
    owned: boolean,
    options: TransportOptions,
    trace = new Traces(),
    parking = new Set<ParkedTxn>(),
  ) {
    this.#client = client;
    this.#owned = owned;
    this.#timeoutMs = options.requestTimeoutMs;
    this.trace = trace;
    this.#parking = parking;
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

  /**
   * A Txn. With `parked` (`parkTxn`), it goes out on that call, and if that fails for any reason (not parked
   * yet, failed while parked, no answer in time) as an ordinary call: so a request given with `parked`
   * must be one etcd may get twice with no harm (a guarded write whose guard its first success breaks, as
   * a resignation's: resignation.ts).
   */
  async txn(req: etcd.ITxnRequest, what = 'txn', parked?: ParkedTxn | null): Promise<etcd.ITxnResponse> {
    const ordinary = (r: etcd.ITxnRequest): Promise<etcd.ITxnResponse> => this.#client.kv.txn(r, this.#callOptions());
    if (!parked) return this.#call('txn', what, req, ordinary); // every other txn: as it was, no extra await
    return this.#call('txn', what, req, async (r) => {
      const answer = await parked.send(r, this.#timeoutMs);
      return answer.kind === 'answered' ? answer.response : ordinary(r);
    });
  }

  /**
   * @internal A Txn call opened now for one request later (parked-txn.ts): the caller sends it with
   * `txn(…, parked)` or closes it. Null when the client already holds MAX_PARKED_TXNS, or is closed.
   */
  parkTxn(): ParkedTxn | null {
    if (this.closed || this.#parking.size >= MAX_PARKED_TXNS) return null;
    const parked = new ParkedTxn(this.pool, () => this.#parking.delete(parked));
    this.#parking.add(parked);
    return parked;
  }

  /** @internal etcd3's connection pool, which the watch call, parked calls and the codec warm-up open calls through. */
  get pool(): WatchPool {
    return (this.#client as unknown as { readonly pool: WatchPool }).pool;
  }

  /** @internal How many parked calls wait for their request now (tests). */
  get parkedTxns(): number {
    let n = 0;
    for (const p of this.#parking) if (p.parked) n++;
    return n;
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
    const stream = await this.#classified('watch stream', () => openWatchCall(this.pool));
    this.trace.opened('watch', stream);
    return stream;
  }

  /** The same connection with another request deadline (e.g. a fraction of a session's TTL). Closing it closes nothing. */
  withTimeout(requestTimeoutMs: number): Transport {
    const view = new Transport(this.#client, false, { requestTimeoutMs }, this.trace, this.#parking);
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
