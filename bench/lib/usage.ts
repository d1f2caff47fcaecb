import type { Usage } from '../candidates/protocol.js';
import type { Candidate, Fleet } from './fleet.js';

/** Asks each candidate process for its resource usage and waits for the answers. */
export async function usageOf(fleet: Fleet, candidates: Candidate[]): Promise<Usage[]> {
  const from = fleet.mark();
  for (const c of candidates) c.send({ op: 'usage' });
  const entries = await Promise.all(
    candidates.map((c) =>
      fleet.next(`usage of candidate ${c.who}`, (e) => e.who === c.who && e.report.ev === 'usage', from, 10_000),
    ),
  );
  return entries.map((e) =>
    e.report.ev === 'usage' ? e.report.usage : { cpuMs: 0, rssBytes: 0, heapUsedBytes: 0, socketBytes: 0 },
  );
}

export function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
