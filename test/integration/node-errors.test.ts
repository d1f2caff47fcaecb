/**
 * A seed node's `error` events: while etcd is unreachable, one per step of the
 * node's backoff (no bursts of the same failure reported by its session, its
 * view and its campaign at once); a failure retrying cannot fix (bad
 * credentials on an etcd with auth on) is emitted once, rejects `start()` with
 * its code and stops the node.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { locked, type LockedError, type LockedNode, type Locker, type LockerOptions } from '../../src/api.js';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';
import { startAuthEtcd } from './auth-etcd.js';
import { freePort } from '../../src/testing/free-port.js';
import { waitFor } from '../../src/testing/wait-for.js';

const lockers: Locker[] = [];
const nodes: LockedNode[] = [];

function nodeOn(hosts: string, options: LockerOptions, path: string): LockedNode {
  const l = locked(hosts, options);
  lockers.push(l);
  const n = l({ id: 'n', path, value: 1, ttl: 10 });
  nodes.push(n);
  return n;
}

interface Seen {
  readonly err: LockedError;
  readonly atMs: number;
}
function recordErrors(n: LockedNode): Seen[] {
  const seen: Seen[] = [];
  n.on('error', (err) => seen.push({ err, atMs: performance.now() }));
  return seen;
}

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
  await Promise.all(lockers.splice(0).map((l) => l.close()));
});

describe('etcd unreachable (a closed loopback port)', () => {
  it('one error per step of the backoff: none in the same 50 ms, the gaps grow, start() stays pending', async () => {
    const n = nodeOn(`127.0.0.1:${await freePort()}`, {}, '/unreachable');
    const seen = recordErrors(n);
    let settled = false;
    const startedAt = performance.now();
    n.start().then(
      () => (settled = true),
      () => (settled = true),
    );
    // Six reports take at least 100 + 200 + 400 + 800 + 1600 ms after the first.
    await waitFor('six error events', () => seen.length >= 6, { timeoutMs: 20_000 });
    const elapsedMs = performance.now() - startedAt;
    const gaps = seen.slice(1).map((s, i) => s.atMs - seen[i]!.atMs);
    for (const s of seen) expect(s.err.code).toBe('UNAVAILABLE');
    expect(Math.min(...gaps), `gaps ${gaps.map((g) => g.toFixed(1)).join(', ')} ms`).toBeGreaterThanOrEqual(50);
    // The k-th gap is at least the k-th step of the backoff (100 ms, doubling), less a timer's slack.
    gaps.forEach((gap, k) => expect(gap, `gap ${k + 1}`).toBeGreaterThanOrEqual(100 * 2 ** k - 5));
    // The count is bounded by the steps that fit in the time waited: 1 + log2(elapsed / 100 + 1).
    expect(seen.length).toBeLessThanOrEqual(1 + Math.ceil(Math.log2(elapsedMs / 100 + 1)));
    expect(new Set(seen.map((s) => s.err)).size).toBe(seen.length); // no error object twice
    expect(settled).toBe(false);
    expect(n.isSelected()).toBe(false);
  });

  it('stopOnError: the first error is emitted once, start() rejects with it, the node stops', async () => {
    const l = locked(`127.0.0.1:${await freePort()}`);
    lockers.push(l);
    const n = l({ id: 's', path: '/unreachable-stop', value: 1, ttl: 2, stopOnError: true });
    nodes.push(n);
    const seen = recordErrors(n);
    await expect(n.start()).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    await n.stop();
    expect(seen.map((s) => s.err.code)).toEqual(['UNAVAILABLE']);
  });
});

describe('etcd with auth on: a failure retrying cannot fix', () => {
  let etcd: EtcdCluster;
  beforeAll(async () => {
    etcd = await startAuthEtcd();
  });
  afterAll(async () => {
    await etcd?.stop();
  });

  const cases: [string, LockerOptions, string][] = [
    ['a wrong password', { auth: { username: 'app', password: 'wrong' } }, '/jobs/a'],
    ['an unknown user', { auth: { username: 'nobody', password: 'x' } }, '/jobs/b'],
    ['no credentials', {}, '/jobs/c'],
    ['a path outside the role', { auth: { username: 'app', password: 'app-pw' } }, '/elsewhere'],
  ];
  for (const [what, options, path] of cases) {
    it(`${what}: start() rejects with PERMISSION within 10 s, one error event, the node stops`, async () => {
      const n = nodeOn(etcd.endpoints, options, path);
      const seen = recordErrors(n);
      const t0 = performance.now();
      const failure = await n.start().then(
        () => null,
        (err: unknown) => err,
      );
      const tookMs = performance.now() - t0;
      expect(failure).toMatchObject({ code: 'PERMISSION', transient: false });
      expect(tookMs).toBeLessThan(10_000);
      await n.stop(); // the same promise as the stop the failure began: the node is down once it resolves
      expect(seen.map((s) => s.err)).toEqual([failure]);
      expect(n.isSelected()).toBe(false);
      await expect(n.start()).rejects.toMatchObject({ code: 'PERMISSION' });
    });
  }

  it('the right credentials inside the role still lead', async () => {
    const n = nodeOn(etcd.endpoints, { auth: { username: 'app', password: 'app-pw' } }, '/jobs/ok');
    const seen = recordErrors(n);
    await n.start();
    expect(n.isSelected()).toBe(true);
    expect(seen).toEqual([]);
  });
});
