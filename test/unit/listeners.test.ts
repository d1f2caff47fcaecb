import { afterEach, describe, expect, it, vi } from 'vitest';
import { Listeners, rethrowLater } from '../../src/core/listeners.js';
import { TermConfirmations, type ConfirmedKey } from '../../src/election/term-confirmations.js';
import { Lease } from '../../src/session/lease.js';
import type { Session } from '../../src/session/session.js';
import type { Transport } from '../../src/transport/transport.js';
import { instant } from '../../src/core/clock.js';
import { FakeClock } from './fake-clock.js';

afterEach(() => vi.restoreAllMocks());

describe('Listeners', () => {
  it("a listener that throws stops neither the others nor the emitter's caller: its exception goes to onError", () => {
    const errors: unknown[] = [];
    const listeners = new Listeners<[number]>((err) => errors.push(err));
    const heard: string[] = [];
    const boom = new Error('listener bug');
    listeners.add((n) => heard.push(`first ${n}`));
    listeners.add(() => {
      throw boom;
    });
    listeners.add((n) => heard.push(`third ${n}`));
    expect(() => listeners.emit(1)).not.toThrow();
    expect(heard).toEqual(['first 1', 'third 1']);
    expect(errors).toEqual([boom]);
  });

  it('by default throws the exception again on the next tick, where it reaches uncaughtException', () => {
    const scheduled: (() => void)[] = [];
    vi.spyOn(process, 'nextTick').mockImplementation(
      ((fn: () => void) => void scheduled.push(fn)) as typeof process.nextTick,
    );
    const boom = new Error('listener bug');
    rethrowLater(boom);
    expect(scheduled).toHaveLength(1);
    expect(() => scheduled[0]!()).toThrow(boom);
  });
});

describe('TermConfirmations', () => {
  it("inFlight() settles, never rejects, when a key's own callback throws; the exception goes to onError", async () => {
    const clock = new FakeClock();
    const lease = new Lease(0xabcn, 2, instant(clock), clock, 0.01, 50);
    const renewed = new Listeners<[Lease]>();
    const session = { renewed, beforeClose: () => () => undefined } as unknown as Session;
    const reads: unknown[] = [];
    const transport = {
      txn: (req: unknown) => {
        reads.push(req);
        return Promise.resolve({
          responses: [{ response_range: { kvs: [{ key: Buffer.from('/e/k'), create_revision: '7' }] } }],
        });
      },
    } as unknown as Transport;
    const errors: unknown[] = [];
    const confirmations = new TermConfirmations(session, transport, (err) => errors.push(err));
    const boom = new Error('a bug in a term');
    const key: ConfirmedKey = {
      key: '/e/k',
      token: 7n,
      lease,
      confirmed: () => {
        throw boom;
      },
      lost: () => undefined,
      resign: () => Promise.resolve(),
    };
    confirmations.add(key);
    renewed.emit(lease);
    const inFlight = confirmations.inFlight();
    expect(inFlight).not.toBeNull();
    await expect(inFlight).resolves.toBeUndefined();
    expect(reads).toHaveLength(1);
    expect(errors).toEqual([boom]);
    expect(confirmations.inFlight()).toBeNull();
  });
});
