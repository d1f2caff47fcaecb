import { describe, expect, it } from 'vitest';
import type * as etcd from 'etcd3';
import type { FeedListener } from '../../src/election/key-feed.js';
import { LockedError } from '../../src/errors.js';
import { HeirWatch } from '../../src/election/heir-watch.js';
import { encodeTermRecord, termRecordKey } from '../../src/election/term-record.js';
import type { WatchHandlers, WatchHub, WatchTarget } from '../../src/transport/watch-hub.js';

// The one watch of the candidate next in line (heir-watch.ts), on a fake hub: the range it asks for, and
// what it makes of each response — the record naming us decides even after the delete in the same
// response; a delete alone is the predecessor's wait; proclaims, other keys and other heirs are not heard;
// its feed hands the predecessor's events on, first, and ends with the watch.

const RECORD = termRecordKey('/e');
const LEADER = { key: '/e/694d8a6b1c2f0a11', token: 7n, modRevision: 7n, leaseId: 1n, value: 'v' };
const ME = 9n;

function setup(): {
  watch: HeirWatch;
  target: WatchTarget;
  deliver: (...events: etcd.IEvent[]) => void;
  end: (err: LockedError) => void;
  cancelled: () => boolean;
} {
  let target: WatchTarget | null = null;
  let handlers: WatchHandlers | null = null;
  let cancelled = false;
  const hub = {
    watch(t: WatchTarget, h: WatchHandlers) {
      target = t;
      handlers = h;
      return { cancel: () => (cancelled = true) };
    },
  } as unknown as WatchHub;
  const watch = new HeirWatch(hub, RECORD, LEADER, 20n, { token: ME, ttlMs: 5000 });
  return {
    watch,
    target: target!,
    deliver: (...events) => handlers!.onEvents(events, 30n),
    end: (err) => handlers!.onEnd(err),
    cancelled: () => cancelled,
  };
}

function event(type: 'Put' | 'Delete', key: string, rev: bigint, value = '', create = rev): etcd.IEvent {
  const kv = {
    key: Buffer.from(key),
    value: Buffer.from(value),
    mod_revision: String(rev),
    create_revision: String(create),
  };
  return { type, kv } as unknown as etcd.IEvent;
}

const naming = (heir: bigint | null): string =>
  encodeTermRecord({ state: 'resigned', token: LEADER.token, ttlMs: 5000, heir });
const never = new AbortController().signal;

