import { abortReason } from '../core/abort.js';
import { toBigInt } from '../transport/keys.js';
import type { LockedError } from '../errors.js';
import type { WatchHub } from '../transport/watch-hub.js';

/**
 * Waits for the deletion of a candidate's predecessor (the watch half of
 * concurrency/key.go waitDeletes; herd-free: only the nearest older key is
 * watched). What the deletion means is not decided here: the caller re-checks
 * the queue (take-over.ts: a read or a claim), so one delete event never makes a leader.
 *
 * Resolves with the revision of `key`'s deletion at or after `fromRevision`,
 * or with the error that ended the watch without it (the caller re-checks).
 * Rejects only on abort.
 */
export function waitForDelete(
  hub: WatchHub,
  key: string,
  fromRevision: bigint,
  signal: AbortSignal,
): Promise<LockedError | bigint> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    const finish = (result: LockedError | bigint): void => {
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
          const deletion = events.find((e) => e.type === 'Delete');
          if (deletion) finish(toBigInt(deletion.kv.mod_revision));
        },
        onEnd: (err) => finish(err),
      },
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
