import { describe, expect, it } from 'vitest';
import { LockedNode } from '../../src/locked/node.js';
import { HANDOVER_QUIET_MS } from '../../src/locked/wind-down.js';
import type { NodeBinding } from '../../src/locked/node-config.js';
import type { Election } from '../../src/election/election.js';
import type { Term } from '../../src/election/term.js';
import type { Candidate } from '../../src/election/candidates.js';
import { ON_JOINED, type InternalCampaignOptions } from '../../src/election/campaign-options.js';
import { Listeners } from '../../src/core/listeners.js';
import { LockedError, type LockedError as LockedErrorType } from '../../src/errors.js';
import { FakeClock } from './fake-clock.js';
import { drain, pending, type Pending } from './fake-transport.js';

// The seed node's transitions (idle → running → stopped) on a fake clock and a
// fake election: what it emits, what start() and stop() resolve to, and in
// which order it steps down, resigns and gives its lease back.

interface FakeTerm {
  readonly term: Term;
  readonly resigned: string[];
  end(): void;
}

function fakeTerm(token: bigint, value: string, log: string[], resignFails?: LockedError): FakeTerm {
  const controller = new AbortController();
  const resigned: string[] = [];
  const term = {
    key: `/e/${token}`,
    token,
    value,
    confirmedAt: token,
    lease: { id: 1n },
    signal: controller.signal,
    isValid: () => !controller.signal.aborted,
    end: (reason: string) => controller.abort(new LockedError('LEADERSHIP_LOST', reason)),
    resign: () => {
      // As Term.resign: the term ends first, then the write is sent; once (later calls share the first).
      if (resigned.length === 0) {
        controller.abort(new LockedError('LEADERSHIP_LOST', 'resigned'));
        log.push('resign');
        resigned.push('resign');
      }
      return resignFails ? Promise.reject(resignFails) : Promise.resolve();
    },
    proclaim: () => Promise.resolve(),
    reprioritize: (priority: number) => {
      log.push(`reprioritize ${priority}`);
      return Promise.resolve();
    },
  };
  return { term: term as unknown as Term, resigned, end: () => term.end('lost') };
}

function setup(bindFails = false) {
  const clock = new FakeClock();
  const log: string[] = [];
  const campaigns: { value: string; options: InternalCampaignOptions; call: Pending<Term> }[] = [];
  let onLeader: (leader: Candidate | null, revision: bigint) => void = () => undefined;
  let trackerClosed = false;
  const session = { renewed: new Listeners<[{ id: bigint }]>(), errors: new Listeners<[LockedErrorType]>() };
  const election = {
    session,
    watchLeader: (on: typeof onLeader) => {
      onLeader = on;
      return {
        leader: undefined,
        candidate: () => undefined,
        after: () => undefined,
        close: () => (trackerClosed = true),
      };
    },
    campaign: (value: string, options: InternalCampaignOptions) => {
      const call = pending<Term>();
      campaigns.push({ value, options, call });
      // As the real campaign: its signal gives it up.
      options.signal?.addEventListener('abort', () => call.reject(new LockedError('CLOSED', 'campaign given up')));
      return call.promise;
    },
  };
  const node = new LockedNode({
    id: 'me',
    path: '/e',
    value: 'v1',
    ttlSec: 2,
    stopOnError: false,
    priority: 0,
    preemptAfterMs: 1000,
    clock,
    bind: (): NodeBinding => {
      if (bindFails) throw new TypeError('bad binding');
      return {
        election: election as unknown as Election,
        release: () => {
          log.push('release');
          return Promise.resolve();
        },
      };
    },
  });
  for (const ev of ['select', 'deselect', 'change'] as const) {
    node.on(ev, (...args: unknown[]) => log.push([ev, ...args].join(' ')));
  }
  return {
    clock,
    log,
    node,
    campaigns,
    session,
    view: (c: Candidate | null, rev: bigint) => onLeader(c, rev),
    trackerClosed: () => trackerClosed,
  };
}

const other: Candidate = { key: '/e/3', token: 3n, modRevision: 3n, leaseId: 2n, value: 'them:::x' };