/** Whether `p` has settled, after the microtasks queued so far. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return done;
}

describe('HeirWatch', () => {
  it('watches from the record key to the predecessor key inclusive, from the revision given, puts included', () => {
    const { target } = setup();
    expect(target.key.toString()).toBe('/e.locked-term');
    expect(target.rangeEnd).toEqual(Buffer.concat([Buffer.from(LEADER.key), Buffer.from([0])]));
    expect(target.startRevision).toBe(20n);
    // Every candidate key sorts after the record's ('/' > '.'), the rank keys before it ('r' < 't').
    expect(Buffer.compare(target.key, Buffer.from(LEADER.key))).toBe(-1);
    expect(Buffer.compare(Buffer.from('/e.locked-rank/x'), target.key)).toBe(-1);
  });

  it("the resignation's response names us even though its delete comes first; the wait does not end on it", async () => {
    const { watch, deliver, cancelled } = setup();
    const wait = watch.waitFor(LEADER, never)!;
    deliver(event('Delete', LEADER.key, 30n), event('Put', RECORD, 30n, naming(ME)));
    await expect(watch.named).resolves.toBe(30n);
    expect(await settled(wait)).toBe(false);
    expect(cancelled()).toBe(true);
  });

  it('a delete without the record ends the wait; the record is still watched', async () => {
    const { watch, deliver } = setup();
    const wait = watch.waitFor(LEADER, never)!;
    deliver(event('Delete', LEADER.key, 30n));
    await expect(wait).resolves.toBe(30n);
    expect(await settled(watch.named)).toBe(false);
    // The record keeps being watched: a later resignation naming us still does.
    deliver(event('Put', RECORD, 40n, naming(ME)));
    await expect(watch.named).resolves.toBe(40n);
  });

  it('is not woken by proclaims, other keys in the range, or a record naming another heir', async () => {
    const { watch, deliver } = setup();
    const wait = watch.waitFor(LEADER, never)!;
    deliver(event('Put', LEADER.key, 31n, 'new value', LEADER.token)); // a proclaim
    deliver(event('Delete', '/e/00000000000000aa', 32n)); // another candidate, sorting before the leader
    deliver(event('Put', '/e/00000000000000ab', 33n, naming(ME))); // a value that looks like a record: not the record
    deliver(event('Put', RECORD, 34n, naming(ME + 1n)));
    expect(await settled(wait)).toBe(false);
    expect(await settled(watch.named)).toBe(false);
    deliver(event('Put', LEADER.key, 35n, 'again', 35n)); // made again by another lease
    await expect(wait).resolves.toBe(35n);
  });

  it('an ended watch ends the wait with its error and never names', async () => {
    const { watch, end } = setup();
    const wait = watch.waitFor(LEADER, never)!;
    const err = new LockedError('COMPACTED', 'compacted');
    end(err);
    await expect(wait).resolves.toBe(err);
    expect(await settled(watch.named)).toBe(false);
  });

  it('waits once, for its own predecessor; an abort rejects the wait', async () => {
    const { watch } = setup();
    expect(watch.waitFor({ key: LEADER.key, token: 8n }, never)).toBeNull();
    expect(watch.waitFor({ key: '/e/other', token: LEADER.token }, never)).toBeNull();
    const stop = new AbortController();
    const wait = watch.waitFor(LEADER, stop.signal)!;
    expect(watch.waitFor(LEADER, never)).toBeNull();
    stop.abort(new LockedError('CLOSED', 'turn over'));
    await expect(wait).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it("its feed hands on the predecessor's events before the watch acts on them, and ends with the watch", async () => {
    const { watch, deliver } = setup();
    expect([watch.feed.candidate, watch.feed.from]).toEqual([LEADER, 20n]);
    const heard: string[] = [];
    const listener: FeedListener = {
      onEvents: (events) => heard.push(events.map((e) => `${e.type}@${e.kv.mod_revision}`).join(',')),
      onEnd: (err) => heard.push(`end:${err?.code ?? 'cancelled'}`),
    };
    watch.feed.listen(listener);
    void watch.named.then(() => heard.push('named'));
    deliver(event('Put', LEADER.key, 31n, 'busy', LEADER.token), event('Delete', '/e/00000000000000aa', 31n));
    deliver(event('Put', RECORD, 32n, naming(ME + 1n))); // no event of the predecessor's key: nothing handed on
    deliver(event('Delete', LEADER.key, 33n), event('Put', RECORD, 33n, naming(ME)));
    await watch.named;
    expect(heard).toEqual(['Put@31', 'Delete@33', 'end:cancelled', 'named']);
    expect(watch.feed.ended).toBe(true);
  });

  it('its feed ends with the error that ended the watch, or when the watch is cancelled', () => {
    const failed = setup();
    const ends: (string | null)[] = [];
    failed.watch.feed.listen({ onEvents: () => undefined, onEnd: (err) => ends.push(err?.code ?? null) });
    failed.end(new LockedError('UNAVAILABLE', 'stream broke'));
    const cancelled = setup();
    cancelled.watch.feed.listen({ onEvents: () => undefined, onEnd: (err) => ends.push(err?.code ?? null) });
    cancelled.watch.cancel();
    cancelled.watch.cancel();
    expect(ends).toEqual(['UNAVAILABLE', null]);
    expect(cancelled.cancelled()).toBe(true);
  });
});
