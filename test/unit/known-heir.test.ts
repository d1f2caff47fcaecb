import { describe, expect, it } from 'vitest';
import { knownHeir } from '../../src/election/resignation.js';
import type { Candidate } from '../../src/election/candidates.js';
import { pending } from './fake-transport.js';

// Whom a resignation names before it reads: the view's next candidate, else the last confirmation's,
// else the answer of the confirmation on the wire.
const next: Candidate = { key: '/e/b', token: 9n, modRevision: 9n, leaseId: 2n, value: 'n' };
const nothingInFlight = { inFlight: () => null };

describe('knownHeir', () => {
  it("takes the view's candidate first, then the last confirmation's", async () => {
    expect(knownHeir(next, () => null, nothingInFlight)).toBe(next); // at once: the resignation goes out now
    expect(await knownHeir(null, () => next, nothingInFlight)).toBe(next);
    expect(await knownHeir(undefined, () => next, nothingInFlight)).toBe(next);
  });

  it('with no one known and nothing in flight, knows no one (the resignation reads)', async () => {
    expect(await knownHeir(undefined, () => null, nothingInFlight)).toBeUndefined();
  });

  it('with no one known and a confirmation on the wire, waits for its answer', async () => {
    const confirmation = pending<void>();
    let confirmed: Candidate | null = null;
    const known = knownHeir(undefined, () => confirmed, { inFlight: () => confirmation.promise });
    if (!(known instanceof Promise)) throw new Error('expected to wait for the confirmation');
    let settled = false;
    void known.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    confirmed = next; // the confirmation's answer names who is next
    confirmation.resolve();
    expect(await known).toBe(next);
  });
});
