import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { delay, whenAborted } from '../core/abort.js';
import { Backoff } from '../core/backoff.js';
import { LockedError, isLockedError } from '../errors.js';
import type { Candidate } from '../election/candidates.js';
import type { Election } from '../election/election.js';
import type { LeaderTracker } from '../election/tracker-registry.js';
import type { Term } from '../election/term.js';
import { classify } from '../transport/classify.js';
import { leaseHex } from '../transport/keys.js';
import { checkDataSize, decodeData, encodeData, valueToString } from './data.js';

/** What a node needs from its locker: an election on its path, and the session to give back. */
export interface NodeBinding {
  readonly election: Election;
  release(): Promise<void>;
}

export interface NodeConfig {
  readonly id: string;
  readonly path: string;
  readonly value: string | number;
  readonly ttlSec: number;
  readonly stopOnError: boolean;
  readonly bind: () => NodeBinding;
}

type NodeState =
  | { readonly kind: 'idle' }
  | { readonly kind: 'running'; readonly stop: AbortController; readonly binding: NodeBinding; term: Term | null }
  | { readonly kind: 'stopped' };

interface LeaderView {
  readonly id: string;
  readonly value: string;
  readonly token: bigint;
}

/** A node's events and their listeners' arguments (the seed's): `node.on('change', (value, leaderid) => …)`. */
export interface LockedNodeEvents {
  /** On every node, when the leader or its value changes (also when a node first learns the leader). */
  change: [value: string, leaderid: string];
  /** On the node that won, once per term. */
  select: [value: string, leaderid: string];
  /** Exactly once after each `select`. */
  deselect: [];
  /** On the leader, at each successful lease renewal. */
  refresh: [value: string, leaderid: string];
  /** On every node, at each successful renewal of its own lease while a leader is known. */
  ping: [value: string, leaderid: string];
  /** Connection and request failures; emitted only while a listener is registered. */
  error: [err: LockedError];
}

/**
 * The seed's node, on the election core. Events, with the seed's arguments:
 * `change(value, leaderid)` when the leader or its value changes (on every
 * node), `select(value, leaderid)` once per term won, `deselect()` exactly once
 * after each `select`, `refresh(value, leaderid)` on the leader at each lease
 * renewal, `ping(value, leaderid)` on each renewal while a leader is known,
 * `error(err)` only when a listener is registered. After errors the node keeps
 * trying unless `stopOnError` restores the seed's behaviour.
 */
export class LockedNode extends EventEmitter<LockedNodeEvents> {
  readonly #config: NodeConfig;
  #value: string | number;
  #state: NodeState = { kind: 'idle' };
  #leader: LeaderView | null = null;
  #tracker: LeaderTracker | null = null;
  #unsubscribe: (() => void)[] = [];
  #started: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #loop: Promise<void> = Promise.resolve();
  #resolveStarted: (() => void) | null = null;
  #rejectStarted: ((err: Error) => void) | null = null;

  constructor(config: NodeConfig) {
    super();
    this.#config = config;
    this.#value = config.value;
  }

  /** The leader's id, or null while no leader is known. */
  id(): string | null {
    return this.#leader?.id ?? null;
  }

  /** The leader's value (as etcd stores it: a string), or null while no leader is known. */
  value(): string | null {
    return this.#leader?.value ?? null;
  }

  localid(): string {
    return this.#config.id;
  }

  localvalue(): string | number {
    return this.#value;
  }

