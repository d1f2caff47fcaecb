import type * as etcd from 'etcd3';
import type { LockedError } from '../errors.js';
import type { KeepAliveStream, WatchStream } from './transport.js';

/** @internal The request of each unary method a transport traces. */
export interface TracedRequests {
  txn: etcd.ITxnRequest;
  range: etcd.IRangeRequest;
  grant: etcd.ILeaseGrantRequest;
  revoke: etcd.ILeaseRevokeRequest;
}

/**
 * @internal
 * A unary request of a transport, labelled as the library labels it (`what`:
 * 'resign', 'read next candidate', 'lease revoke', …). The same object is
 * passed to `request` and then to `settled`, so a trace can pair them.
 */
export type TracedCall = {
  [M in keyof TracedRequests]: { readonly method: M; readonly what: string; readonly request: TracedRequests[M] };
}[keyof TracedRequests];

/** @internal A stream a transport opened. */
export type TracedStream =
  | { readonly kind: 'watch'; readonly stream: WatchStream }
  | { readonly kind: 'keepalive'; readonly stream: KeepAliveStream };

/** @internal A message the library took from a stream. */
export type TracedMessage =
  | { readonly kind: 'watch'; readonly message: etcd.IWatchResponse }
  | { readonly kind: 'keepalive'; readonly message: etcd.ILeaseKeepAliveResponse };

/**
 * @internal
 * Hooks on one client's transport, for tests and benchmarks (the library
 * itself adds none). Every hook is optional and runs synchronously, in the
 * library's own call path:
 * - `request`: a unary call (txn, range, grant, revoke) is about to be sent.
 *   Every trace's hook runs; a throw from one fails that call before it is
 *   sent (the first throw, if several), classified as a real failure would be
 *   (a LockedError is passed on as it is). Returning a promise holds the call
 *   until it settles; a rejection fails it the same way. The request may be
 *   changed here (a test's stale read, say): it is sent as it is then.
 * - `settled`: that call was answered (`error` null) or failed, including
 *   failed by a `request` hook: once per call, to every trace.
 * - `opened`: a watch or keepalive stream was opened, before the library uses
 *   it (a test may wrap its `write` or `cancel`).
 * - `received`: a keepalive reply on a session's live stream, or a watch
 *   response with events delivered to a live watch.
 * Hooks other than `request` must not throw: they run inside the library's
 * stream and call handling.
 */
export interface TransportTrace {
  request?(call: TracedCall): void | PromiseLike<void>;
  settled?(call: TracedCall, error: LockedError | null): void;
  opened?(opened: TracedStream): void;
  received?(received: TracedMessage): void;
}

/**
 * @internal
 * The traces of one client: its transport and every `withTimeout` view of it
 * report here. With none added, each emit costs one size check.
 */
export class Traces {
  readonly #traces = new Set<TransportTrace>();

  get size(): number {
    return this.#traces.size;
  }

  /** Adds `trace`; returns the function that removes it. */
  add(trace: TransportTrace): () => void {
    this.#traces.add(trace);
    return () => {
      this.#traces.delete(trace);
    };
  }

  /**
   * Runs every `request` hook, then throws the first hook's throw, if any.
   * Returns a promise to await before sending if a hook returned one.
   */
  request(call: TracedCall): Promise<unknown> | undefined {
    if (this.#traces.size === 0) return undefined;
    let holds: PromiseLike<void>[] | undefined;
    let failure: { error: unknown } | undefined;
    for (const trace of this.#traces) {
      try {
        const hold = trace.request?.(call);
        if (hold) (holds ??= []).push(hold);
      } catch (error) {
        failure ??= { error };
      }
    }
    const held = holds && Promise.all(holds);
    if (!failure) return held;
    held?.catch(() => undefined); // the call fails with the throw; a hold's rejection is not reported too
    throw failure.error;
  }

  settled(call: TracedCall, error: LockedError | null): void {
    if (this.#traces.size === 0) return;
    for (const trace of this.#traces) trace.settled?.(call, error);
  }

  opened(kind: 'watch', stream: WatchStream): void;
  opened(kind: 'keepalive', stream: KeepAliveStream): void;
  opened(kind: TracedStream['kind'], stream: WatchStream | KeepAliveStream): void {
    if (this.#traces.size === 0) return;
    const opened = { kind, stream } as TracedStream;
    for (const trace of this.#traces) trace.opened?.(opened);
  }

  received(kind: 'watch', message: etcd.IWatchResponse): void;
  received(kind: 'keepalive', message: etcd.ILeaseKeepAliveResponse): void;
  received(kind: TracedMessage['kind'], message: etcd.IWatchResponse | etcd.ILeaseKeepAliveResponse): void {
    if (this.#traces.size === 0) return;
    const received = { kind, message } as TracedMessage;
    for (const trace of this.#traces) trace.received?.(received);
  }
}
