import type { Candidate } from './candidates.js';
import type { LeaderTracker } from './tracker-registry.js';

/**
 * The async-iterator form of a leader tracker (Election.observe): yields the
 * leader (or null) on each change, in order, until `signal` aborts; the
 * tracker is closed when the iteration ends, however it ends.
 */
export async function* observeLeader(
  track: (onLeader: (leader: Candidate | null) => void) => LeaderTracker,
  signal: AbortSignal | undefined,
): AsyncGenerator<Candidate | null, void, undefined> {
  const queue: (Candidate | null)[] = [];
  let wake: (() => void) | null = null;
  const notify = (): void => {
    wake?.();
    wake = null;
  };
  const tracker = track((leader) => {
    queue.push(leader);
    notify();
  });
  signal?.addEventListener('abort', notify, { once: true });
  try {
    while (!signal?.aborted) {
      const next = queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    signal?.removeEventListener('abort', notify);
    tracker.close();
  }
}
