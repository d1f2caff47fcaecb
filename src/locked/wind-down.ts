import { delay } from '../core/abort.js';
import type { Clock } from '../core/clock.js';
import type { Term } from '../election/term.js';

/**
 * How long a node that handed over waits, after etcd answered its resignation, before the rest of its
 * wind-down (its watches' cancels, its campaign's end, its lease's revoke). Nothing waits on that work,
 * while its successor is taking over, on a machine this process may share with it and with etcd: done
 * at once, it took CPU from both (README "Performance").
 */
export const HANDOVER_QUIET_MS = 50;

/**
 * Resigns `term` (called at once: the resignation is sent in this turn), then, once etcd has answered,
 * waits HANDOVER_QUIET_MS. Never rejects; a resignation that failed leaves the key to the lease's revoke,
 * which the successor then waits for: it resolves at once.
 */
export async function resignQuietly(term: Term, clock: Clock): Promise<void> {
  try {
    await term.resign();
  } catch {
    return;
  }
  await delay(HANDOVER_QUIET_MS, undefined, clock);
}
