import type { Transport } from '../transport/transport.js';
import type { Candidate } from './candidates.js';
import { keyStands } from './guarded-txn.js';

/** Keys touched per transaction: a compare and a put each, within etcd's default of 128 operations. */
const TOUCH_BATCH = 60;

/**
 * Touches `keys`: puts that keep each key's value and lease (etcd's `ignore_value`, `ignore_lease`),
 * so keys, create revisions (tokens) and leases are unchanged, in transactions of at most TOUCH_BATCH
 * keys, each guarded by its create revision. The candidate waiting on a touched key wakes
 * (wait-predecessors.ts) and makes way if it is outranked (step-aside.ts); a Go candidate, whose wait
 * acts on deletions only, ignores it. Resolves false when a batch did not apply (a key gone or
 * re-created: read the queue again).
 */
export async function touchAll(transport: Transport, keys: readonly Candidate[]): Promise<boolean> {
  // The last batch first: a touch wakes the candidates behind the touched keys, which then leave; so each
  // batch sent wakes only keys of itself or of batches already sent, and no compare fails for our own doing.
  const sorted = [...keys].sort((a, b) => (a.token < b.token ? -1 : 1));
  for (let end = sorted.length; end > 0; end -= TOUCH_BATCH) {
    const batch = sorted.slice(Math.max(0, end - TOUCH_BATCH), end);
    const res = await transport.txn(
      {
        compare: batch.map((c) => keyStands(c.key, c.token)),
        success: batch.map((c) => ({
          request_put: { key: Buffer.from(c.key), ignore_value: true, ignore_lease: true },
        })),
        failure: [],
      },
      'ask the candidates ahead to make way',
    );
    if (!res.succeeded) return false;
  }
  return true;
}
