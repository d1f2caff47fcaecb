import { abortReason } from '../core/abort.js';
import { LockedError } from '../errors.js';
import type { Candidate } from './candidates.js';
import type { LeaderTracker } from './tracker-registry.js';

/** Subscribes to the election's shared leader view (Election.track). */
export type Follow = (
  onLeader: (leader: Candidate | null, revision: bigint) => void,
  onError: (err: LockedError) => void,
) => LeaderTracker;

/**
 * Waits until the candidate `key` with create revision `token` is the first of
 * its election, on a leader watch's view of the whole election (`follow`
 * subscribes to it) instead of a watch and a read of its own.
 *
 * Why the view can stand in for a read of the queue, not an inference from one event: the view is
 * the store's candidate set at the revision R it reports (a linearizable read,
 * then every later event without gaps; see LeaderWatch). The view naming our
 * key first at R says exactly what a read at R would: no key older than
 * `token` exists at R. Keys are only ever created at newer revisions, so that
 * stays true for as long as our key exists. A failover therefore costs the
 * process the one event its leader watch receives anyway and no read of the
 * queue; the caller's one read (or claim) after it decides how to take over.
 *
 * Resolves with our candidate and R. Rejects with LEADERSHIP_LOST once the view
 * holds at or after `token` without our key (deleted, or re-created by someone
 * else), with a non-transient error of the watch (CLOSED, PERMISSION), or with
 * `signal`'s reason. Transient watch failures are the watch's to recover from.
 */
export function waitOnView(
  follow: Follow,
  key: string,
  token: bigint,
  signal: AbortSignal,
): Promise<{ first: Candidate; revision: bigint }> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    let done = false;
    let tracker: LeaderTracker | null = null;
    const settle = (finish: () => void): void => {
      if (done) return;
      done = true;
      tracker?.close();
      signal.removeEventListener('abort', onAbort);
      finish();
    };
    const onAbort = (): void => settle(() => reject(abortReason(signal)));
    signal.addEventListener('abort', onAbort, { once: true });
    tracker = follow(
      (leader, revision) => {
        if (leader && leader.key === key && leader.token === token) {
          settle(() => resolve({ first: leader, revision }));
        } else if (tracker && revision >= token && tracker.candidate(key)?.token !== token) {
          const err = new LockedError('LEADERSHIP_LOST', `candidate key ${key} disappeared while campaigning`);
          settle(() => reject(err));
        }
      },
      (err) => {
        if (!err.transient) settle(() => reject(err));
      },
    );
    // Reports come asynchronously (a read first, or the registry's replay on a microtask); should one
    // ever come during `follow` itself, it cannot reject for lack of `tracker`, and a settle then closes here.
    if (done) tracker.close();
  });
}
