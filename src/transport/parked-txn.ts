import * as etcd from 'etcd3';
import type * as grpc from '@grpc/grpc-js';
import { encodeTxnRequest } from './txn-request.js';

/** The part of etcd3's connection pool a parked call needs (the one `watchClient.watch()` uses too). */
export type ParkingPool = Pick<etcd.ICallable<unknown>, 'withConnection'>;

/**
 * What a parked call is doing; each transition replaces it whole.
 * - `opening`: the pool is choosing a member (and fetching the auth token, if any);
 * - `parked`: the call's HTTP/2 stream is open and its headers sent: it waits for its one request;
 * - `sent`: the request is written, the answer awaited;
 * - `spent`: answered, failed or closed: it carries nothing more.
 */
type State =
  | { readonly kind: 'opening' }
  | { readonly kind: 'parked'; readonly call: grpc.ClientWritableStream<etcd.ITxnRequest> }
  | { readonly kind: 'sent' }
  | { readonly kind: 'spent' };

/** The answer of a parked call: etcd's, or why there is none. */
export type ParkedAnswer =
  | { readonly kind: 'answered'; readonly response: etcd.ITxnResponse }
  | { readonly kind: 'failed'; readonly error: Error };

/**
 * One etcd Txn call opened ahead of its request, for a request whose moment counts: a leader's
 * resignation (term.ts), which its successor waits on. Opening a gRPC call costs about 0.5–1 ms of CPU
 * in grpc-js and Node's http2 (the call's interceptors, its stream, its headers): parked, the call has
 * paid that already, and `send` only encodes the request and writes it (`npm run bench:steps`, README).
 *
 * On the wire this is a unary call: a gRPC call is an HTTP/2 stream of headers, then messages, then
 * the end of the stream, whether the client declared it unary or client-streaming; etcd's unary
 * handler reads the one message when it comes, and nothing runs on etcd before that (its interceptors
 * and the request itself run on the decoded message). The parked call has no gRPC deadline (it may
 * wait for hours); `send` gives the request one of its own.
 *
 * A call that fails while parked is not opened again (a term parks a new one: ParkingSpot, below): the
 * request then goes as an ordinary call (Transport.txn), as it does when it comes before the call is parked.
 */
export class ParkedTxn {
  #state: State = { kind: 'opening' };
  #answer: (answer: ParkedAnswer) => void = () => undefined;
  readonly #answered: Promise<ParkedAnswer>;
  #release: (() => void) | null;

  /** `release` is called once, when the call is spent (sent and answered, failed, or closed). */
  constructor(pool: ParkingPool, release: () => void) {
    this.#release = release;
    this.#answered = new Promise((resolve) => (this.#answer = resolve));
    pool.withConnection('KV', ({ client, metadata }) => this.#open(client, metadata)).catch(() => this.#spend());
  }

  #spend(): void {
    this.#state = { kind: 'spent' };
    const release = this.#release;
    this.#release = null;
    release?.();
  }

  /** Whether `send` would write the request now. */
  get parked(): boolean {
    return this.#state.kind === 'parked';
  }

  /** Whether it will carry nothing more (sent, failed or closed). */
  get spent(): boolean {
    return this.#state.kind === 'sent' || this.#state.kind === 'spent';
  }

  #open(client: grpc.Client, metadata: grpc.Metadata): void {
    if (this.#state.kind !== 'opening') return; // closed meanwhile
    const txn = serviceMethods(client)['Txn'];
    if (!txn) throw new Error('the KV service has no Txn method');
    const call = client.makeClientStreamRequest<etcd.ITxnRequest, etcd.ITxnResponse>(
      txn.path,
      // locked's own encoder, quicker on this cold path (txn-request.ts); etcd3's for what it does not take.
      (request: etcd.ITxnRequest) => encodeTxnRequest(request) ?? txn.requestSerialize(request),
      txn.responseDeserialize as (bytes: Buffer) => etcd.ITxnResponse,
      metadata,
      {},
      (err, response) => {
        this.#spend();
        if (err) this.#answer({ kind: 'failed', error: etcd.castGrpcError(err) });
        else if (response) this.#answer({ kind: 'answered', response });
        else this.#answer({ kind: 'failed', error: new Error('Txn: no response') });
      },
    );
    this.#state = { kind: 'parked', call };
  }

  /**
   * Writes `request` on the parked call, once, and resolves with etcd's answer, or with the failure
   * (after `timeoutMs` without one: the call is cancelled). Not parked (still opening, failed, spent):
   * resolves at once with a failure, and the call is closed.
   */
  send(request: etcd.ITxnRequest, timeoutMs: number): Promise<ParkedAnswer> {
    const state = this.#state;
    if (state.kind !== 'parked') {
      this.close();
      return Promise.resolve({ kind: 'failed', error: new Error('Txn: no parked call') });
    }
    this.#state = { kind: 'sent' };
    const timer = setTimeout(() => state.call.cancel(), timeoutMs);
    state.call.write(request);
    state.call.end();
    return this.#answered.finally(() => clearTimeout(timer));
  }

  /** Ends the call if it was not sent (an RST_STREAM to etcd, which drops its wait). Idempotent; a sent call runs on. */
  close(): void {
    const state = this.#state;
    if (state.kind === 'parked' || state.kind === 'opening') this.#spend();
    if (state.kind === 'parked') state.call.cancel();
  }
}

/**
 * The one parked call of a term (term.ts): `refill` parks one when there is none or the last one failed
 * (its member went away); `take` hands it to the resignation; `close` ends it with the term.
 */
export class ParkingSpot {
  readonly #park: () => ParkedTxn | null;
  #parked: ParkedTxn | null = null;

  /** `park`: Transport.parkTxn, which gives null when the client holds its maximum. */
  constructor(park: () => ParkedTxn | null) {
    this.#park = park;
  }

  refill(): void {
    if (this.#parked && !this.#parked.spent) return;
    this.#parked = this.#park();
  }

  take(): ParkedTxn | null {
    const parked = this.#parked;
    this.#parked = null;
    return parked;
  }

  close(): void {
    this.take()?.close();
  }
}

/** The gRPC methods of an etcd3 service client (proto-loader's definitions: path, codecs). */
export function serviceMethods(client: grpc.Client): Record<string, grpc.MethodDefinition<unknown, unknown>> {
  return (client.constructor as unknown as { service: Record<string, grpc.MethodDefinition<unknown, unknown>> })
    .service;
}
