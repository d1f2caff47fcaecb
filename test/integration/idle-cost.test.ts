import { expect, it } from 'vitest';
import { LockedClient, type Term } from '../../src/api.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { useEtcd } from './etcd-fixture.js';
import { countReceived } from './transport-spy.js';

// Cheap when idle: one process leading 20 elections and one following them
// (next in line in each) send lease keepalives on one lease each and, after
// each renewal, one read-only txn for all their keys (the leader's proof of its
// terms, the heir's of its place) — no other reads, no writes, no polls —
// counted by etcd itself (its /metrics).
const clients: LockedClient[] = [];
const etcd = useEtcd(() => Promise.all(clients.map((c) => c.close())));

async function requestCounts(): Promise<Map<string, number>> {
  const text = await (await fetch(etcd.cluster.metricsUrl(0))).text();
  const counts = new Map<string, number>();
  for (const match of text.matchAll(/^grpc_server_msg_received_total\{([^}]*)\} (\d+)/gm)) {
    const method = /grpc_method="([^"]+)"/.exec(match[1]!)?.[1] ?? '?';
    counts.set(method, (counts.get(method) ?? 0) + Number(match[2]));
  }
  return counts;
}

it('an idle process sends one keepalive per renew interval for all its elections; a leader or an heir adds one read for all of them', async () => {
  const TTL_SEC = 3; // renew every second
  const leader = new LockedClient({ endpoints: etcd.cluster.endpoints, ttl: TTL_SEC });
  const follower = new LockedClient({ endpoints: etcd.cluster.endpoints, ttl: TTL_SEC });
  clients.push(leader, follower);
  const received = [leader, follower].map((c) => countReceived(c));
  const terms: Term[] = [];
  for (let i = 0; i < 20; i++) terms.push(await leader.election(`/idle/${i}`).campaign('v'));
  const waiting = Array.from({ length: 20 }, (_, i) => follower.election(`/idle/${i}`).campaign('w'));
  const trackers = Array.from({ length: 20 }, (_, i) => follower.election(`/idle/${i}`).track(() => undefined));
  await waitFor('all followers queued', async () => (await leader.election('/idle/19').candidates()).length === 2);
  await waitFor('both keepalive streams running', () => received.every((r) => r.keepaliveReplies >= 1));
  for (const r of received) r.stop();

  const before = await requestCounts();
  const started = performance.now();
  await waitFor('a 4 s idle window', () => performance.now() - started >= 4_000, { timeoutMs: 6_000, intervalMs: 100 });
  const after = await requestCounts();
  const windowSec = (performance.now() - started) / 1000;

  const delta = (method: string): number => (after.get(method) ?? 0) - (before.get(method) ?? 0);
  const keepalives = delta('LeaseKeepAlive');
  // Two processes' worth of leases (leader, follower), one keepalive per second each, whatever the 40 elections.
  expect(keepalives).toBeGreaterThanOrEqual(2 * Math.floor(windowSec) - 2);
  expect(keepalives).toBeLessThanOrEqual(2 * Math.ceil(windowSec) + 2);
  // Each process confirms its 20 keys (terms, or places as heir) after each renewal, in one read-only txn.
  const confirms = delta('Txn');
  expect(confirms).toBeGreaterThanOrEqual(2 * Math.floor(windowSec) - 2);
  expect(confirms).toBeLessThanOrEqual(2 * Math.ceil(windowSec) + 2);
  for (const method of ['Range', 'Put', 'DeleteRange', 'LeaseGrant']) expect(delta(method)).toBe(0);
  expect(terms.every((t) => t.isValid())).toBe(true);

  for (const t of trackers) t.close();
  await Promise.all(terms.map((t) => t.resign()));
  await Promise.all(waiting);
});
