import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { getEventListeners } from 'node:events';
import { Etcd3 } from 'etcd3';
import { LockedClient, LockedError } from '../../src/api.js';
import { CandidateReads } from '../../src/election/candidates.js';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { onStreams, spyTransport, type TransportSpy } from './transport-spy.js';

// The requests a campaign and a handover make, on a real etcd: the join that
// reads its own place, the read or claim that re-checks it after the predecessor's
// delete (and its retry), one write per resign, admission of bursts, retried transient
// failures, and a keepalive watchdog that a blocked event loop does not fool.
let cluster: EtcdCluster;
let raw: Etcd3;
const clients: LockedClient[] = [];
const spies: TransportSpy[] = [];

function client(ttl = 5): LockedClient {
  // Each its own etcd3 client, so the spy tells their calls apart.
  const c = new LockedClient({ endpoints: new Etcd3({ hosts: cluster.endpoints }), ttl });
  clients.push(c);
  return c;
}

/**
 * The client's first watch of a term record with a predecessor's key (heir-watch.ts) ends at once, as on a
 * failed stream. Returns the start revisions of the heir watches asked for, the ended one first.
 */
function endFirstHeirWatch(c: LockedClient): bigint[] {
  const hub = c.hub as unknown as { watch: typeof c.hub.watch };
  const watch = hub.watch.bind(c.hub);
  const starts: bigint[] = [];
  hub.watch = (target, handlers) => {
    if (!target.rangeEnd || !target.key.toString().endsWith('.locked-term')) return watch(target, handlers);
    starts.push(target.startRevision);
    if (starts.length > 1) return watch(target, handlers);
    queueMicrotask(() => handlers.onEnd(new LockedError('UNAVAILABLE', 'injected: the watch stream failed')));
    return { cancel: () => undefined };
  };
  return starts;
}

function spy(c: LockedClient, fail?: (what: string, nth: number) => Error | null): TransportSpy {
  const s = spyTransport(c, fail);
  spies.push(s);
  return s;
}

beforeAll(async () => {
  cluster = await EtcdCluster.start({ size: 1 });
  raw = new Etcd3({ hosts: cluster.endpoints });
});
afterEach(async () => {
  for (const s of spies.splice(0).reverse()) s.restore();
  for (const c of clients.splice(0)) {
    await c.close();
    c.transport.client.close();
  }
});
afterAll(async () => {
  raw?.close();
  await cluster?.stop();
});

