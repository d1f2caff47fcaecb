import { delay, linkSignals } from '../core/abort.js';
import { CampaignRetry, type Round } from '../core/campaign-retry.js';
import { randomOf, type Clock } from '../core/clock.js';
import { isLockedError, type LockedError } from '../errors.js';
import type { InternalCampaignOptions } from '../election/campaign-options.js';
import type { Election } from '../election/election.js';
import type { Term } from '../election/term.js';
import { classify } from '../transport/classify.js';

/** What the seed node's campaign loop asks of its node. */
export interface LoopHooks {
  /** The value and options (without `signal`) of the next campaign: the node's current value and priority. */
  next(): { readonly value: string; readonly options: Omit<InternalCampaignOptions, 'signal'> };
  /** Holds a won term until it ends or the node stops. */
  lead(term: Term): Promise<void>;
  /** A campaign failed: reports it when `report` (a lost lease or key is not the node's error); returns whether the node still runs. */
  failed(error: LockedError, report: boolean): boolean;
  /** The campaign in flight can be made to join again at once (`requeue`), or none is in flight (null). */
  inFlight(requeue: (() => void) | null): void;
}

/** Why a campaign was aborted to join again: the node's priority changed while it waited. */
const REQUEUE = Symbol('requeue');

/**
 * Campaigns until `stop` aborts (the seed node's loop): campaign, lead, leave the queue, again, with
 * the one retry policy of such loops (campaign-retry.ts). A lost lease or key is campaigned again, and is
 * not an error of the node's. A campaign aborted by `requeue` joins again at once (a new priority).
 */
export async function campaignLoop(
  election: Election,
  stop: AbortSignal,
  config: { readonly clock: Clock; readonly ttlSec: number },
  hooks: LoopHooks,
): Promise<void> {
  const { clock } = config;
  const retry = new CampaignRetry(config.ttlSec, randomOf(clock));
  while (!stop.aborted) {
    let round: Round;
    const requeue = new AbortController();
    const { signal, dispose } = linkSignals([stop, requeue.signal]);
    hooks.inFlight(() => requeue.abort(REQUEUE));
    try {
      const { value, options } = hooks.next();
      const term = await election.campaign(value, { ...options, signal });
      hooks.inFlight(null);
      const wonAt = clock.now();
      await hooks.lead(term);
      // Every term ends by leaving the queue (a key kept would give the next term the same token; a
      // no-op if stop() already resigned).
      await term.resign().catch(() => undefined);
      round = { kind: 'ended', heldMs: clock.now() - wonAt };
    } catch (err) {
      hooks.inFlight(null);
      if (stop.aborted) return;
      if (requeue.signal.aborted) continue;
      const error = classify(err, 'campaign');
      const lost = isLockedError(error, 'LEASE_LOST') || isLockedError(error, 'LEADERSHIP_LOST');
      if (!hooks.failed(error, !lost)) return; // stopped on it: retrying cannot fix it, or stopOnError
      round = { kind: 'failed', error };
    } finally {
      dispose();
    }
    const next = retry.next(round); // never `stop`: the node stopped on such an error above
    if (next.kind === 'again' && next.afterMs > 0) await delay(next.afterMs, stop, clock).catch(() => undefined);
  }
}
