import type { Joined } from '../election/campaign-options.js';
import type { Candidate } from '../election/candidates.js';

type LatchState =
  | { readonly kind: 'waiting'; readonly joined: Joined | null }
  | { readonly kind: 'settled'; readonly outcome: 'known' | 'failed' };

/**
 * What `node.start()` waits for: the leader as etcd saw it at or after the
 * node's own join. That is the node itself once it leads (`led`), or another
 * candidate that was first at the node's join (`joined`, from the join's own
 * read) or in a view of the election at a revision at or after it (`viewed`).
 * A view older than the join (a shared view that lags, or the snapshot of a
 * watch that started before the join) never settles it. A node that is first
 * at its join waits until it leads: on an empty election, `start()` resolves
 * with `isSelected()` true. `fail` rejects (the node stopped first, or hit a
 * failure retrying cannot fix); the first outcome stands.
 */
export class StartLatch {
  readonly promise: Promise<void>;
  #state: LatchState = { kind: 'waiting', joined: null };
  #resolve: () => void = () => undefined;
  #reject: (err: Error) => void = () => undefined;

  constructor() {
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.promise.catch(() => undefined); // ignoring start()'s promise is safe (the seed's `node.start()`)
  }

  get settled(): boolean {
    return this.#state.kind === 'settled';
  }

  /** The node's campaign joined (again): from now on only views at or after this join count. */
  joined(joined: Joined): void {
    if (this.#state.kind !== 'waiting') return;
    this.#state = { kind: 'waiting', joined };
    if (joined.first !== null && joined.first.key !== joined.key) this.#settle('known');
  }

  /** A view of the election at `revision` shows `leader` first. */
  viewed(leader: Candidate | null, revision: bigint): void {
    const state = this.#state;
    if (state.kind !== 'waiting' || state.joined === null || leader === null) return;
    if (revision >= state.joined.token && leader.key !== state.joined.key) this.#settle('known');
  }

  /** The node leads. */
  led(): void {
    this.#settle('known');
  }

  fail(err: Error): void {
    if (this.#state.kind !== 'waiting') return;
    this.#state = { kind: 'settled', outcome: 'failed' };
    this.#reject(err);
  }

  #settle(outcome: 'known'): void {
    if (this.#state.kind !== 'waiting') return;
    this.#state = { kind: 'settled', outcome };
    this.#resolve();
  }
}
