import { EventEmitter } from 'node:events';
import type * as etcd from 'etcd3';
import type { Grant, KeepAliveStream, WatchStream } from '../../src/transport/transport.js';
import { Traces } from '../../src/transport/trace.js';

/**
 * Stand-ins for the etcd calls of the session and the watch hub, driven by the
 * test: every call is recorded and answered only when the test says so (or at
 * once, for `grant` with `autoGrant`). Pure logic only: no etcd, no sockets.
 */

/** A stream the library writes to and the test answers on. */
export class FakeStream<Req, Res> extends EventEmitter {
  readonly written: Req[] = [];
  cancelled = false;

  write(req: Req): boolean {
    this.written.push(req);
    return true;
  }

  cancel(): void {
    this.cancelled = true;
  }

  /** etcd answers. */
  reply(res: Res): void {
    this.emit('data', res);
  }

  /** The call fails (a reset connection, a member gone). */
  fail(err: Error): void {
    this.emit('error', err);
  }
}

export type FakeKeepAliveStream = FakeStream<etcd.ILeaseKeepAliveRequest, etcd.ILeaseKeepAliveResponse>;
export type FakeWatchStream = FakeStream<etcd.IWatchRequest, etcd.IWatchResponse>;

/** A promise with its settle functions, for calls the test answers later. */
export interface Pending<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(err: Error): void;
}

export function pending<T>(): Pending<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The lease calls a Session makes. */
export class FakeLeaseCalls {
  readonly trace = new Traces();
  /** Grant calls (TTL asked), answered by `answerGrant`, or at once with a new ID while `autoGrant`. */
  readonly grants: { ttlSec: number; call: Pending<Grant> }[] = [];
  readonly revokes: { leaseId: bigint; call: Pending<void> }[] = [];
  readonly keepAliveOpens: Pending<KeepAliveStream>[] = [];
  /** Keepalive streams opened, in order. */
  readonly streams: FakeKeepAliveStream[] = [];
  autoGrant = true;
  /** Open keepalive streams at once (else the test answers `keepAliveOpens`). */
  autoOpen = true;
  /** Answer revokes at once. */
  autoRevoke = true;
  #nextId = 0x100n;

  grant(ttlSec: number): Promise<Grant> {
    const call = pending<Grant>();
    this.grants.push({ ttlSec, call });
    if (this.autoGrant) call.resolve({ leaseId: this.#nextId++, ttlSec });
    return call.promise;
  }

  revoke(leaseId: bigint): Promise<void> {
    const call = pending<void>();
    this.revokes.push({ leaseId, call });
    if (this.autoRevoke) call.resolve();
    return call.promise;
  }

  openKeepAlive(): Promise<KeepAliveStream> {
    return openFake(this.keepAliveOpens, this.streams, this.autoOpen);
  }

  /** The latest keepalive stream. */
  get stream(): FakeKeepAliveStream {
    return latest(this.streams, 'keepalive');
  }
}

/** The watch calls a WatchHub makes. */
export class FakeWatchCalls {
  readonly trace = new Traces();
  readonly requestTimeoutMs: number;
  readonly opens: Pending<WatchStream>[] = [];
  readonly streams: FakeWatchStream[] = [];
  autoOpen = true;
  closed = false;

  constructor(requestTimeoutMs = 5_000) {
    this.requestTimeoutMs = requestTimeoutMs;
  }

  openWatch(): Promise<WatchStream> {
    return openFake(this.opens, this.streams, this.autoOpen);
  }

  get stream(): FakeWatchStream {
    return latest(this.streams, 'watch');
  }
}

/** A stream open the test answers (or that opens at once with `auto`); the stream is recorded when it opens. */
function openFake<S, F>(opens: Pending<S>[], streams: F[], auto: boolean): Promise<S> {
  const call = pending<S>();
  opens.push(call);
  call.promise.then((s) => streams.push(s as unknown as F)).catch(() => undefined);
  if (auto) call.resolve(new FakeStream() as unknown as S);
  return call.promise;
}

function latest<F>(streams: F[], kind: string): F {
  const s = streams.at(-1);
  if (!s) throw new Error(`no ${kind} stream opened`);
  return s;
}

/** Lets every settled promise's callbacks run (the fakes answer through promises). */
export async function drain(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}
