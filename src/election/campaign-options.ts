import { describe, knownKeys, MAX_TIMER_MS } from '../core/validate.js';
import type { Candidate } from './candidates.js';
import type { LeaderTracker } from './tracker-registry.js';

/** The options of `Election.campaign` (and `withLeadership`). */
export interface CampaignOptions {
  /** Gives up the campaign (its key is removed) when it aborts. */
  readonly signal?: AbortSignal;
  /**
   * A tracker of this election the caller already holds (`election.track()`).
   * The campaign then waits on its view of the whole election: no watch of its
   * own, and no read of the queue after its predecessor leaves. Without it,
   * the candidate watches only its predecessor's key. Either way, one read (or
   * a claim) after the predecessor leaves decides how it takes over.
   */
  readonly tracker?: LeaderTracker;
  /**
   * A finite number, default 0; higher is served first (docs/DESIGN.md, "Priority"). Waiting
   * candidates go in priority order, equal priorities in join order; a candidate with a strictly
   * higher priority than the leader preempts it after `preemptAfterMs`: the leader resigns (its
   * term's signal aborts first) and the candidate leads within milliseconds.
   */
  readonly priority?: number;
  /** How long this candidate waits behind a lower-priority leader before that leader hands over, in ms (default 1000). */
  readonly preemptAfterMs?: number;
}

const CAMPAIGN_KEYS = ['signal', 'tracker', 'priority', 'preemptAfterMs'];

/** A priority: any finite number (rank.ts encodes every one). */
export function checkPriority(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new RangeError(`${field} must be a finite number (higher is served first), got ${describe(value)}`);
  }
  return value;
}

/** A preemption delay: a number of ms from 0 to Node's timer limit. */
export function checkPreemptAfter(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS) {
    throw new RangeError(`${field} must be a number of milliseconds from 0 to ${MAX_TIMER_MS}, got ${describe(value)}`);
  }
  return value;
}

/** The caller's mistakes in `campaign(value, options)`, as TypeErrors naming the field (a tracker's are checked in campaign). */
export function checkCampaign(value: unknown, options: unknown): void {
  if (typeof value !== 'string') throw new TypeError(`campaign value must be a string, got ${describe(value)}`);
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`campaign options must be an object, got ${describe(options)}`);
  }
  knownKeys('campaign options', options, CAMPAIGN_KEYS);
  const { signal, priority, preemptAfterMs } = options as {
    signal?: unknown;
    priority?: unknown;
    preemptAfterMs?: unknown;
  };
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`campaign options.signal must be an AbortSignal, got ${describe(signal)}`);
  }
  if (priority !== undefined) checkPriority('campaign options.priority', priority);
  if (preemptAfterMs !== undefined) checkPreemptAfter('campaign options.preemptAfterMs', preemptAfterMs);
}

/** A candidate's join, as the join's own read saw the election (at revision `token`). */
export interface Joined {
  readonly key: string;
  /** The key's create revision: the revision of the join and of `first`. */
  readonly token: bigint;
  /** The first candidate at `token`: this one when nothing was older. */
  readonly first: Candidate | null;
}

/**
 * The campaign option through which the seed facade hears each join of its
 * campaigns, so that `node.start()` can tell the leader as of its own join
 * without a read of its own. A symbol that the package does not export keeps
 * it off the public `CampaignOptions` (and out of the known-keys check).
 */
export const ON_JOINED: unique symbol = Symbol('locked.onJoined');

export interface InternalCampaignOptions extends CampaignOptions {
  readonly [ON_JOINED]?: (joined: Joined) => void;
}

/** The join callback `options` carries, if any. */
export function onJoinedOf(options: CampaignOptions): ((joined: Joined) => void) | undefined {
  return (options as InternalCampaignOptions)[ON_JOINED];
}
