import { candidateKey } from '../transport/keys.js';
import type { Transport } from '../transport/transport.js';
import type { Candidate, CandidateReads } from './candidates.js';
import { touchAll } from './touch.js';
import { byRank, outranks, type Rank, type RankSnapshot } from './rank.js';

/**
 * Whether a waiting candidate makes way (docs/DESIGN.md, "Priority"), asked when it finds itself
 * first after a wait, and when a preemptor behind it touched the key it waits on; if so it leaves
 * the queue and joins again at the back, keeping its rank (campaign.ts).
 *
 * The standing candidate that outranks ours (rank.ts), or null. Only when the ranks `seen` show
 * one: then a read of that candidate's key (the best-ranked first, at most three) says whether it
 * still stands — a rank key can outlive its candidate key briefly. With no rank keys in the
 * election, as when no one sets a priority, this costs nothing.
 */
export async function outranked(
  reads: Pick<CandidateReads, 'name' | 'get'>,
  self: { readonly lease: { readonly id: bigint }; readonly rank: Rank },
  seen: RankSnapshot,
): Promise<Candidate | null> {
  const above = seen.entries
    .filter((r) => r.leaseId !== self.lease.id && outranks(r, self.rank))
    .sort(byRank)
    .slice(0, 3);
  for (const r of above) {
    const { candidate } = await reads.get(candidateKey(reads.name, r.leaseId));
    if (candidate && candidate.leaseId === r.leaseId) return candidate;
  }
  return null;
}

/**
 * After a first candidate stepped aside for `outranker`: the candidates still queued ahead of it would
 * each find themselves first in turn and step aside one after another, the leadership vacant meanwhile.
 * Touching their keys (as a preemptor does: preempt-request.ts) makes them all step aside at once.
 */
export async function makeWay(
  reads: Pick<CandidateReads, 'ranked'>,
  transport: Transport,
  outranker: Candidate,
  self: bigint,
): Promise<void> {
  const { candidates } = await reads.ranked();
  const ahead = candidates.filter((c) => c.token < outranker.token && c.token !== self);
  await touchAll(transport, ahead);
}
