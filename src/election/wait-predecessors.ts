import { abortReason, delay, raceAbort } from '../core/abort.js';
import { Backoff } from '../core/backoff.js';
import { classify } from '../transport/classify.js';
import { toBigInt } from '../transport/keys.js';
import type { LockedError } from '../errors.js';
import type { WatchHub } from '../transport/watch-hub.js';
import type { Candidate, CandidateReads, Position } from './candidates.js';

/**
 * Waits until no candidate older than `token` is left (port of
 * concurrency/key.go waitDeletes). Herd-free: it watches only the nearest older
 * key, and after its deletion re-reads instead of assuming anything from the
 * event. Transient failures are retried with backoff; only an abort of `signal`
 * or a non-transient error ends the wait early.
 *
 * Resolves with the read that found no older candidate: at its revision the
 * first candidate is the caller's own key (or null if that key is gone).
 * `joined` is the place read with the join itself, used for the first round.
 */
export async function waitForPredecessors(
  reads: CandidateReads,
  hub: WatchHub,
  token: bigint,
  signal: AbortSignal,
  joined?: Position,
): Promise<{ first: Candidate | null; revision: bigint }> {
  const backoff = new Backoff(50, 2000);
  let deletedAt: bigint | null = null;
  let known = joined;
  for (;;) {
    if (signal.aborted) throw abortReason(signal);
    let place: Position;
    try {
      place = known ?? (await raceAbort(readPosition(reads, token, deletedAt), signal));
      known = undefined;
    } catch (err) {
      if (signal.aborted) throw abortReason(signal);
      const error = classify(err, 'read predecessor');
      if (!error.transient) throw error;
      await delay(backoff.next(), signal);
      continue;
    } finally {
      deletedAt = null;
    }
    if (!place.older) return { first: place.first, revision: place.revision };
    const ended = await waitForDelete(hub, place.older.key, place.revision + 1n, signal);
    if (typeof ended === 'bigint') {
      deletedAt = ended;
      backoff.reset();
    } else {
      if (!ended.transient) throw ended;
      await delay(backoff.next(), signal);
    }
  }
}

/**
 * After a predecessor's delete at revision R, the queue is read as of R on
 * whichever member answers (no Raft round, and not held up by writes applied
 * after R, such as the leaving leader's lease revoke): since keys are only ever
 * created at newer revisions, "nothing older than `token` at R" stays true.
 * A member that cannot serve R (not applied yet, compacted) fails the read,
 * and the linearizable read is used instead.
 */
async function readPosition(reads: CandidateReads, token: bigint, deletedAt: bigint | null): Promise<Position> {
  if (deletedAt !== null) {
    try {
      return await reads.position(token, deletedAt);
    } catch {
      // fall through to the linearizable read
    }
  }
  return reads.position(token);
}

/**
 * Resolves with the revision of `key`'s deletion at or after `fromRevision`,
 * or with the error that ended the watch without it (the caller re-reads).
 * Rejects only on abort.
 */
function waitForDelete(
  hub: WatchHub,
  key: string,
  fromRevision: bigint,
  signal: AbortSignal,
): Promise<LockedError | bigint> {
  return new Promise((resolve, reject) => {
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