  /** `id + ':::' + value`, the string this node writes. */
  localdata(): string {
    return encodeData(this.#config.id, valueToString('value', this.#value));
  }

  /** True only while this node leads and can prove it now (deadline checked synchronously). */
  isSelected(): boolean {
    return this.#state.kind === 'running' && this.#state.term !== null && this.#state.term.isValid();
  }

  /** Fencing token of the current term (the leader key's create revision), or null when not leading. */
  token(): bigint | null {
    return this.isSelected() && this.#state.kind === 'running' ? (this.#state.term?.token ?? null) : null;
  }

  /** The current term (for fenced writes: `node.term()?.put(key, value)`), or null when not leading. */
  term(): Term | null {
    return this.isSelected() && this.#state.kind === 'running' ? this.#state.term : null;
  }

  /**
   * Joins the election. The promise resolves once the node knows the leader
   * (or that there is none) and rejects only if the node is stopped first;
   * ignoring it is safe (the seed's `node.start()`). The seed's callback form
   * `start(done)` is called at the same moment (not if the node is stopped first).
   */
  start(done?: () => void): Promise<void> {
    if (done !== undefined && typeof done !== 'function') {
      throw new TypeError(`start(done): done must be a function, got ${typeof done}`);
    }
    if (done) this.start().then(done, () => undefined);
    if (this.#started) return this.#started;
    if (this.#state.kind === 'stopped')
      return Promise.reject(new LockedError('CLOSED', 'node was stopped; create a new one'));
    this.#started = new Promise<void>((resolve, reject) => {
      this.#resolveStarted = resolve;
      this.#rejectStarted = reject;
    });
    this.#started.catch(() => undefined);
    let binding: NodeBinding;
    try {
      binding = this.#config.bind();
    } catch (err) {
      this.#failStart(err instanceof Error ? err : new Error(String(err)));
      return this.#started;
    }
    const stop = new AbortController();
    this.#state = { kind: 'running', stop, binding, term: null };
    const { election } = binding;
    this.#tracker = election.track(
      (leader, revision) => this.#onLeader(leader, revision),
      // CLOSED (the locker closed under the node) is reported once, by the campaign loop.
      (err) => {
        if (!isLockedError(err, 'CLOSED')) this.#fail(err);
      },
    );
    this.#unsubscribe.push(
      election.session.renewed.add((lease) => this.#onRenewed(lease)),
      election.session.errors.add((err) => this.#fail(err)),
    );
    this.#loop = this.#campaignLoop(election, this.#tracker, stop.signal);
    return this.#started;
  }

  /**
   * Leaves the election: resigns at once if leading (the next candidate is
   * elected within one etcd write and one watch delivery), emits `deselect` if
   * it was leading. Resolves when etcd has been told (or that failed); a second
   * call returns the first call's promise.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    const state = this.#state;
    this.#state = { kind: 'stopped' };
    if (state.kind !== 'running') return;
    const term = state.term;
    state.term = null;
    // A leader steps down (its term ends, `deselect`), then resigns (one write that deletes its key and
    // marks the resignation, so that the successor takes over at once), all before the node's clean-up,
    // so that the successor's wait is not behind it. The lease is given back after that.
    let resigned: Promise<void> | null = null;
    if (term) {
      term.end('resigned');
      this.#emit('deselect');
      resigned = term.resign().catch(() => undefined);
    }
    this.#failStart(new LockedError('CLOSED', 'node stopped before it knew the leader'));
    for (const off of this.#unsubscribe.splice(0)) off();
    this.#tracker?.close();
    this.#tracker = null;
    state.stop.abort(new LockedError('CLOSED', 'node stopped'));
    await resigned;
    await this.#loop; // a campaign in flight removes its key before it returns
    await state.binding.release().catch(() => undefined);
  }

  /**
   * Changes this node's value. While leading it is written at once with a
   * guarded put (etcd's Proclaim) and every node sees `change`; otherwise it is
   * the value the node will write when it is elected.
   */
  async proclaim(value: string | number): Promise<void> {
    const text = valueToString('value', value);
    checkDataSize('value', encodeData(this.#config.id, text));
    this.#value = value;
    const term = this.term();
    if (term) await term.proclaim(this.localdata());
  }

  /** Campaigns until stopped, waiting on `tracker`'s view of the election (which the node keeps anyway). */
  async #campaignLoop(election: Election, tracker: LeaderTracker, stop: AbortSignal): Promise<void> {
    const ttlMs = this.#config.ttlSec * 1000;
    const backoff = new Backoff(100, Math.min(5000, ttlMs));
    while (!stop.aborted) {
      try {
        const term = await election.campaign(this.localdata(), { signal: stop, tracker });
        const wonAt = performance.now();
        await this.#lead(term, stop);
        // Every term ends by leaving the queue (a key kept would give the next term the same token; a
        // no-op if stop() already resigned), and a term that ended quickly is a fault repeating itself:
        // back off before campaigning again.
        await term.resign().catch(() => undefined);
        if (performance.now() - wonAt >= ttlMs) backoff.reset();
        else await delay(backoff.next(), stop).catch(() => undefined);
      } catch (err) {
        if (stop.aborted) return;
        const error = classify(err, 'campaign');
        if (!isLockedError(error, 'LEASE_LOST') && !isLockedError(error, 'LEADERSHIP_LOST')) this.#fail(error);
        if (isLockedError(error, 'CLOSED')) {
          void this.stop(); // the locker was closed under the node: nothing left to retry on
          return;
        }
        if (this.#state.kind !== 'running') return;
        await delay(backoff.next(), stop).catch(() => undefined);
      }
    }
  }

  /** Holds one term: `select` now, `deselect` once when it ends (unless `stop()` already emitted it). */
  async #lead(term: Term, stop: AbortSignal): Promise<void> {
    const state = this.#state;
    const stillOurs = (): boolean => this.#state === state && !stop.aborted && term.isValid();
    if (state.kind !== 'running' || state.stop.signal !== stop) return;
    if (term.value !== this.localdata()) await term.proclaim(this.localdata()).catch(() => undefined);
    if (!stillOurs()) return;
    const value = valueToString('value', this.#value);
    this.#setLeader({ id: this.#config.id, value, token: term.token }); // `change` first, as the seed did
    if (!stillOurs()) return; // a `change` listener may have stopped the node
    state.term = term;
    this.#emit('select', value, this.#config.id);
    await whenAborted(term.signal, stop);
    if (state.term === term) {
      state.term = null;
      this.#emit('deselect');
    }
  }

  #onLeader(candidate: Candidate | null, revision: bigint): void {
    const state = this.#state;
    if (state.kind !== 'running') return;
    const term = state.term;
    if (term && revision < term.confirmedAt) return; // a view older than our own term's proof
    if (term && (!candidate || candidate.key !== term.key)) {
      term.end('the election shows another leader'); // when in doubt, step down
    }
    if (candidate) {
      const { id, value } = decodeData(candidate.value, leaseHex(candidate.leaseId));
      this.#setLeader({ id, value, token: candidate.token });
    } else {
      this.#leader = null;
    }
    this.#resolveStarted?.();
    this.#resolveStarted = null;
    this.#rejectStarted = null;
  }

  #setLeader(next: LeaderView): void {
    const last = this.#leader;
    this.#leader = next;
    if (last && last.id === next.id && last.value === next.value && last.token === next.token) return;
    this.#emit('change', next.value, next.id);
  }

  #onRenewed(lease: { id: bigint }): void {
    if (this.#state.kind !== 'running') return;
    const leader = this.#leader;
    if (!leader) return;
    const term = this.#state.term;
    if (term && term.lease.id === lease.id && term.isValid()) this.#emit('refresh', leader.value, leader.id);
    this.#emit('ping', leader.value, leader.id);
  }

  /** Reports an error to `error` listeners (never throws without one); stops the node if `stopOnError`. */
  #fail(err: LockedError): void {
    if (this.listenerCount('error') > 0) this.#emit('error', err);
    if (this.#config.stopOnError && this.#state.kind === 'running') void this.stop();
  }

  /**
   * Emits to the user's listeners. A listener that throws must not corrupt the
   * node's state mid-transition, so its exception is rethrown on the next tick:
   * it still reaches `uncaughtException`, as with any EventEmitter.
   */
  #emit<E extends keyof LockedNodeEvents>(event: E, ...args: LockedNodeEvents[E]): void {
    try {
      // Typed by this method's signature; Node's emit type cannot follow a generic event name.
      (this as EventEmitter).emit(event, ...args);
    } catch (err) {
      process.nextTick(() => {
        throw err;
      });
    }
  }

  #failStart(err: Error): void {
    this.#rejectStarted?.(err);
    this.#resolveStarted = null;
    this.#rejectStarted = null;
  }
}

export function generateId(): string {
  return randomUUID();
}
