import { describe, expect, it } from 'vitest';
import type * as etcd from 'etcd3';
import { CANCEL_AFTER_MS, WatchHub, type WatchHandlers } from '../../src/transport/watch-hub.js';
import type { LockedError } from '../../src/errors.js';
import { FakeClock } from './fake-clock.js';
import { FakeWatchCalls, drain } from './fake-transport.js';

// The watch hub's stream states on a fake clock and a fake watch call: one
// stream for every watch, creates paired with etcd's replies in order, the
// create and probe timers, cancel, idle close and failures. Request timeout
// 1,000 ms: a create or a probe unanswered for 1,000 ms fails every watch.

interface Seen {
  readonly events: string[];
  readonly ends: LockedError[];
  readonly handlers: WatchHandlers;
}

function seen(): Seen {
  const events: string[] = [];
  const ends: LockedError[] = [];
  return {
    events,
    ends,
    handlers: {
      onEvents: (evs, rev) => events.push(...evs.map((e) => `${e.type} ${e.kv.key.toString()}@${rev}`)),
      onEnd: (err) => ends.push(err),
    },
  };
}

function setup(): { clock: FakeClock; calls: FakeWatchCalls; hub: WatchHub } {
  const clock = new FakeClock();
  const calls = new FakeWatchCalls(1_000);
  return { clock, calls, hub: new WatchHub(calls, clock) };
}

const target = (key: string, startRevision = 5n) => ({ key: Buffer.from(key), startRevision });
const created = (id: string): etcd.IWatchResponse => ({ created: true, watch_id: id, events: [] }) as never;
const events = (id: string, rev: number, ...keys: string[]): etcd.IWatchResponse =>
  ({
    watch_id: id,
    header: { revision: String(rev) },
    compact_revision: '0',
    events: keys.map((k) => ({ type: 'Put', kv: { key: Buffer.from(k), mod_revision: String(rev) } })),
  }) as never;

