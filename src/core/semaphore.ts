import { abortReason } from './abort.js';

/**
 * At most `limit` holders at once; the others wait in arrival order. Used to
 * admit campaigns: 10,000 started at once must not put 10,000 requests in
 * flight, where the last ones would only miss their deadlines.
 */
export class Semaphore {
  readonly limit: number;
  #held = 0;
  readonly #waiting: { grant: () => void }[] = [];

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be an integer ≥ 1, got ${limit}`);
    this.limit = limit;
  }

  get held(): number {
    return this.#held;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /**
   * Resolves with the release function (idempotent) once a slot is free;
   * rejects with the signal's reason if it aborts first (the place is given up).
   */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.#held < this.limit) {
      this.#held++;
      return Promise.resolve(this.#releaser());
    }
    return new Promise((resolve, reject) => {
      const entry = {
        grant: (): void => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.#releaser());
        },
      };
      const onAbort = (): void => {
        const i = this.#waiting.indexOf(entry);
        if (i >= 0) this.#waiting.splice(i, 1);
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(entry);
    });
  }

  #releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.#waiting.shift();
      if (next)
        next.grant(); // the slot passes straight to the next in line
      else this.#held--;
    };
  }
}
