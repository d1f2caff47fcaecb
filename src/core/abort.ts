import { LockedError } from '../errors.js';
import { systemClock, type Clock } from './clock.js';

/** Rejects with the signal's reason (or an ABORTED LockedError) when `signal` aborts first. */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/**
 * Why an operation stopped when `signal` aborted: a reason of the caller's own (an Error) as it is;
 * otherwise, including the DOMException that `abort()` without an argument, `AbortSignal.abort()`
 * and `AbortSignal.timeout()` put there, an ABORTED LockedError with that reason as its cause.
 */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && !(reason instanceof DOMException)) return reason;
  return new LockedError('ABORTED', 'the operation was aborted', reason === undefined ? {} : { cause: reason });
}

/** Resolves once any of `signals` aborts (never rejects); its listeners are removed then. */
export function whenAborted(...signals: AbortSignal[]): Promise<void> {
  if (signals.some((s) => s.aborted)) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => {
      for (const s of signals) s.removeEventListener('abort', onAbort);
      resolve();
    };
    for (const s of signals) s.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Waits `ms` on `clock` (any length: a hold-off read from etcd's term record is
 * not ours to bound), or less if `signal` aborts (then rejects with its reason).
 */
export function delay(ms: number, signal?: AbortSignal, clock: Clock = systemClock): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      cancel();
      reject(abortReason(signal as AbortSignal));
    };
    const cancel = clock.setTimer(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * An AbortSignal that aborts when any of `signals` does, with the first
 * reason, and `dispose()` to unhook it. Unlike Node 20's AbortSignal.any,
 * nothing stays registered on the sources once disposed: campaigns link to a
 * session's lease signal, which lives as long as the process.
 */
export function linkSignals(signals: ReadonlyArray<AbortSignal | undefined>): {
  readonly signal: AbortSignal;
  readonly dispose: () => void;
} {
  const controller = new AbortController();
  const sources = signals.filter((s): s is AbortSignal => s !== undefined);
  const onAbort = (event: Event): void => {
    dispose();
    controller.abort((event.target as AbortSignal).reason);
  };
  const dispose = (): void => {
    for (const s of sources) s.removeEventListener('abort', onAbort);
  };
  const aborted = sources.find((s) => s.aborted);
  if (aborted) controller.abort(aborted.reason);
  else for (const s of sources) s.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, dispose };
}
