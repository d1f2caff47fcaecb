import type { Backoff } from '../core/backoff.js';
import type { LockedError } from '../errors.js';
import type { Candidate } from './candidates.js';

/** What the leader views (leader-watch.ts, leader-key-watch.ts) share. */

/** Whether `next` repeats the last report (`undefined`: none yet): the same key, token and value. */
export function sameLeader(last: Candidate | null | undefined, next: Candidate | null): boolean {
  if (last === undefined) return false;
  if (next === null || last === null) return next === last;
  return last.key === next.key && last.token === next.token && last.value === next.value;
}

/** How long a view waits before it reads again after `err`: no time after a compaction, else a backoff step. */
export function rereadAfterMs(err: LockedError, backoff: Backoff): number {
  return err.code === 'COMPACTED' ? 0 : backoff.next();
}
