/**
 * Retry delays: exponential from `baseMs`, capped at `maxMs`, with "full jitter"
 * (a uniform draw below the cap) so that a fleet that failed together does not
 * retry together.
 */
export class Backoff {
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(baseMs: number, maxMs: number, random: () => number = Math.random) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
    this.#random = random;
  }

  next(): number {
    const cap = Math.min(this.#maxMs, this.#baseMs * 2 ** this.#attempt);
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return Math.max(this.#baseMs / 2, cap * this.#random());
  }

  reset(): void {
    this.#attempt = 0;
  }
}