describe('WatchHub', () => {
  it('multiplexes every watch on one stream, pairing creates with replies in order (each asked one revision early)', async () => {
    const { calls, hub } = setup();
    const a = seen();
    const b = seen();
    hub.watch(target('/a'), a.handlers);
    hub.watch(target('/b', 9n), b.handlers);
    await drain();
    expect(calls.opens).toHaveLength(1);
    expect(calls.stream.written.map((w) => w.create_request?.start_revision)).toEqual(['4', '8']);
    calls.stream.reply(created('1'));
    calls.stream.reply(created('2'));
    calls.stream.reply(events('2', 10, '/b'));
    calls.stream.reply(events('1', 11, '/a'));
    expect(a.events).toEqual(['Put /a@11']);
    expect(b.events).toEqual(['Put /b@10']);
    expect(hub.size).toBe(2);
  });

  it('a create etcd does not acknowledge in time fails every watch and drops the stream; the next watch opens anew', async () => {
    const { clock, calls, hub } = setup();
    const a = seen();
    const b = seen();
    hub.watch(target('/a'), a.handlers);
    await drain();
    calls.stream.reply(created('1'));
    hub.watch(target('/b'), b.handlers);
    clock.advance(999);
    expect(a.ends).toEqual([]);
    clock.advance(1);
    expect([...a.ends, ...b.ends].map((e) => e.code)).toEqual(['UNAVAILABLE', 'UNAVAILABLE']);
    expect(calls.stream.cancelled).toBe(true);
    expect(hub.size).toBe(0);
    hub.watch(target('/c'), seen().handlers);
    await drain();
    expect(calls.opens).toHaveLength(2);
  });

  it('after cancel() nothing is delivered, and etcd is told CANCEL_AFTER_MS later, with the cancels due then', async () => {
    const { clock, calls, hub } = setup();
    const a = seen();
    const b = seen();
    const handleA = hub.watch(target('/a'), a.handlers);
    const handleB = hub.watch(target('/b'), b.handlers);
    await drain();
    calls.stream.reply(created('7'));
    calls.stream.reply(created('8'));
    handleA.cancel();
    calls.stream.reply(events('7', 10, '/a'));
    expect(a.events).toEqual([]);
    clock.advance(CANCEL_AFTER_MS - 1);
    handleB.cancel();
    expect(calls.stream.written.some((w) => w.cancel_request)).toBe(false);
    clock.advance(1);
    expect(calls.stream.written.filter((w) => w.cancel_request)).toEqual([
      { cancel_request: { watch_id: '7' } },
      { cancel_request: { watch_id: '8' } },
    ]);
    expect([a.ends, b.ends]).toEqual([[], []]); // a cancelled watch does not end with an error
  });

  it('a watch cancelled before etcd created it is cancelled when the reply names its ID', async () => {
    const { calls, hub } = setup();
    const handle = hub.watch(target('/a'), seen().handlers);
    const b = seen();
    hub.watch(target('/b'), b.handlers);
    await drain();
    handle.cancel();
    calls.stream.reply(created('3'));
    expect(calls.stream.written.at(-1)).toEqual({ cancel_request: { watch_id: '3' } });
    calls.stream.reply(created('4'));
    calls.stream.reply(events('4', 12, '/b'));
    expect(b.events).toEqual(['Put /b@12']);
  });

  it('closes the stream 2 s after its last watch ends; a watch in between keeps it', async () => {
    const { clock, calls, hub } = setup();
    const first = hub.watch(target('/a'), seen().handlers);
    await drain();
    calls.stream.reply(created('1'));
    first.cancel();
    clock.advance(1_500);
    hub.watch(target('/b'), seen().handlers);
    calls.stream.reply(created('2'));
    clock.advance(5_000);
    expect(calls.stream.cancelled).toBe(false);
    expect(calls.opens).toHaveLength(1);
  });

  it('with no watch left the stream is cancelled after 2 s', async () => {
    const { clock, calls, hub } = setup();
    hub.watch(target('/a'), seen().handlers).cancel(); // cancelled while the stream opens
    await drain();
    expect(calls.stream.cancelled).toBe(true); // nobody waits for it
    const handle = hub.watch(target('/b'), seen().handlers);
    await drain();
    calls.stream.reply(created('1'));
    handle.cancel();
    clock.advance(1_999);
    expect(calls.stream.cancelled).toBe(false);
    clock.advance(1);
    expect(calls.stream.cancelled).toBe(true);
  });

  it('probe(): a progress request answered keeps the stream; unanswered, every watch fails', async () => {
    const { clock, calls, hub } = setup();
    const a = seen();
    hub.watch(target('/a'), a.handlers);
    await drain();
    calls.stream.reply(created('1'));
    hub.probe();
    hub.probe(); // one at a time
    expect(calls.stream.written.filter((w) => w.progress_request)).toHaveLength(1);
    clock.advance(500);
    calls.stream.reply({ watch_id: '-1', events: [], header: { revision: '20' } } as never);
    clock.advance(1_000);
    expect(a.ends).toEqual([]);
    hub.probe();
    clock.advance(1_000);
    expect(a.ends.map((e) => e.message)).toEqual(['watch stream silent for 1000 ms after a progress request']);
  });

  it("asks etcd from the revision before the target's first and drops that revision's events", async () => {
    const { calls, hub } = setup();
    const a = seen();
    hub.watch(target('/a', 7n), a.handlers);
    await drain();
    expect(calls.stream.written[0]?.create_request?.start_revision).toBe('6');
    calls.stream.reply(created('1'));
    calls.stream.reply(events('1', 6, '/a', '/a2')); // the read the watch follows already had them
    expect(a.events).toEqual([]);
    const mixed = events('1', 8, '/a', '/a3');
    (mixed.events[0]!.kv as { mod_revision: string }).mod_revision = '6';
    calls.stream.reply(mixed); // one response over revisions 6 and 8: only 8's event is delivered
    calls.stream.reply(events('1', 9, '/a'));
    expect(a.events).toEqual(['Put /a3@8', 'Put /a@9']);
    // Revisions 0 (from now) and 1 have no revision before them to ask for.
    hub.watch(target('/b', 1n), seen().handlers);
    hub.watch(target('/c', 0n), seen().handlers);
    expect(calls.stream.written.slice(1).map((w) => w.create_request?.start_revision)).toEqual(['1', '0']);
  });

  it('a compacted start ends that watch alone with COMPACTED', async () => {
    const { calls, hub } = setup();
    const a = seen();
    const b = seen();
    hub.watch(target('/a', 2n), a.handlers);
    hub.watch(target('/b'), b.handlers);
    await drain();
    calls.stream.reply({ ...created('1'), canceled: true, compact_revision: '4' });
    calls.stream.reply(created('2'));
    expect(a.ends.map((e) => e.code)).toEqual(['COMPACTED']);
    expect(b.ends).toEqual([]);
    expect(calls.stream.cancelled).toBe(false);
  });

  it('a failed stream ends every watch with the classified error; close() ends them with CLOSED', async () => {
    const { calls, hub } = setup();
    const a = seen();
    hub.watch(target('/a'), a.handlers);
    await drain();
    calls.stream.reply(created('1'));
    calls.stream.fail(Object.assign(new Error('connection reset'), { code: 14 }));
    expect(a.ends.map((e) => e.code)).toEqual(['UNAVAILABLE']);
    const b = seen();
    hub.watch(target('/b'), b.handlers);
    hub.close();
    expect(b.ends.map((e) => e.code)).toEqual(['CLOSED']);
    await drain();
    expect(calls.stream.cancelled).toBe(true); // the stream that opened after close() is not used
  });
});
