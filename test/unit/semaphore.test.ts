import { describe, expect, it } from 'vitest';
import { Semaphore } from '../../src/core/semaphore.js';

describe('Semaphore', () => {
  it('admits at most `limit` at once, the rest in arrival order', async () => {
    const s = new Semaphore(2);
    const order: number[] = [];
    let inside = 0;
    let most = 0;
    const gates = Array.from({ length: 6 }, () => {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      return { promise, resolve };
    });
    const runs = gates.map(async (g, i) => {
      const release = await s.acquire();
      order.push(i);
      most = Math.max(most, ++inside);
      await g.promise;
      inside--;
      release();
    });
    await Promise.resolve();
    expect(order).toEqual([0, 1]);
    expect(s.waiting).toBe(4);
    for (const g of [...gates].reverse()) g.resolve();
    await Promise.all(runs);
    expect(order).toEqual([0, 1, 2, 3, 4, 5]);
    expect(most).toBe(2);
    expect(s.held).toBe(0);
  });

  it('a waiter whose signal aborts leaves the line; release is idempotent', async () => {
    const s = new Semaphore(1);
    const first = await s.acquire();
    const controller = new AbortController();
    const queued = s.acquire(controller.signal);
    const next = s.acquire();
    controller.abort();
    await expect(queued).rejects.toThrow(/aborted/);
    expect(s.waiting).toBe(1);
    first();
    first();
    const second = await next;
    expect(s.held).toBe(1);
    second();
    expect(s.held).toBe(0);
  });

  it('rejects a limit that is not a positive integer', () => {
    expect(() => new Semaphore(0)).toThrow(/limit must be an integer ≥ 1, got 0/);
    expect(() => new Semaphore(1.5)).toThrow(/got 1.5/);
  });
});
