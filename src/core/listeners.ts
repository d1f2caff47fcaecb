/** A minimal typed listener set for the core (events live at the edge; this is internal wiring). */
export class Listeners<Args extends unknown[]> {
  readonly #fns = new Set<(...args: Args) => void>();

  /** Adds `fn`; returns the function that removes it. */
  add(fn: (...args: Args) => void): () => void {
    this.#fns.add(fn);
    return () => {
      this.#fns.delete(fn);
    };
  }

  emit(...args: Args): void {
    for (const fn of [...this.#fns]) fn(...args);
  }

  /** Removes every listener. */
  clear(): void {
    this.#fns.clear();
  }

  get size(): number {
    return this.#fns.size;
  }
}
