import { EventEmitter } from 'node:events';
import { whenAborted } from '../core/abort.js';
import { campaignBackoffCapMs } from '../core/campaign-retry.js';
import { LockedError } from '../errors.js';
import { checkPriority, ON_JOINED, type InternalCampaignOptions, type Joined } from '../election/campaign-options.js';
import type { Candidate } from '../election/candidates.js';
import type { Term } from '../election/term.js';
import { campaignLoop } from './campaign-loop.js';
import { checkDataSize, encodeData, valueToString } from './data.js';
import { ErrorReports } from './error-reports.js';
import type { NodeBinding, NodeConfig } from './node-config.js';
import { KnownLeader, type LeaderView } from './known-leader.js';
import { emitSafely, type LockedNodeEvents } from './node-events.js';
import type { NodeState, Running } from './node-state.js';
import { resignQuietly } from './wind-down.js';
import { StartLatch } from './start-latch.js';

export type { LockedNodeEvents } from './node-events.js';

/**
 * The seed's node, on the election core. Events, with the seed's arguments: `change(value, leaderid)` when
 * the leader or its value changes (on every node), `select(value, leaderid)` once per term won, `deselect()`
 * exactly once after each `select`, `refresh(value, leaderid)` on the leader at each lease renewal,
 * `ping(value, leaderid)` on each renewal while a leader is known, `error(err)` only when a listener is
 * registered. After errors the node keeps trying unless `stopOnError` restores the seed's behaviour.
 */
export class LockedNode extends EventEmitter<LockedNodeEvents> {
  readonly #config: NodeConfig;
  #value: string | number;
  #state: NodeState = { kind: 'idle' };
  readonly #leader = new KnownLeader();
  readonly #reports: ErrorReports;
  #priority: number;
  /** Makes the campaign in flight join again at once, if one is (a new priority while waiting). */
  #requeue: (() => void) | null = null;

  /** @internal Nodes come from a locker. */
  constructor(config: NodeConfig) {
    super();
    this.#config = config;
    this.#value = config.value;
    this.#priority = config.priority;
    this.#reports = new ErrorReports(config.clock, campaignBackoffCapMs(config.ttlSec));
  }

  /** The leader's id, or null while no leader is known. */
  id(): string | null {
    return this.#leader.leader?.id ?? null;
  }