describe('LockedNode', () => {
  it('priority(n) while waiting gives up the campaign in flight and joins again at once with the new priority', async () => {
    const s = setup();
    void s.node.start();
    expect(s.campaigns.map((c) => c.options.priority)).toEqual([0]);
    expect(s.node.priority()).toBe(0);
    expect(s.node.priority(7)).toBe(7);
    await drain();
    expect(s.campaigns[0]!.options.signal?.aborted).toBe(true);
    expect(s.campaigns.map((c) => c.options.priority)).toEqual([0, 7]); // no backoff: not a failure
    expect(() => s.node.priority(Number.NaN)).toThrow(/priority must be a finite number/);
    expect(s.node.priority()).toBe(7);
  });

  it('priority(n) while leading keeps the term and tells it (it publishes it, and hands over if outranked)', async () => {
    const s = setup();
    const started = s.node.start();
    const t = fakeTerm(5n, 'me:::v1', s.log);
    s.campaigns[0]!.call.resolve(t.term);
    await started;
    s.node.priority(-2);
    await drain();
    expect(s.node.isSelected()).toBe(true);
    expect(t.resigned).toEqual([]);
    expect(s.log.filter((l) => l.startsWith('reprioritize'))).toEqual(['reprioritize -2']);
    expect(s.campaigns).toHaveLength(1);
    void s.node.stop();
  });

  it('start() campaigns with its data and resolves once a view at or after its join names the leader', async () => {
    const s = setup();
    let resolved = false;
    void s.node.start().then(() => (resolved = true));
    expect(s.campaigns.map((c) => c.value)).toEqual(['me:::v1']);
    s.view(other, 2n); // older than the join: does not settle start()
    s.campaigns[0]!.options[ON_JOINED]!({ key: '/e/5', token: 5n, first: other });
    await drain();
    expect(resolved).toBe(true);
    expect(s.node.id()).toBe('them');
    expect(s.node.isSelected()).toBe(false);
  });

  it('leads on the term it wins: change, then select; deselect once when the term ends; then campaigns again after a backoff', async () => {
    const s = setup();
    s.clock.randomValue = 0; // backoff floor: 50 ms
    const started = s.node.start();
    const t = fakeTerm(5n, 'me:::v1', s.log);
    s.campaigns[0]!.call.resolve(t.term);
    await started;
    expect(s.node.isSelected()).toBe(true);
    expect(s.node.token()).toBe(5n);
    expect(s.log).toEqual(['change v1 me', 'select v1 me']);
    t.end();
    await drain();
    expect(s.log.slice(2)).toEqual(['deselect', 'resign']); // every term ends by leaving the queue
    expect(s.node.isSelected()).toBe(false);
    s.clock.advance(49);
    await drain();
    expect(s.campaigns).toHaveLength(1);
    s.clock.advance(1);
    await drain();
    expect(s.campaigns).toHaveLength(2);
  });

  it('stop() while leading: the node is stopped when deselect is emitted, resigns, then gives the lease back; once', async () => {
    const s = setup();
    const started = s.node.start();
    s.campaigns[0]!.call.resolve(fakeTerm(5n, 'me:::v1', s.log).term);
    await started;
    let selectedInDeselect: boolean | null = null;
    s.node.on('deselect', () => (selectedInDeselect = s.node.isSelected()));
    const stopping = s.node.stop();
    expect(s.node.stop()).toBe(stopping);
    expect(selectedInDeselect).toBe(false);
    expect(s.log.slice(2)).toEqual(['deselect', 'resign']);
    // The rest of the wind-down once etcd has answered and HANDOVER_QUIET_MS more, while the successor takes over.
    await drain();
    s.clock.advance(HANDOVER_QUIET_MS - 1);
    await drain();
    expect(s.trackerClosed()).toBe(false);
    expect(s.log.slice(2)).toEqual(['deselect', 'resign']);
    s.clock.advance(1);
    await stopping;
    expect(s.log.slice(2)).toEqual(['deselect', 'resign', 'release']);
    expect(s.trackerClosed()).toBe(true);
    await expect(s.node.start()).resolves.toBeUndefined(); // the start that had settled stands
  });

  it('stop() while leading, the resignation failed: the lease goes back at once (its revoke deletes the key)', async () => {
    const s = setup();
    const started = s.node.start();
    const fake = fakeTerm(5n, 'me:::v1', s.log, new LockedError('UNAVAILABLE', 'no etcd'));
    s.campaigns[0]!.call.resolve(fake.term);
    await started;
    await s.node.stop();
    expect(s.log.slice(2)).toEqual(['deselect', 'resign', 'release']);
    expect(s.trackerClosed()).toBe(true);
  });

  it('stop() before the leader is known rejects start() with CLOSED; a stopped node cannot start again', async () => {
    const s = setup();
    const started = s.node.start();
    await s.node.stop();
    await expect(started).rejects.toMatchObject({ code: 'CLOSED' });
    const fresh = setup();
    await fresh.node.stop();
    await expect(fresh.node.start()).rejects.toMatchObject({
      code: 'CLOSED',
      message: 'node was stopped; create a new one',
    });
  });

  it('a failure retrying cannot fix stops the node, and start() rejects with it; transient ones do not', async () => {
    const s = setup();
    const errors: string[] = [];
    s.node.on('error', (e) => errors.push(e.code));
    const started = s.node.start();
    s.session.errors.emit(new LockedError('UNAVAILABLE', 'blip'));
    s.session.errors.emit(new LockedError('PERMISSION', 'no access'));
    await expect(started).rejects.toMatchObject({ code: 'PERMISSION' });
    expect(errors).toEqual(['UNAVAILABLE', 'PERMISSION']);
    await drain();
    expect(s.log).toContain('release');
  });

  it('a binding that cannot be made rejects start() with its error, every time', async () => {
    const s = setup(true);
    await expect(s.node.start()).rejects.toThrow('bad binding');
    await expect(s.node.start()).rejects.toThrow('bad binding');
    await expect(s.node.stop()).resolves.toBeUndefined();
  });
});
