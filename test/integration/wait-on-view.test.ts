import { describe, expect, it } from 'vitest';
import { Etcd3 } from 'etcd3';
import { LockedClient, type LeaderTracker } from '../../src/api.js';
import { decodeTermRecord, termRecordKey } from '../../src/election/term-record.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { queued, useCoreFixture } from './core-fixture.js';
import { onStreams, spyTransport } from './transport-spy.js';

// campaign(value, { tracker }): the wait follows the tracker's view of the whole election (the seed
// facade's nodes campaign this way) instead of watching the predecessor's key; one linearizable read re-checks.
const fx = useCoreFixture();
const { client } = fx;
let seq = 0;

function name(): string {
  return `/view/${++seq}`;
}

describe('campaign with a tracker', () => {
  it('watches only the term record of its own, and after its predecessor resigns leads from the view, no write', async () => {
    const n = name();
    const leader = await client().election(n).campaign('a');
    const c = client();
    const tracker = c.election(n).track(() => undefined);
    const pending = c.election(n).campaign('b', { tracker });
    await queued(c, n, 2);
    await waitFor('the leader watch is open', () => tracker.leader?.key === leader.key);
    expect(c.hub.size).toBe(2); // the leader watch, and (next in line) the term record's
    const spy = spyTransport(c);
    try {
      await leader.resign();
      const term = await pending;
      // No read of the queue, no write: the record naming it heir (or, if the view's delete came first, one
      // linearizable read, sent and raced with the record's event).
      const reads = ['confirm leader keys', 'confirm first'];
      expect(spy.calls.map((x) => x.what).filter((w) => !reads.includes(w))).toEqual([]);
      expect(term.value).toBe('b');
      expect(term.token).toBeGreaterThan(leader.token);
      expect(term.isValid()).toBe(true);
      // The leader watch, and the term's key watch, created on the next turn of the event loop.
      await waitFor("the term's key watch", () => c.hub.size === 2);
      await term.resign();
    } finally {
      spy.restore();
      tracker.close();
    }
  });

  it('a leader that campaigned with a tracker names its heir from the view: no read, even before any renewal', async () => {
    const n = name();
    const a = client(30); // no renewal, so no confirmation has told the leader who is next
    const trackerA = a.election(n).track(() => undefined);
    const leader = await a.election(n).campaign('a', { tracker: trackerA });
    const b = client(30);
    const pending = b.election(n).campaign('b');
    const [, next] = await queued(b, n, 2);
    await waitFor("the leader's view holds its successor", () => trackerA.after(leader.token)?.key === next!.key);
    const spy = spyTransport(a);
    try {
      await leader.resign();
      expect(spy.of('read next candidate')).toEqual([]);
      const text = await fx.raw.get(termRecordKey(n)).string();
      expect(text === null ? null : decodeTermRecord(text)).toMatchObject({ state: 'resigned', heir: next!.token });
      const term = await pending;
      expect(term.token).toBe(next!.token);
      await term.resign();
    } finally {
      spy.restore();
      trackerA.close();
    }
  });

  it('is not elected by the deletion of a key between it and the leader (the view, not the event, decides)', async () => {
    const n = name();
    const a = await client().election(n).campaign('a');
    const b = client();
    const pendingB = b.election(n).campaign('b');
    pendingB.catch(() => undefined); // rejects when b's client closes below
    await queued(b, n, 2);
    const c = client();
    const tracker = c.election(n).track(() => undefined);
    const pendingC = c.election(n).campaign('c', { tracker });
    const [, middle] = await queued(c, n, 3);
    let elected = false;
    pendingC.then(
      () => (elected = true),
      () => undefined,
    );
    await b.close(); // revokes b's lease: c's predecessor is deleted while a still leads
    await expect(pendingB).rejects.toMatchObject({ code: 'CLOSED' });
    await waitFor('c has seen b leave', () => tracker.candidate(middle!.key) === undefined);
    expect(elected).toBe(false);
    expect(a.isValid()).toBe(true);
    await a.resign();
    const term = await pendingC;
    expect(term.value).toBe('c');
    tracker.close();
  });

  it('does not win with its own key deleted while it waits: that attempt fails, the campaign joins anew', async () => {
    const n = name();
    const leader = await client().election(n).campaign('a');
    const c = client();
    const tracker = c.election(n).track(() => undefined);
    const spy = spyTransport(c);
    try {
      const pending = c.election(n).campaign('b', { tracker });
      const [, mine] = await queued(c, n, 2);
      await fx.raw.delete().key(mine!.key).exec();
      await leader.resign();
      // The view shows nobody at a revision after the join, without our key: LEADERSHIP_LOST, which the
      // campaign retries (a transient loss) with a new key, hence a new token.
      const term = await pending;
      expect(spy.of('create candidate key')).toHaveLength(2);
      expect(term.key).toBe(mine!.key);
      expect(term.token).toBeGreaterThan(mine!.token);
      const kv = (await fx.raw.get(term.key).exec()).kvs[0]!;
      expect(BigInt(kv.create_revision)).toBe(term.token);
      await term.resign();
    } finally {
      spy.restore();
      tracker.close();
    }
  });

  it('keeps waiting through a broken watch stream: the view starts over with a read, and it is elected', async () => {
    const n = name();
    const leader = await client().election(n).campaign('a');
    const c = client();
    const streams: { cancel(): void }[] = [];
    const restore = onStreams(c, 'watch', (stream) => streams.push(stream));
    const errors: string[] = [];
    const tracker = c.election(n).track(
      () => undefined,
      (err) => errors.push(err.code),
    );
    const spy = spyTransport(c);
    try {
      const pending = c.election(n).campaign('b', { tracker });
      await queued(c, n, 2);
      // Both of its watches on the stream about to break: the view's and (next in line) the heir's. An heir
      // watch made after the break would hear the resignation name it, and it would lead on that, no read.
      await waitFor(
        'the leader watch and the heir watch on the first stream',
        () => tracker.leader?.key === leader.key && streams.length === 1 && c.hub.size === 2,
      );
      const before = spy.calls.length;
      streams[0]!.cancel(); // every watch of the client ends with a transient error
      await leader.resign(); // while the view is re-read
      const term = await pending;
      expect(term.value).toBe('b');
      expect(errors).toEqual(['UNAVAILABLE']);
      expect(spy.calls.slice(before).map((x) => x.what)).toEqual(['read election candidates', 'confirm first']);
      await term.resign();
    } finally {
      spy.restore();
      restore();
      tracker.close();
    }
  });

  it('rejects with CLOSED, not hangs, when its client is closed while it waits', async () => {
    const n = name();
    await client().election(n).campaign('a');
    const c = client();
    const tracker = c.election(n).track(() => undefined);
    const pending = c.election(n).campaign('b', { tracker });
    pending.catch(() => undefined);
    await queued(c, n, 2);
    await c.close();
    await expect(pending).rejects.toMatchObject({ code: expect.stringMatching(/^(CLOSED|LEASE_LOST)$/) });
  });

  it('on a connection the caller owns, a tracker whose read was in flight when the client closed reports CLOSED', async () => {
    const own = new Etcd3({ hosts: fx.cluster.endpoints });
    try {
      const c = new LockedClient({ endpoints: own, ttl: 5 });
      const errors: string[] = [];
      const tracker = c.election(name()).track(
        () => undefined,
        (err) => errors.push(err.code),
      );
      // The tracker's first read is in flight; the closed client leaves `own` open, so the read succeeds
      // and the tracker then asks for its watch on a client that is closed.
      await c.close();
      await waitFor('the tracker hears CLOSED', () => errors.includes('CLOSED'));
      tracker.close();
    } finally {
      own.close();
    }
  });

  it('names the option when the tracker is closed, of another election, or of another client', async () => {
    const n = name();
    const c = client();
    const closed = c.election(n).track(() => undefined);
    closed.close();
    const other = c.election(`${n}-other`).track(() => undefined);
    const foreign = client()
      .election(n)
      .track(() => undefined);
    const bad: LeaderTracker[] = [
      closed,
      other,
      foreign,
      { leader: undefined, candidate: () => undefined, after: () => undefined, close() {} },
    ];
    for (const tracker of bad) {
      await expect(c.election(n).campaign('x', { tracker })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining('options.tracker'),
      });
    }
    expect(await c.election(n).candidates()).toEqual([]);
    other.close();
    foreign.close();
  });
});
