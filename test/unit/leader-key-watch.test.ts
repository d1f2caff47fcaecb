import { describe, expect, it } from 'vitest';
import type * as etcd from 'etcd3';
import { LeaderKeyWatch, type LeaderReads } from '../../src/election/leader-key-watch.js';
import type { Candidate } from '../../src/election/candidates.js';
import { FeedRelay, type KeyFeed } from '../../src/election/key-feed.js';
import { LockedError } from '../../src/errors.js';
import { CANCEL_AFTER_MS, WatchHub } from '../../src/transport/watch-hub.js';
import { FakeClock } from './fake-clock.js';
import { FakeWatchCalls, drain, pending, type Pending } from './fake-transport.js';

// The seed node's herd-free view on a fake clock: it watches the leader's key
// alone, so joins and leaves behind the leader reach it not at all; the
// leader's deletion costs one event and one member-local read.

type First = { candidate: Candidate | null; revision: bigint };

function candidate(n: number, value = `v${n}`, modRevision = BigInt(n)): Candidate {
  return { key: `/e/${n.toString(16)}`, token: BigInt(n), modRevision, leaseId: 1n, value };
}

function kv(c: Candidate): etcd.IKeyValue {
  const fields = { create_revision: String(c.token), mod_revision: String(c.modRevision), lease: '1' };
  return { key: Buffer.from(c.key), value: Buffer.from(c.value), ...fields } as never;
}

function setup(feedOf?: () => KeyFeed | undefined) {
  const clock = new FakeClock();
  const calls = new FakeWatchCalls(1_000);
  const reads: { serializable: boolean; call: Pending<First> }[] = [];
  const leaderReads: LeaderReads = {
    prefix: Buffer.from('/e/'),
    rangeEnd: Buffer.from('/e0'),
    first: (options) => {
      const call = pending<First>();
      reads.push({ serializable: options?.serializable === true, call });
      return call.promise;
    },
  };
  const reports: string[] = [];
  const errors: string[] = [];
  const watch = new LeaderKeyWatch(
    leaderReads,
    new WatchHub(calls, clock),
    { clock, spreadMs: 100, ...(feedOf ? { feedOf } : {}) },
    (leader, revision) => reports.push(`${leader ? `${leader.token}=${leader.value}` : 'none'}@${revision}`),
    (err) => errors.push(err.code),
  );
  let nextId = 1;
  /** Answers the latest read; etcd creates the watch that follows it. Returns the watch's ID. */
  const answer = async (c: Candidate | null, revision: bigint): Promise<string> => {
    reads.at(-1)!.call.resolve({ candidate: c, revision });
    await drain();
    const id = String(nextId++);
    calls.stream.reply({ created: true, watch_id: id, events: [] } as never);
    return id;
  };
  const send = (id: string, revision: number, ...evs: [type: 'Put' | 'Delete', c: Candidate][]): void =>
    calls.stream.reply({
      watch_id: id,
      header: { revision: String(revision) },
      compact_revision: '0',
      events: evs.map(([type, c]) => ({ type, kv: kv(c) })),
    } as never);
  return { clock, calls, reads, reports, errors, watch, answer, send };
}

