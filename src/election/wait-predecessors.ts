import { abortReason } from '../core/abort.js';
import { toBigInt } from '../transport/keys.js';
import type { LockedError } from '../errors.js';
import type { WatchHub } from '../transport/watch-hub.js';
import type { Candidate } from './candidates.js';

/**
 * Waits for the deletion of a candidate's predecessor (the watch half of
 * concurrency/key.go waitDeletes; herd-free: only the nearest older key is
 * watched). What the deletion means is not decided here: the caller re-checks
 * the queue (take-over.ts: a read or a claim), so one delete event never makes a leader.
 *
 * Resolves with the revision of the predecessor's deletion at or after
 * `fromRevision`; with `touched` when the key was written again with its own
 * value (a preemptor asking the candidates ahead of it to make way:
 * preempt-request.ts; a proclaim that changes the value wakes no one); or with
 * the error that ended the watch without either (the caller re-checks). The
 * candidate next in line waits on its heir watch instead (heir-watch.ts): its
 * predecessor is the leader, whose proclaims and touches it does not act on
 * (what a preempted leader does about it: preemption.ts).
 * Rejects only on abort.
 */
export function waitForDelete(
  hub: WatchHub,
  older: Pick<Candidate, 'key' | 'token' | 'value'>,
  fromRevision: bigint,
  signal: AbortSignal,
): Promise<LockedError | bigint | 'touched'> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(abortReason(signal));
      return;
    }
    const finish = (result: LockedError | bigint | 'touched'): void => {
      handle.cancel();
      signal.removeEventListener('abort', onAbort);
      resolve(result);
    };
    const onAbort = (): void => {
      handle.cancel();
      reject(abortReason(signal));
    };
    let value = older.value; // as a proclaim leaves it
    const handle = hub.watch(
      { key: Buffer.from(older.key), startRevision: fromRevision },
      {
        onEvents: (events) => {
          for (const e of events) {
            if (e.type === 'Delete') return finish(toBigInt(e.kv.mod_revision));
            if (toBigInt(e.kv.create_revision) !== older.token) return finish(toBigInt(e.kv.mod_revision)); // re-created
            if (e.kv.value.toString() === value) return finish('touched');
            value = e.kv.value.toString();
          }
        },
        onEnd: (err) => finish(err),
      },
    );
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