describe('the campaign path', () => {
  it('a lone campaign is two writes: the join, which also reads its place, and the claim', async () => {
    const c = client();
    const s = spy(c);
    const term = await c.election('/path/lone').campaign('v');
    expect(s.calls.map((x) => x.what)).toEqual(['create candidate key', 'claim term']);
    expect(term.isValid()).toBe(true);
  });

  it('a queued candidate learns its predecessor from the join, and leads on the resignation that names it, with no request', async () => {
    const leader = await client().election('/path/queue').campaign('first');
    const c = client();
    const s = spy(c);
    const pending = c.election('/path/queue').campaign('second');
    await waitFor(
      'the second candidate is queued',
      async () => (await raw.getAll().prefix('/path/queue/').keys()).length === 2,
    );
    expect(s.calls.map((x) => x.what)).toEqual(['create candidate key']);
    await leader.resign();
    const term = await pending;
    expect(term.token).toBeGreaterThan(leader.token);
    // Its session's confirmations keep its proof; the resignation's delete and record, in one response of its
    // one watch (heir-watch.ts), elect it: no read, no write.
    const what = s.calls.map((x) => x.what).filter((w) => w !== 'confirm leader keys');
    expect(what).toEqual(['create candidate key']);
    const record = await raw.get('/path/queue.locked-term').exec();
    expect(term.confirmedAt.toString()).toBe(record.kvs[0]!.mod_revision.toString());
  });

  it('a deletion that was no resignation comes on the heir watch without a record: straight to a linearizable read', async () => {
    const leader = await client(2).election('/path/not-named').campaign('first');
    const c = client(2);
    const s = spy(c);
    const pending = c.election('/path/not-named').campaign('second');
    await waitFor('queued', async () => (await raw.getAll().prefix('/path/not-named/').keys()).length === 2);
    await waitFor('the heir watch', () => c.hub.size === 1);
    await raw.delete().key(leader.key); // not a resignation: the record still shows the leader leading
    const term = await pending;
    const what = s.calls.map((x) => x.what).filter((w) => w !== 'confirm leader keys');
    // No read of the record at the delete: the delete's response had every event of its revision.
    expect(what.slice(0, 3)).toEqual(['create candidate key', 'confirm first', 'claim term']);
    expect(term.isValid()).toBe(true);
  }, 30_000);

  it('an heir watch that ended is opened again after the read of the place: the resignation still elects with no read', async () => {
    const leader = await client().election('/path/rewatch').campaign('first');
    const c = client();
    const s = spy(c);
    const starts = endFirstHeirWatch(c);
    const pending = c.election('/path/rewatch').campaign('second');
    await waitFor('queued', async () => (await raw.getAll().prefix('/path/rewatch/').keys()).length === 2);
    await waitFor('the heir watch opened again', () => (starts.length === 2 && c.hub.size === 1) || null);
    await leader.resign();
    const term = await pending;
    // The confirmation after the watch ended (the leader still stood); then the record's event, no read.
    const what = s.calls.map((x) => x.what).filter((w) => w !== 'confirm leader keys');
    expect(what).toEqual(['create candidate key', 'confirm first']);
    expect(starts[1]).toBeGreaterThanOrEqual(starts[0]!); // from the revision after that confirmation
    const record = await raw.get('/path/rewatch.locked-term').exec();
    expect(term.confirmedAt.toString()).toBe(record.kvs[0]!.mod_revision.toString());
    expect(term.isValid()).toBe(true);
  });

  it("a successor's read that fails transiently is retried after a read of its place, keeping the place", async () => {
    const leader = await client(2).election('/path/retry-confirm').campaign('first');
    const c = client(2);
    const s = spy(c, (what, nth) =>
      what === 'confirm first' && nth === 1 ? new LockedError('UNAVAILABLE', 'injected: deadline exceeded') : null,
    );
    const pending = c.election('/path/retry-confirm').campaign('second');
    await waitFor('queued', async () => (await raw.getAll().prefix('/path/retry-confirm/').keys()).length === 2);
    await waitFor('the heir watch', () => c.hub.size === 1);
    await raw.delete().key(leader.key); // not a resignation: the successor reads, then claims
    const term = await pending;
    expect(
      s.calls
        .filter((x) => x.what !== 'confirm leader keys')
        .slice(0, 5)
        .map((x) => [x.what, x.failed]),
    ).toEqual([
      ['create candidate key', false],
      ['confirm first', true],
      ['read predecessor', false],
      ['confirm first', false],
      ['claim term', false],
    ]);
    expect(term.isValid()).toBe(true);
  }, 30_000);

  it('a claim that fails transiently is retried after a read of its place, keeping the place', async () => {
    const c = client();
    const s = spy(c, (what, nth) =>
      what === 'claim term' && nth === 1 ? new LockedError('UNAVAILABLE', 'injected: deadline exceeded') : null,
    );
    const term = await c.election('/path/retry-claim').campaign('lone');
    expect(s.calls.map((x) => [x.what, x.failed])).toEqual([
      ['create candidate key', false],
      ['claim term', true],
      ['read predecessor', false],
      ['claim term', false],
    ]);
    expect(term.isValid()).toBe(true);
  });

  it('a claim holds only while its key stands and no older key does, and returns the record it replaced', async () => {
    const c = client();
    const reads = new CandidateReads(c.transport, '/path/compare');
    const a = await raw.put('/path/compare/a').value('a').exec();
    const b = await raw.put('/path/compare/b').value('b').exec();
    const bToken = BigInt(b.header.revision);
    const refused = await reads.claim('/path/compare/b', bToken, '/path/compare.locked-term', 'x');
    expect(refused.claimed).toBe(false);
    if (!refused.claimed) {
      expect(refused.own?.token).toBe(bToken);
      expect(refused.position.older?.token).toBe(BigInt(a.header.revision));
    }
    await raw.delete().key('/path/compare/a').exec();
    const granted = await reads.claim('/path/compare/b', bToken, '/path/compare.locked-term', 'y');
    expect(granted).toMatchObject({ claimed: true, previous: null });
    const again = await reads.claim('/path/compare/b', bToken, '/path/compare.locked-term', 'z');
    expect(again).toMatchObject({ claimed: true, previous: 'y' });
  });

  it('resign is one delete however often it is called', async () => {
    const c = client();
    const term = await c.election('/path/resign').campaign('v');
    const s = spy(c);
    await Promise.all([term.resign(), term.resign(), term.resign()]);
    await term.resign();
    expect(s.of('resign')).toHaveLength(1);
    expect((await raw.getAll().prefix('/path/resign/').keys()).length).toBe(0);
  });

  it('a handover keeps the watch stream: one stream for the wait and the term, closed once idle', async () => {
    const leader = await client().election('/path/stream').campaign('first');
    const c = client();
    const streams: { cancelled: boolean }[] = [];
    const restore = onStreams(c, 'watch', (stream) => {
      const seen = { cancelled: false };
      streams.push(seen);
      const cancel = stream.cancel.bind(stream);
      stream.cancel = () => {
        seen.cancelled = true;
        cancel();
      };
    });
    try {
      // The successor's wait ends and its term's watch begins within the hub's 2 s linger.
      const pending = c.election('/path/stream').campaign('second');
      // Next in line, it watches its predecessor's key and the term record (for a resignation naming it), in one watch.
      await waitFor('the successor waits on its predecessor', () => c.hub.size === 1 && streams.length === 1);
      await leader.resign();
      const term = await pending;
      // The term's key watch is created on the next turn of the event loop, on the stream the wait used.
      await waitFor("the term's key watch", () => c.hub.size === 1);
      expect(streams).toEqual([{ cancelled: false }]);
      const resigned = term.resign(); // ends the term, and cancels its watch, synchronously
      expect(streams).toEqual([{ cancelled: false }]);
      await resigned;
      await waitFor('the idle stream is closed', () => streams[0]!.cancelled, { timeoutMs: 10_000 });
      expect(streams).toHaveLength(1);
    } finally {
      restore();
    }
  });

  it("a term's key watch starts right after the revision that confirmed it: a delete before the watch exists still ends the term", async () => {
    const c = client();
    const hub = c.hub as unknown as { watch: typeof c.hub.watch };
    const watch = hub.watch.bind(c.hub);
    const starts: bigint[] = [];
    // Delay the term's key watch until its key is deleted: the create reaches etcd after the delete.
    hub.watch = (target, handlers) => {
      if (!target.rangeEnd) {
        starts.push(target.startRevision);
        let inner: { cancel(): void } | null = null;
        let cancelled = false;
        void raw
          .delete()
          .key(target.key.toString())
          .then(() => {
            if (!cancelled) inner = watch(target, handlers);
          });
        return {
          cancel: () => {
            cancelled = true;
            inner?.cancel();
          },
        };
      }
      return watch(target, handlers);
    };
    try {
      const term = await c.election('/path/late-watch').campaign('v');
      const ended = new Promise<unknown>((resolve) =>
        term.signal.addEventListener('abort', () => resolve(term.signal.reason)),
      );
      await waitFor("the term's key watch", () => starts.length === 1);
      expect(starts).toEqual([term.confirmedAt + 1n]);
      const reason = await ended;
      expect(reason).toBeInstanceOf(LockedError);
      expect((reason as LockedError).message).toMatch(/was deleted/);
    } finally {
      hub.watch = watch;
    }
  });

  it('a cancelled watch gets nothing more, and etcd is told to drop it', async () => {
    const c = client();
    const cancelsWritten: string[] = [];
    const restore = onStreams(c, 'watch', (stream) => {
      const write = stream.write.bind(stream);
      stream.write = (req) => {
        const id = req.cancel_request?.watch_id;
        if (id !== undefined && id !== null) cancelsWritten.push(String(id));
        write(req);
      };
    });
    try {
      const from = BigInt((await raw.put('/hub/a').value('0').exec()).header.revision) + 1n;
      const got: string[] = [];
      const watch = (key: string): { cancel(): void } =>
        c.hub.watch(
          { key: Buffer.from(key), startRevision: from },
          {
            onEvents: (events) => got.push(...events.map((e) => `${key}=${e.kv.value.toString()}`)),
            onEnd: () => undefined,
          },
        );
      const a = watch('/hub/a');
      const b = watch('/hub/b');
      // b's first event shows both live: etcd acknowledges creates in the order they were sent.
      await raw.put('/hub/b').value('0');
      await waitFor('b is live', () => got.includes('/hub/b=0'));
      a.cancel();
      await raw.put('/hub/a').value('1');
      await raw.put('/hub/b').value('1');
      await waitFor('the other watch sees its put', () => got.includes('/hub/b=1'));
      // One stream, in revision order: had /hub/a=1 been delivered, it would have come first.
      expect(got).toEqual(['/hub/b=0', '/hub/b=1']);
      await waitFor('the cancel written to etcd', () => cancelsWritten.length === 1);
      b.cancel();
    } finally {
      restore();
    }
  });

  it('admits a burst: 300 campaigns started at once on one client keep at most 64 joins and claims in flight, and all win', async () => {
    const c = client(10);
    const s = spy(c);
    const terms = await Promise.all(
      Array.from({ length: 300 }, (_, i) => c.election(`/path/burst/${i}`).campaign(`v${i}`)),
    );
    expect(terms.every((t) => t.isValid())).toBe(true);
    expect(s.of('create candidate key')).toHaveLength(300);
    expect(s.of('claim term')).toHaveLength(300);
    // The most joins and claims in flight at one instant (the terms' confirmation reads are not admitted).
    const edges = [...s.of('create candidate key'), ...s.of('claim term')]
      .flatMap((call) => [
        { at: call.startMs, step: 1 },
        { at: call.doneMs ?? Infinity, step: -1 },
      ])
      .sort((x, y) => x.at - y.at || x.step - y.step);
    let inFlight = 0;
    let most = 0;
    for (const edge of edges) most = Math.max(most, (inFlight += edge.step));
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(64);
  });

  it('retries a transient failure of the join, and gives the error back after three', async () => {
    const c = client();
    const unavailable = (): LockedError => new LockedError('UNAVAILABLE', 'injected: deadline exceeded');
    const once = spy(c, (what, nth) => (what === 'create candidate key' && nth === 1 ? unavailable() : null));
    const term = await c.election('/path/retry').campaign('v');
    expect(once.of('create candidate key').map((x) => x.failed)).toEqual([true, false]);
    await term.resign();
    once.restore();
    const always = spy(c, (what) => (what === 'create candidate key' ? unavailable() : null));
    await expect(c.election('/path/retry-fail').campaign('v')).rejects.toThrow(/injected: deadline exceeded/);
    expect(always.of('create candidate key')).toHaveLength(3);
  });
});