  /** The leader's value (as etcd stores it: a string), or null while no leader is known. */
  value(): string | null {
    return this.#leader.leader?.value ?? null;
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
   * Joins the election. The promise resolves once the node knows the leader as
   * etcd saw it at or after the node's own join: `id()` then names it — this
   * node itself, leading (`isSelected()` true), when it was first in line, as
   * on an empty election (after a crashed leader that takes its hold-off, up
   * to one TTL × (1 + drift)); otherwise the candidate that leads. While etcd
   * is unreachable it stays pending (the node keeps trying, `error` reports
   * each attempt). It rejects with CLOSED if the node is stopped first (`stop()`,
   * `locker.close()`), and with the error itself when the node stops on one: a
   * failure retrying cannot fix (PERMISSION, INVALID_ARGUMENT), or, with
   * `stopOnError`, any error. Ignoring it is safe (the seed's `node.start()`).
   * The seed's callback form `start(done)` is called at the same moment (not if it rejects).
   */
  start(done?: () => void): Promise<void> {
    if (done !== undefined && typeof done !== 'function') {
      throw new TypeError(`start(done): done must be a function, got ${typeof done}`);
    }
    if (done) this.start().then(done, () => undefined);
    const state = this.#state;
    if (state.kind === 'running') return state.started.promise;
    if (state.kind === 'stopped') {
      return state.started?.promise ?? Promise.reject(new LockedError('CLOSED', 'node was stopped; create a new one'));
    }
    const started = new StartLatch();
    let binding: NodeBinding;
    try {
      binding = this.#config.bind();
    } catch (err) {
      started.fail(err instanceof Error ? err : new Error(String(err)));
      this.#state = { kind: 'stopped', started, done: Promise.resolve() };
      return started.promise;
    }
    const stop = new AbortController();
    const { election } = binding;
    // Nothing below calls back into the node before the state is set: the leader watch reports and the
    // campaign joins asynchronously.
    const leaderWatch = election.watchLeader(
      (leader, revision) => this.#onLeader(leader, revision),
      (err) => this.#fail(err),
    );
    const unsubscribe = [
      election.session.renewed.add((lease) => this.#onRenewed(lease)),
      election.session.errors.add((err) => this.#fail(err)),
    ];
    const loop = campaignLoop(election, stop.signal, this.#config, {
      next: () => ({ value: this.localdata(), options: this.#campaignOptions(stop.signal) }),
      lead: (term) => this.#lead(term, stop.signal),
      failed: (error, report) => {
        if (report) this.#fail(error);
        return this.#state.kind === 'running';
      },
      inFlight: (requeue) => (this.#requeue = requeue),
    });
    this.#state = { kind: 'running', started, stop, binding, leaderWatch, unsubscribe, loop, term: null };
    return started.promise;
  }

  /**
   * Leaves the election: resigns at once if leading (the next candidate is elected within one etcd write and
   * one watch delivery), emits `deselect` if it was leading. Resolves when etcd has been told (or that
   * failed) and the node has wound down (after a handover, 50 ms after etcd's answer: HANDOVER_QUIET_MS);
   * a second call returns the first call's promise.
   */
  stop(): Promise<void> {
    const state = this.#state;
    if (state.kind === 'stopped') return state.done;
    let finish: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (finish = resolve));
    // Stopped first: what the steps below emit (`deselect`) sees a stopped node.
    this.#state = { kind: 'stopped', started: state.kind === 'running' ? state.started : null, done };
    if (state.kind === 'running') void this.#wind(state).then(finish);
    else finish();
    return done;
  }

  /** Winds a running node down (never rejects): step down and resign, end the campaign, stop following, give the lease back. */
  async #wind(state: Running): Promise<void> {
    // A leader steps down (`deselect`; the node is stopped already), then resigns (one write deletes its key
    // and marks the resignation: the successor takes over at once), and no campaign starts again. The rest
    // waits for etcd's answer and, when the successor is taking over, a moment more (wind-down.ts).
    const term = state.term;
    if (term) this.#deselect(state, term);
    const resigned = term ? resignQuietly(term, this.#config.clock) : null;
    state.stop.abort(new LockedError('CLOSED', 'node stopped'));
    await resigned;
    state.started.fail(new LockedError('CLOSED', 'node stopped before it knew the leader'));
    for (const off of state.unsubscribe) off();
    state.leaderWatch.close();
    await state.loop.catch(() => undefined); // a campaign in flight removes its key before it returns
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

  /**
   * This node's priority (a finite number, default 0; higher is served first: docs/DESIGN.md,
   * "Priority"). Given one, sets it: a waiting node joins the queue again at once with it; a leading
   * node keeps its term, publishes it, and hands over after their `preemptAfterMs` if a waiting
   * node now has a higher one.
   */
  priority(priority?: number): number {
    if (priority === undefined) return this.#priority;
    this.#priority = checkPriority('priority', priority);
    this.#requeue?.();
    if (this.#state.kind === 'running') void this.#state.term?.reprioritize(this.#priority).catch(() => undefined);
    return this.#priority;
  }

  #campaignOptions(stop: AbortSignal): Omit<InternalCampaignOptions, 'signal'> {
    return {
      priority: this.#priority,
      preemptAfterMs: this.#config.preemptAfterMs,
      [ON_JOINED]: (joined: Joined) => this.#onJoined(joined, stop),
    };
  }

  /** Where the node's campaign found the queue: the leader as of its join, unless a newer view is known. */
  #onJoined(joined: Joined, stop: AbortSignal): void {
    const state = this.#state;
    if (stop.aborted || state.kind !== 'running') return;
    const { first } = joined;
    if (first && first.key !== joined.key) this.#changed(this.#leader.seeCandidate(first, joined.token));
    state.started.joined(joined);
  }

  /** Holds one term: `select` now, `deselect` once when it ends. */
  async #lead(term: Term, stop: AbortSignal): Promise<void> {
    const state = this.#state;
    const stillOurs = (): boolean => this.#state === state && !stop.aborted && term.isValid();
    if (state.kind !== 'running' || state.stop.signal !== stop) return;
    if (term.value !== this.localdata()) await term.proclaim(this.localdata()).catch(() => undefined);
    if (!stillOurs()) return;
    const value = valueToString('value', this.#value);
    // `change` first, as the seed did
    this.#changed(this.#leader.see({ id: this.#config.id, value, token: term.token }, term.confirmedAt));
    if (!stillOurs()) return; // a `change` listener may have stopped the node
    state.term = term;
    // `deselect` on the microtask after the term ends, never from inside the call that ended it (an
    // isSelected() that found the deadline passed); stop() emits it itself, before it resigns.
    const ended = (): void => queueMicrotask(() => this.#deselect(state, term));
    term.signal.addEventListener('abort', ended, { once: true });
    this.#reports.recovered();
    this.#emit('select', value, this.#config.id);
    state.started.led();
    await whenAborted(term.signal, stop);
    term.signal.removeEventListener('abort', ended);
    this.#deselect(state, term);
  }

  /** `deselect`, once per term. */
  #deselect(state: Running, term: Term): void {
    if (state.term !== term) return;
    state.term = null;
    this.#emit('deselect');
  }

  /** The shared view of the election reports its first candidate at `revision`. */
  #onLeader(candidate: Candidate | null, revision: bigint): void {
    const state = this.#state;
    if (state.kind !== 'running') return;
    // Older than what the node knows (its own term's proof, its join's read): a view that lags.
    if (this.#leader.isOlder(revision)) return;
    const term = state.term;
    if (term && (!candidate || candidate.key !== term.key)) {
      void term.stepDown('the election shows another leader').catch(() => undefined); // when in doubt, step down
    }
    this.#changed(this.#leader.seeCandidate(candidate, revision));
    state.started.viewed(candidate, revision);
  }

  /** `change` when the leader (or its value) changed. */
  #changed(next: LeaderView | null): void {
    if (next) this.#emit('change', next.value, next.id);
  }

  #onRenewed(lease: { id: bigint }): void {
    if (this.#state.kind !== 'running') return;
    const leader = this.#leader.leader;
    this.#reports.recovered();
    if (!leader) return;
    const term = this.#state.term;
    if (term && term.lease.id === lease.id && term.isValid()) this.#emit('refresh', leader.value, leader.id);
    this.#emit('ping', leader.value, leader.id);
  }

  /**
   * Reports a failure to `error` listeners (never throws without one), one per
   * step of the node's backoff (error-reports.ts). A failure retrying cannot
   * fix (PERMISSION, INVALID_ARGUMENT, CLOSED: not `transient`), or any with
   * `stopOnError`, stops the node: `start()` rejects with it. A stopped node reports nothing.
   */
  #fail(err: LockedError): void {
    if (this.#state.kind !== 'running') return;
    if (this.#reports.admit(err) && this.listenerCount('error') > 0) this.#emit('error', err);
    const state = this.#state; // an `error` listener may have stopped the node
    if (state.kind === 'running' && (!err.transient || this.#config.stopOnError)) {
      state.started.fail(err);
      void this.stop();
    }
  }

  #emit<E extends keyof LockedNodeEvents>(event: E, ...args: LockedNodeEvents[E]): void {
    emitSafely(this, event, args);
  }
}
