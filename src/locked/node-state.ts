import type { LeaderTracker } from '../election/tracker-registry.js';
import type { Term } from '../election/term.js';
import type { NodeBinding } from './node-config.js';
import type { StartLatch } from './start-latch.js';

/**
 * The node's life; a transition replaces the state whole.
 * - `idle`: made, not started.
 * - `running`: campaigning (`loop`) on `binding`'s election, following it
 *   through `leaderWatch` (its key alone), with `unsubscribe` undoing its session listeners;
 *   `started` is what `start()` returns; `stop` aborts the campaign. `term` is
 *   the term it leads while it leads (the one field that changes in place:
 *   `select` sets it, its end clears it).
 * - `stopped`: for good (`stop()`, a failure the node stops on, or a binding
 *   that could not be made); `done` settles when etcd has been told.
 */
export type NodeState =
  | { readonly kind: 'idle' }
  | {
      readonly kind: 'running';
      readonly started: StartLatch;
      readonly stop: AbortController;
      readonly binding: NodeBinding;
      readonly leaderWatch: LeaderTracker;
      readonly unsubscribe: readonly (() => void)[];
      readonly loop: Promise<void>;
      term: Term | null;
    }
  | { readonly kind: 'stopped'; readonly started: StartLatch | null; readonly done: Promise<void> };
export type Running = Extract<NodeState, { kind: 'running' }>;
