import type { EventEmitter } from 'node:events';
import { rethrowLater } from '../core/listeners.js';
import type { LockedError } from '../errors.js';

/** A node's events and their listeners' arguments (the seed's): `node.on('change', (value, leaderid) => …)`. */
export interface LockedNodeEvents {
  /** On every node, when the leader or its value changes (also when a node first learns the leader). */
  change: [value: string, leaderid: string];
  /** On the node that won, once per term. */
  select: [value: string, leaderid: string];
  /** Exactly once after each `select`. */
  deselect: [];
  /** On the leader, at each successful lease renewal. */
  refresh: [value: string, leaderid: string];
  /** On every node, at each successful renewal of its own lease while a leader is known. */
  ping: [value: string, leaderid: string];
  /**
   * Connection and request failures, one per step of the node's backoff; emitted only while a
   * listener is registered. A failure retrying cannot fix (`transient: false`) is emitted once, and the node stops.
   */
  error: [err: LockedError];
}

/**
 * Emits to the user's listeners. A listener that throws must not corrupt the
 * node's state mid-transition, so its exception is rethrown on the next tick:
 * it still reaches `uncaughtException`, as with any EventEmitter.
 */
export function emitSafely<E extends keyof LockedNodeEvents>(
  emitter: EventEmitter<LockedNodeEvents>,
  event: E,
  args: LockedNodeEvents[E],
): void {
  try {
    // Typed by this function's signature; Node's emit type cannot follow a generic event name.
    (emitter as EventEmitter).emit(event, ...args);
  } catch (err) {
    rethrowLater(err);
  }
}
