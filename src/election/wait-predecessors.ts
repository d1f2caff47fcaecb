import { abortReason, delay, raceAbort } from '../core/abort.js';
import { Backoff } from '../core/backoff.js';
import { classify } from '../transport/classify.js';
import type { LockedError } from '../errors.js';
import type { WatchHub } from '../transport/watch-hub.js';
import type { Candidate, CandidateReads } from './candidates.js';

/**
 * Waits until no candidate older than `token` is left (port of
 * concurrency/key.go waitDeletes). Herd-free: it watches only the nearest older
 * key, and after its deletion re-reads instead of assuming anything from the
 * event. Transient failures are retried with backoff; only an abort of `signal`
 * or a non-transient error ends the wait early.
 *
 * Resolves with the read that found no older candidate: at its revision the
 * first candidate is the caller's own key (or null if that key is gone).
 */
export async function waitForPredecessors(
  reads: CandidateReads,
  hub: WatchHub,
  token: bigint,
  signal: AbortSignal,
): Promise<{ first: Candidate | null; revision: bigint }> {
  const backoff = new Backoff(50, 2000);
  for (;;) {
    if (signal.aborted) throw abortReason(signal);
    let older;
    try {
      older = await raceAbort(reads.position(token), signal);
    } catch (err) {
      if (signal.aborted) throw abortReason(signal);
      const error = classify(err, 'read predecessor');
      if (!error.transient) throw error;
      await delay(backoff.next(), signal);
      continue;
    }
    if (!older.older) return { first: older.first, revision: older.revision };
    const ended = await waitForDelete(hub, older.older.key, older.revision + 1n, signal);
    if (ended) {
      if (!ended.transient) throw ended;
      await delay(backoff.next(), signal);
    } else {
      backoff.reset();
    }
  }
}

/**
 * Resolves when `key` is deleted at or after `fromRevision` (null), or when the
 * watch ends without seeing it (the error: the caller re-reads). Rejects only on abort.
 */
function waitForDelete(
  hub: WatchHub,
  key: string,
  fromRevision: bigint,
  signal: AbortSignal,
): Promise<LockedError | null> {
  return new Promise((resolve, reject) => {
    const finish = (result: LockedError | null): void => {
      handle.cancel();
      signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onAbort = (): void => {
      handle.cancel();
      reject(abortReason(signal));
    };
    const handle = hub.watch(
      { key: Buffer.from(key), startRevision: fromRevision, deletesOnly: true },
      {
        onEvents: (events) => {
          if (events.some((e) => e.type === 'Delete')) finish(null);
        },
        onEnd: (err) => finish(err),
      },
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
