import { expect, it } from 'vitest';
import { join } from 'node:path';
import { waitFor } from '../../src/testing/wait-for.js';
import { ChildCandidate, monotonicNow } from './processes.js';
import { useEtcd } from './etcd-fixture.js';

// The fault that breaks Curator and Go's client: a leader paused longer than
// its TTL. Another candidate is elected meanwhile; when the old leader resumes,
// its very first isSelected() answers false, before any timer has run, so the
// two "true" periods never overlap.
const FIXTURE = join(__dirname, 'fixtures', 'candidate.cjs');
const TTL_SEC = 2;
const children: ChildCandidate[] = [];
const etcd = useEtcd(() => Promise.all(children.map((c) => c.kill())));

it('a leader paused for 3 x TTL answers false on resume, and its term never overlaps the next', async () => {
  const group = ['p1', 'p2'].map(
    (id) => new ChildCandidate(process.execPath, [FIXTURE, etcd.cluster.endpoints, '/paused', id, String(TTL_SEC)]),
  );
  children.push(...group);
  await waitFor('a leader', () => group.some((c) => c.events('select').length > 0), { timeoutMs: 20_000 });
  const leader = group.find((c) => c.events('select').length > 0)!;
  const other = group.find((c) => c !== leader)!;
  await waitFor('the follower to know the leader', () => other.events('change').length > 0);
  // The pause must come after the leader's sampler has seen it leading (it samples every 5 ms).
  await waitFor('the leader to sample itself leading', () =>
    leader.events('selected').some((e) => e.selected === true),
  );
  const pid = leader.process.pid!;
  process.kill(pid, 'SIGSTOP');
  const pausedAt = monotonicNow();
  try {
    await waitFor('the follower to be elected', () => other.events('select').length > 0, {
      timeoutMs: (TTL_SEC + 10) * 1000,
    });
    // Keep the leader paused to 3 x TTL in all.
    await waitFor('3 x TTL of pause', () => monotonicNow() - pausedAt >= 3 * TTL_SEC * 1000, {
      timeoutMs: 4 * TTL_SEC * 1000,
      intervalMs: 50,
    });
  } finally {
    process.kill(pid, 'SIGCONT');
  }
  // The sample that ends the pause: a loaded machine can also stall the sampler briefly before it.
  const resumedFromPause = (): Record<string, unknown>[] =>
    leader.events('resumed').filter((e) => (e.gapMs as number) >= TTL_SEC * 1000);
  await waitFor('the old leader to sample after resuming', () => resumedFromPause().length > 0);
  expect(resumedFromPause()[0]!.selected).toBe(false);
  await waitFor('the old leader to emit deselect', () => leader.events('deselect').length > 0);
  const oldTrue = leader.events('selected').filter((e) => e.selected === true);
  const oldFalse = leader.events('selected').filter((e) => e.selected === false);
  const newTrue = other.events('selected').find((e) => e.selected === true)!;
  expect(oldTrue).toHaveLength(1);
  // The old leader's last true sample was before the pause: its period ended before the new one began.
  expect(oldFalse[0]!.at as number).toBeGreaterThan(pausedAt);
  expect(newTrue.at as number).toBeGreaterThan(pausedAt);
  // The old leader resumed only after the new one had emitted select (we waited for it before SIGCONT),
  // and its first sample then said false.
  expect(resumedFromPause()[0]!.at as number).toBeGreaterThan(other.events('select')[0]!.at as number);
  expect(BigInt(other.events('select')[0]!.token as string)).toBeGreaterThan(
    BigInt(leader.events('select')[0]!.token as string),
  );
});
