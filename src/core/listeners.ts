/**
 * A minimal typed listener set for the core (events live at the edge; this is internal wiring). A
 * listener that throws does not stop the others nor the emitter's caller (which may be mid-transition):
 * its exception goes to `onError`, by default thrown again on the next tick (rethrowLater).
 */
export class Listeners<Args extends unknown[]> {
  readonly #fns = new Set<(...args: Args) => void>();
  readonly #onError: (err: unknown) => void;

  constructor(onError: (err: unknown) => void = rethrowLater) {
    this.#onError = onError;
  }

  /** Adds `fn`; returns the function that removes it. */
  add(fn: (...args: Args) => void): () => void {
    this.#fns.add(fn);
    return () => {
      this.#fns.delete(fn);
    };
  }

  emit(...args: Args): void {
    for (const fn of [...this.#fns]) {
      try {
        fn(...args);
      } catch (err) {
        this.#onError(err);
      }
    }
  }

  /** Removes every listener. */
  clear(): void {
    this.#fns.clear();
  }

  get size(): number {
    return this.#fns.size;
  }
}

/**
 * Throws `err` on the next tick, outside the code that caught it: it still reaches `uncaughtException`
 * (as a throwing EventEmitter listener's exception does), while the state that code was changing is left
 * whole.
 */
export function rethrowLater(err: unknown): void {
  process.nextTick(() => {
    throw err;
  });
}
