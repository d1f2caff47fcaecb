import { afterEach, describe, expect, it, vi } from 'vitest';
import { delay } from '../../src/core/abort.js';
import { MAX_TIMER_MS } from '../../src/core/validate.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('delay', () => {
  it('waits longer than one Node timer holds, in several timers', async () => {
    vi.useFakeTimers(); // like Node, fake timers fire a delay above MAX_TIMER_MS after 1 ms
    let done = false;
    const waited = delay(MAX_TIMER_MS + 1000).then(() => (done = true));
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await waited;
    expect(done).toBe(true);
  });

  it('rejects with the signal reason when aborted during a later timer', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const waited = delay(MAX_TIMER_MS * 2, controller.signal);
    await vi.advanceTimersByTimeAsync(MAX_TIMER_MS + 10);
    controller.abort(new Error('stop'));
    await expect(waited).rejects.toThrow('stop');
  });
});
