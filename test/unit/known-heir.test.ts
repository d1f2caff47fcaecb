import { describe, expect, it } from 'vitest';
import { knownHeir } from '../../src/election/resignation.js';
import type { Candidate } from '../../src/election/candidates.js';
import { pending, type Pending } from './fake-transport.js';

// Whom a resignation names before it reads: the view's next candidate, else the last confirmation's,
// else the answer of the confirmation on the wire.
const next: Candidate = { key: '/e/b', token: 9n, modRevision: 9n, leaseId: 2n, value: 'n' };
const nothingInFlight = { inFlight: () => null };

/** Fails `confirmation`, then reports how `known` settled: its heir, or its rejection. */
async function settle(
  known: ReturnType<typeof knownHeir>,
  confirmation: Pending<void>,
): Promise<{ heir: Candidate | undefined } | { rejected: unknown }> {
  confirmation.reject(new Error('the confirmation failed'));
  return Promise.resolve(known).then(
    (heir) => ({ heir }),
    (rejected: unknown) => ({ rejected }),
  );
}

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

  it('resolves, never rejects, when the confirmation on the wire fails: with whom is known by then, or no one', async () => {
    const failing = pending<void>();
    const none = knownHeir(undefined, () => null, { inFlight: () => failing.promise });
    expect(await settle(none, failing)).toEqual({ heir: undefined });
    const again = pending<void>();
    let confirmed: Candidate | null = null;
    const known = knownHeir(undefined, () => confirmed, { inFlight: () => again.promise });
    confirmed = next; // an earlier batch of that confirmation had shown who is next
    expect(await settle(known, again)).toEqual({ heir: next });
  });
});
