import { describe, expect, it } from 'vitest';
import type * as etcd from 'etcd3';
import { LeaderWatch, type ElectionSnapshot } from '../../src/election/leader-watch.js';
import type { Candidate } from '../../src/election/candidates.js';
import { LockedError } from '../../src/errors.js';
import { WatchHub } from '../../src/transport/watch-hub.js';
import { FakeClock } from './fake-clock.js';
import { FakeWatchCalls, drain, pending, type Pending } from './fake-transport.js';

// The leader watch's view on a fake clock: a snapshot read, then one prefix
// watch on a real WatchHub over a fake watch call. The leader is always the
// lowest create revision; a failover costs one event and no read.

type Snapshot = { candidates: Candidate[]; revision: bigint };

function candidate(n: number, value = `v${n}`, modRevision = BigInt(n)): Candidate {
  return { key: `/e/${n.toString(16)}`, token: BigInt(n), modRevision, leaseId: 1n, value };
}

function kv(c: Candidate): etcd.IKeyValue {
  return {
    key: Buffer.from(c.key),
    value: Buffer.from(c.value),
    create_revision: String(c.token),
    mod_revision: String(c.modRevision),
    lease: '1',
  } as never;
}

function setup() {
  const clock = new FakeClock();
  const calls = new FakeWatchCalls(1_000);
  const reads: Pending<Snapshot>[] = [];
  const snapshot: ElectionSnapshot = {
    prefix: Buffer.from('/e/'),
    rangeEnd: Buffer.from('/e0'),
    all: () => {
      const call = pending<Snapshot>();
      reads.push(call);
      return call.promise;
    },
  };
  const reports: string[] = [];
  const errors: string[] = [];
  const watch = new LeaderWatch(
    snapshot,
    new WatchHub(calls, clock),
    (leader, revision) => reports.push(`${leader ? `${leader.token}=${leader.value}` : 'none'}@${revision}`),
    (err) => errors.push(err.code),
    clock,
  );
  /** etcd creates the watch and sends these events at `revision`. */
  const send = (revision: number, ...evs: [type: 'Put' | 'Delete', c: Candidate][]): void =>
    calls.stream.reply({
      watch_id: '1',
      header: { revision: String(revision) },
      compact_revision: '0',
      events: evs.map(([type, c]) => ({ type, kv: kv(c) })),
    } as never);
  return { clock, calls, reads, reports, errors, watch, send };
}

async function started(s: ReturnType<typeof setup>, candidates: Candidate[], revision: bigint): Promise<void> {
  s.reads.at(-1)!.resolve({ candidates, revision });
  await drain();
  s.calls.stream.reply({ created: true, watch_id: '1', events: [] } as never);
}

describe('LeaderWatch', () => {
  it("reports the snapshot's first candidate at the read's revision, then watches from the next revision (asked from the read's: watch-start.ts)", async () => {
    const s = setup();
    expect(s.watch.leader).toBeUndefined();
    await started(s, [candidate(3), candidate(5)], 8n);
    expect(s.reports).toEqual(['3=v3@8']);
    expect(s.calls.stream.written[0]?.create_request?.start_revision).toBe('8');
    expect(s.watch.after(3n)?.token).toBe(5n);
    expect(s.watch.after(5n)).toBeNull();
  });

  it("a failover is one event: the leader's delete makes the next oldest leader, with no read", async () => {
    const s = setup();
    await started(s, [candidate(3), candidate(5), candidate(7)], 8n);
    s.send(9, ['Delete', candidate(3, '', 9n)]);
    expect(s.reports).toEqual(['3=v3@8', '5=v5@9']);
    expect(s.reads).toHaveLength(1);
  });

  it('a newer join or a non-leader leaving reports nothing; a proclaim (new value) does', async () => {
    const s = setup();
    await started(s, [candidate(3), candidate(5)], 8n);
    s.send(9, ['Put', candidate(9)]);
    s.send(10, ['Delete', candidate(5, '', 10n)]);
    expect(s.reports).toEqual(['3=v3@8']);
    s.send(11, ['Put', candidate(3, 'next', 11n)]);
    expect(s.reports).toEqual(['3=v3@8', '3=next@11']);
  });

  it('several keys in one response: the lowest create revision leads whatever their order', async () => {
    const s = setup();
    await started(s, [], 8n);
    expect(s.reports).toEqual(['none@8']);
    s.send(12, ['Put', candidate(11)], ['Put', candidate(9)]);
    expect(s.reports).toEqual(['none@8', '9=v9@11']);
  });

  it('a failed watch is reported and re-read after a jittered backoff; a compaction re-reads at once', async () => {
    const s = setup();
    s.clock.randomValue = 0.5; // first backoff: max(25, 50 × 0.5) = 25 ms
    await started(s, [candidate(3)], 8n);
    s.calls.stream.fail(Object.assign(new Error('connection reset'), { code: 14 }));
    expect(s.errors).toEqual(['UNAVAILABLE']);
    s.clock.advance(24);
    expect(s.reads).toHaveLength(1);
    s.clock.advance(1);
    expect(s.reads).toHaveLength(2);
    await started(s, [candidate(5)], 20n); // the leader changed while the watch was down
    expect(s.reports).toEqual(['3=v3@8', '5=v5@20']);
    s.calls.stream.reply({ watch_id: '1', canceled: true, compact_revision: '30', events: [] } as never);
    expect(s.errors).toEqual(['UNAVAILABLE', 'COMPACTED']);
    s.clock.advance(0);
    expect(s.reads).toHaveLength(3);
  });

  it('after close() nothing is reported and no retry runs', async () => {
    const s = setup();
    await started(s, [candidate(3)], 8n);
    s.calls.stream.fail(new LockedError('UNAVAILABLE', 'reset'));
    s.watch.close();
    s.clock.advance(10_000);
    expect(s.reads).toHaveLength(1);
    expect(s.watch.closed).toBe(true);
    expect(s.reports).toEqual(['3=v3@8']);
  });
});