describe('long-lived signals', () => {
  it('campaigns and terms on one lease leave no listener behind on its signal once they are over', async () => {
    const c = client();
    const session = c.session();
    const lease = await session.lease();
    const before = getEventListeners(lease.signal, 'abort').length;
    for (let i = 0; i < 20; i++) {
      const controller = new AbortController();
      const term = await c.election(`/path/listeners/${i}`, session).campaign('v', { signal: controller.signal });
      expect(term.lease).toBe(lease);
      void term.signal; // created, then ended with the term
      await term.resign();
    }
    expect(getEventListeners(lease.signal, 'abort').length).toBe(before);
  });
});

describe('the keepalive watchdog', () => {
  it('is not fooled by a blocked event loop: the reply waiting in the socket counts', async () => {
    const c = client(9);
    let blocks = 0;
    // Right after each keepalive is written, block the event loop for longer than the reply timeout
    // (half a renew interval: 1.5 s at TTL 9 s) but shorter than the renew interval, with room for a slow
    // reply on a loaded machine to arrive while the loop is blocked.
    const restore = onStreams(c, 'keepalive', (stream) => {
      const write = stream.write.bind(stream) as (msg: unknown) => boolean;
      (stream as unknown as { write: (msg: unknown) => boolean }).write = (msg) => {
        const ok = write(msg);
        if (blocks < 2) {
          blocks++;
          const until = performance.now() + 2500;
          while (performance.now() < until) {
            // busy: a GC pause or a burst of work
          }
        }
        return ok;
      };
    });
    try {
      const session = c.session();
      const errors: string[] = [];
      session.errors.add((e) => errors.push(e.message));
      let renewals = 0;
      session.renewed.add(() => renewals++);
      await session.lease();
      await waitFor('three renewals', () => renewals >= 3, { timeoutMs: 25_000 });
      expect(blocks).toBe(2);
      expect(errors).toEqual([]);
      await session.close();
    } finally {
      restore();
    }
  });
});