describe('LeaderKeyWatch', () => {
  it("reads the leader, then watches that key alone from the read's next revision (etcd is asked from the read's: watch-start.ts)", async () => {
    const s = setup();
    expect(s.reads[0]!.serializable).toBe(false); // the first read is linearizable
    await s.answer(candidate(3), 8n);
    expect(s.reports).toEqual(['3=v3@8']);
    const create = s.calls.stream.written[0]!.create_request!;
    expect([String(create.key), create.range_end, create.start_revision]).toEqual(['/e/3', undefined, '8']);
  });

  it("a proclaim is one event; the leader's deletion is one event and one member-local read", async () => {
    const s = setup();
    const id = await s.answer(candidate(3), 8n);
    s.send(id, 9, ['Put', candidate(3, 'busy', 9n)]);
    expect(s.reports).toEqual(['3=v3@8', '3=busy@9']);
    s.send(id, 10, ['Delete', candidate(3, '', 10n)]);
    // The fleet's reads are spread: this one waits a jittered 0.5 × 100 ms.
    s.clock.advance(49);
    expect(s.reads).toHaveLength(1);
    s.clock.advance(1);
    await drain();
    expect(s.reads.map((r) => r.serializable)).toEqual([false, true]);
    await s.answer(candidate(5), 10n);
    expect(s.reports).toEqual(['3=v3@8', '3=busy@9', '5=v5@10']);
    expect(s.calls.stream.written.at(-1)?.create_request?.key?.toString()).toBe('/e/5');
  });

  it('a member that has not applied the deletion yet is not believed: the read is made linearizable', async () => {
    const s = setup();
    const id = await s.answer(candidate(3), 8n);
    s.send(id, 12, ['Delete', candidate(3, '', 12n)]);
    s.clock.advance(100);
    await drain();
    s.reads.at(-1)!.call.resolve({ candidate: candidate(3), revision: 11n }); // stale: still shows the leader
    await drain();
    expect(s.reads.map((r) => r.serializable)).toEqual([false, true, false]);
    await s.answer(candidate(7), 12n);
    expect(s.reports).toEqual(['3=v3@8', '7=v7@12']);
  });

  it('an empty election is watched on its whole range until a candidate appears', async () => {
    const s = setup();
    s.clock.randomValue = 1; // the read after the join: 100 ms
    const id = await s.answer(null, 4n);
    expect(s.reports).toEqual(['none@4']);
    const create = s.calls.stream.written[0]!.create_request!;
    expect([String(create.key), create.range_end?.toString()]).toEqual(['/e/', '/e0']);
    s.send(id, 5, ['Put', candidate(5)]);
    s.clock.advance(CANCEL_AFTER_MS); // the range watch would hear every join until the read: cancelled at once
    expect(s.calls.stream.written.at(-1)).toEqual({ cancel_request: { watch_id: id } });
    expect(s.reads).toHaveLength(1);
    s.clock.advance(100 - CANCEL_AFTER_MS);
    await drain();
    await s.answer(candidate(5), 5n);
    expect(s.reports).toEqual(['none@4', '5=v5@5']);
  });

  it('a failed watch is reported, and read again (linearizable) after a jittered backoff', async () => {
    const s = setup();
    s.clock.randomValue = 1; // first backoff: 50 ms
    await s.answer(candidate(3), 8n);
    s.calls.stream.fail(Object.assign(new Error('connection reset'), { code: 14 }));
    expect(s.errors).toEqual(['UNAVAILABLE']);
    s.clock.advance(49);
    expect(s.reads).toHaveLength(1);
    s.clock.advance(1);
    expect(s.reads.map((r) => r.serializable)).toEqual([false, false]);
  });

  it("the leader's deletion: its watch is cancelled with the jittered read, not at the event; what it delivers meanwhile changes nothing", async () => {
    const s = setup();
    const id = await s.answer(candidate(3), 8n);
    s.send(id, 10, ['Delete', candidate(3, '', 10n)]);
    s.clock.advance(0);
    expect(s.calls.stream.written.some((w) => w.cancel_request)).toBe(false); // no request at the handover's instant
    s.send(id, 11, ['Put', candidate(3, 'again', 11n)]); // the key made again (another token): already heard
    expect([s.reports, s.reads.length]).toEqual([['3=v3@8'], 1]);
    s.clock.advance(50); // the jittered read is due (0.5 × 100 ms): the cancel goes with it
    expect(s.reads.map((r) => r.serializable)).toEqual([false, true]);
    s.clock.advance(CANCEL_AFTER_MS);
    expect(s.calls.stream.written.filter((w) => w.cancel_request)).toEqual([{ cancel_request: { watch_id: id } }]);
  });

  it('a watch that etcd ends while the read after a deletion is due: no error, no other read', async () => {
    const s = setup();
    const id = await s.answer(candidate(3), 8n);
    s.send(id, 10, ['Delete', candidate(3, '', 10n)]);
    s.calls.stream.reply({ watch_id: id, canceled: true, cancel_reason: 'gone' } as never);
    s.clock.advance(100);
    expect([s.errors, s.reads.map((r) => r.serializable)]).toEqual([[], [false, true]]);
  });

  it('closed while it waits to read after a failover: it reads nothing, cancels the watch and keeps no timer', async () => {
    const s = setup();
    const id = await s.answer(candidate(3), 8n);
    s.send(id, 9, ['Delete', candidate(3, '', 9n)]);
    s.watch.close();
    s.clock.advance(CANCEL_AFTER_MS);
    expect(s.calls.stream.written.at(-1)).toEqual({ cancel_request: { watch_id: id } });
    s.clock.advance(10_000); // past the read's jitter and the hub's idle close
    expect(s.reads).toHaveLength(1);
    expect(s.clock.pending).toBe(0);
  });

  it('after close() nothing is reported, no watch stays and no retry runs', async () => {
    const s = setup();
    await s.answer(candidate(3), 8n);
    s.watch.close();
    s.clock.advance(CANCEL_AFTER_MS);
    expect(s.calls.stream.written.at(-1)).toEqual({ cancel_request: { watch_id: '1' } });
    s.calls.stream.fail(new Error('reset'));
    s.clock.advance(10_000);
    expect(s.reads).toHaveLength(1);
    expect(s.reports).toEqual(['3=v3@8']);
  });

  // An heir in the same process watches the leader's key too (heir-watch.ts): the view rides that watch's
  // feed instead of a watch of its own (key-feed.ts), so a handover is one response to that process.
  const kvEvent = (type: 'Put' | 'Delete', c: Candidate): etcd.IEvent => ({ type, kv: kv(c) }) as never;
  const creates = (s: ReturnType<typeof setup>): string[] =>
    s.calls.stream.written.flatMap((w) =>
      w.create_request ? [`${String(w.create_request.key)}@${w.create_request.start_revision}`] : [],
    );

  it("rides an heir's feed of the leader's key: its own watch cancelled, the feed's later read taken as a proclaim, its events as its watch's", async () => {
    const s = setup();
    const id = await s.answer(candidate(3), 8n);
    const feed = new FeedRelay(candidate(3, 'busy', 10n), 12n); // the heir's read at 11 saw a proclaim at 10
    s.watch.ride(feed);
    expect(s.reports).toEqual(['3=v3@8', '3=busy@10']);
    s.clock.advance(CANCEL_AFTER_MS);
    expect(s.calls.stream.written.at(-1)).toEqual({ cancel_request: { watch_id: id } });
    feed.relay([kvEvent('Put', candidate(3, 'again', 13n))]);
    feed.relay([kvEvent('Delete', candidate(3, '', 14n))]);
    s.clock.advance(50); // the jittered read after the deletion, member-local, as on its own watch
    await s.answer(candidate(5), 14n);
    expect(s.reports).toEqual(['3=v3@8', '3=busy@10', '3=again@13', '5=v5@14']);
    expect(s.reads.map((r) => r.serializable)).toEqual([false, true]);
    expect(creates(s)).toEqual(['/e/3@8', '/e/5@14']); // etcd is asked from one revision earlier (watch-start.ts)
  });

  it('a feed found when it starts to follow the leader: no watch of its own; events the read already showed are skipped', async () => {
    const feed = new FeedRelay(candidate(3), 6n);
    const s = setup(() => feed);
    s.reads[0]!.call.resolve({ candidate: candidate(3, 'busy', 7n), revision: 8n });
    await drain();
    feed.relay([kvEvent('Put', candidate(3, 'busy', 7n))]); // before the view's read: known
    feed.relay([kvEvent('Put', candidate(3, 'later', 9n))]);
    expect(s.reports).toEqual(['3=busy@8', '3=later@9']);
    expect(() => s.calls.stream).toThrow('no watch stream opened'); // no watch asked for at all
  });

  it('a cancelled feed: the view watches on its own again, from the revision after the last it knows', async () => {
    const s = setup();
    await s.answer(candidate(3), 8n);
    const feed = new FeedRelay(candidate(3), 12n);
    s.watch.ride(feed);
    feed.relay([kvEvent('Put', candidate(3, 'again', 15n))]);
    feed.end(null);
    expect(creates(s)).toEqual(['/e/3@8', '/e/3@15']); // from 16: etcd asked from 15
    expect([s.reports, s.errors, s.reads.length]).toEqual([['3=v3@8', '3=again@15'], [], 1]);
  });

  it("a feed that fails is the view's watch failing: reported, read again after a backoff", async () => {
    const s = setup();
    s.clock.randomValue = 1; // first backoff: 50 ms
    await s.answer(candidate(3), 8n);
    const feed = new FeedRelay(candidate(3), 9n);
    s.watch.ride(feed);
    feed.end(new LockedError('UNAVAILABLE', 'stream broke'));
    expect(s.errors).toEqual(['UNAVAILABLE']);
    s.clock.advance(50);
    expect(s.reads.map((r) => r.serializable)).toEqual([false, false]);
  });

  it('a feed of another key, or of the same key made again by another lease, is not ridden', async () => {
    const s = setup();
    const id = await s.answer(candidate(3), 8n);
    s.watch.ride(new FeedRelay(candidate(4), 9n));
    s.watch.ride(new FeedRelay({ ...candidate(3), token: 9n }, 10n));
    s.clock.advance(CANCEL_AFTER_MS);
    expect(s.calls.stream.written.some((w) => w.cancel_request)).toBe(false);
    s.send(id, 11, ['Put', candidate(3, 'busy', 11n)]);
    expect(s.reports).toEqual(['3=v3@8', '3=busy@11']);
  });
});
