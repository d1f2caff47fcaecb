import type * as etcd from 'etcd3';
import type { Clock } from '../core/clock.js';
import { LockedError } from '../errors.js';
import type { Deadline, Lease } from '../session/lease.js';
import { Listeners } from '../core/listeners.js';
import { ParkingSpot, type ParkedTxn } from '../transport/parked-txn.js';
import type { Transport } from '../transport/transport.js';
import type { Candidate, CandidateReads } from './candidates.js';
import { Preemption } from './preemption.js';
import type { RankSnapshot } from './rank.js';
import { checkBeforeRead } from './deadline-signal.js';
import { fencedTxn, type FencedTxnOptions } from './guarded-txn.js';
import { heirToName, knownHeir, retryResignation, sendResignation } from './resignation.js';
import type { TermCandidate, TermDeps, TermState } from './term-state.js';
import { TermKeyWatch } from './term-key-watch.js';
import type { LeaderTracker } from './tracker-registry.js';
import type { TermConfirmations } from './term-confirmations.js';

/**
 * One term of leadership (its states: term-state.ts). `signal` aborts, once, the moment leadership can no
 * longer be proven: at the term's validity deadline (a timer, whatever the RPCs are doing), when etcd
 * reports the lease gone, when the key is deleted or re-created by anyone, on `resign()`. `isValid()`
 * checks the deadline synchronously, so a process resuming from a pause answers false before any timer has run.
 *
 * The term's deadline is the lease's, but only as far as a linearizable read has since confirmed the key
 * (term-confirmations.ts): it rests on a keepalive sent before the key was last seen, so it ends less than
 * one TTL after etcd deletes the key, however early etcd does that.
 */
export class Term {
  readonly key: string;
  /** Fencing token: the create revision of the leader key. Strictly increases from term to term. */
  readonly token: bigint;
  readonly lease: Lease;
  /** @internal The etcd revision at which this term was confirmed (a read's, or the leader watch view's). */
  readonly confirmedAt: bigint;
  readonly #transport: Transport;
  readonly #reads: CandidateReads;
  readonly #clock: Clock;
  #state: TermState;
  #cancelDeadlineTimer: () => void = () => undefined;
  #stopConfirming: () => void = () => undefined;
  #offBeforeRevoke: () => void = () => undefined;
  /** Created on first use of `signal`: a term nobody asks for a signal costs no EventTarget. */
  #controller: AbortController | null = null;
  #endCallbacks: (() => void)[] = [];
  #value: string;
  readonly #keyWatch: TermKeyWatch;
  readonly #view: Pick<LeaderTracker, 'after'> | undefined;
  readonly #confirmations: Pick<TermConfirmations, 'inFlight'>;
  readonly #preemption: Preemption;
  /** The resignation's call, parked while leading (parked-txn.ts; again after each confirmation if it failed). */
  readonly #parking = new ParkingSpot(() => this.#transport.parkTxn());

  /**
   * `proof`: the revision at which our key was confirmed first (the claim, or the read after a hold-off) and
   * the lease's deadline as taken before that confirmation was sent; the rank keys as the turn last read them.
   * @internal
   */
  constructor(
    deps: TermDeps,
    { key, token, value, lease, rank }: TermCandidate,
    proof: { readonly revision: bigint; readonly until: Deadline; readonly ranks: RankSnapshot },
  ) {
    this.#transport = deps.transport;
    this.#reads = deps.reads;
    this.#clock = deps.clock;
    this.#view = deps.view;
    this.#confirmations = deps.confirmations;
    this.key = key;
    this.token = token;
    this.#value = value;
    this.lease = lease;
    this.confirmedAt = proof.revision;
    this.#state = { kind: 'leading', until: proof.until, heir: null };
    this.#keyWatch = new TermKeyWatch(deps, key, token, {
      ended: (reason) => this.#end(reason),
      value: (v, modRevision) => {
        this.#value = v;
        this.#preemption.written(modRevision);
      },
    });
    const preempted = { token, leaseId: lease.id, ...rank, rankKey: rank.key, ttlMs: lease.ttlSec * 1000 };
    this.#preemption = new Preemption(deps, preempted, proof.ranks, (why, heir) => this.#stepDownTo(why, heir));
    lease.signal.addEventListener('abort', this.#onLeaseEnd, { once: true });
    if (lease.signal.aborted) {
      this.#end(lease.signal.reason);
      return;
    }
    this.#stopConfirming = deps.confirmations.add({
      key,
      token,
      lease,
      queue: deps.reads,
      confirmed: (until, next, ranks) => {
        this.#preemption.saw(ranks);
        this.#confirmed(until, next);
      },
      lost: (reason) => this.#end(reason),
      resign: () => this.resign(),
    });
    this.#offBeforeRevoke = lease.onBeforeRevoke(() => this.#resignBeforeRevoke());
    this.#armDeadline();
    // On the next turn of the event loop, off the way to a successor's `select` (gRPC work, some 0.5 ms each):
    // the key watch (TermKeyWatch.start: why nothing is missed) and the resignation's call (parked-txn.ts).
    this.#clock.afterPendingIo(() => {
      this.#keyWatch.start(proof.revision + 1n);
      if (this.#state.kind === 'leading') this.#parking.refill();
    });
  }

  /** Called each time the term's deadline moves later (after a renewal and the confirmation of the key). */
  onRenewed(fn: () => void): () => void {
    return this.#renewed.add(fn);
  }

  readonly #renewed = new Listeners<[]>();

  /** A linearizable read sent after `until` was taken found our key, and `heir` next in line (TermConfirmations). */
  #confirmed(until: Deadline, heir: Candidate | null): void {
    const state = this.#state;
    if (state.kind === 'ended') {
      this.#state = { ...state, heir }; // for a resignation that waits for this confirmation
      return;
    }
    const later = until.mono > state.until.mono;
    this.#state = { kind: 'leading', until: later ? until : state.until, heir };
    this.#parking.refill();
    if (!later) return;
    this.#armDeadline();
    this.#renewed.emit();
  }

  #armDeadline(): void {
    this.#cancelDeadlineTimer();
    this.#cancelDeadlineTimer = this.#clock.setTimer(
      () => this.#checkDeadline(),
      this.#state.until.mono - this.#clock.now(),
    );
  }

  readonly #onLeaseEnd = (): void => this.#end(this.lease.signal.reason);

  /** Aborts, with a LEADERSHIP_LOST reason, when the term ends; reading it checks the deadline first. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      checkBeforeRead(controller, () => this.#checkDeadline()); // deadline-signal.ts: why
      if (this.#state.kind === 'ended') controller.abort(this.#state.reason);
      this.#controller = controller;
    }
    return this.#controller.signal;
  }

  /** Calls `fn` once when the term ends (on the next microtask if it already has). */
  onEnd(fn: () => void): void {
    if (this.#state.kind === 'ended') queueMicrotask(fn);
    else this.#endCallbacks.push(fn);
  }

  /** The value this leader last wrote. */
  get value(): string {
    return this.#value;
  }

  /** Synchronous: leadership is provable right now. Ends the term if its deadline has passed. */
  isValid(): boolean {
    this.#checkDeadline();
    return this.#state.kind !== 'ended';
  }

  #checkDeadline(): void {
    if (this.#state.kind === 'ended') return;
    if (!this.lease.isLive()) {
      this.#end(new LockedError('LEASE_LOST', `lease ${this.lease.hex}: validity deadline passed`));
    } else if (this.#clock.now() >= this.#state.until.mono || this.#clock.wallNow() >= this.#state.until.wall) {
      this.#end(new LockedError('LEASE_LOST', `term ${this.token}: no confirmation of its key before its deadline`));
    } else if (this.#clock.now() < this.#state.until.mono) {
      this.#armDeadline(); // a timer that fired early
    }
  }

  /** Monotonic-ms deadline of the term as currently proven. */
  get validUntil(): number {
    return Math.min(this.lease.validUntil, this.#state.until.mono);
  }

  /**
   * Ends the term locally (idempotent): the signal aborts, with `reason`, before anything is sent. Private:
   * a term ends from outside only by resigning (`resign`, `stepDown`) or with its session or lease.
   */
  #end(reason: unknown): void {
    const state = this.#state;
    if (state.kind === 'ended') return;
    const error =
      reason instanceof LockedError
        ? new LockedError('LEADERSHIP_LOST', `term ${this.token} ended: ${reason.message}`, { cause: reason })
        : new LockedError('LEADERSHIP_LOST', `term ${this.token} ended: ${String(reason)}`);
    this.#state = { kind: 'ended', until: state.until, heir: state.heir, reason: error, resigning: null };
    this.lease.signal.removeEventListener('abort', this.#onLeaseEnd);
    this.#cancelDeadlineTimer();
    this.#stopConfirming();
    this.#keyWatch.stop();
    this.#preemption.stop();
    this.#parking.close(); // a resignation took it before ending the term (#stepDownTo)
    this.#controller?.abort(error);
    for (const fn of this.#endCallbacks.splice(0)) fn();
  }

  /**
   * A transaction that applies only while this term's key still leads (`CreateRevision(key) == token`), and
   * only if `options.compare` holds too. Returns etcd's response: `succeeded` with the `success` ops'
   * responses, or, when only the caller's compares failed, not `succeeded` with the responses of
   * `options.failure`. Throws NOT_LEADER (and ends the term) when the term's guard failed.
   */
  async txn(
    success: etcd.IRequestOp[],
    what = 'guarded txn',
    options: FencedTxnOptions = {},
  ): Promise<etcd.ITxnResponse> {
    this.#assertValid(what);
    const res = await fencedTxn(this.#transport, this.key, this.token, success, what, options);
    if (res) return res;
    this.#end(`${what}: the leader key ${this.key} no longer has create revision ${this.token}`);
    throw new LockedError('NOT_LEADER', `${what}: term ${this.token} no longer leads`);
  }

  /** Writes `value` under `key` only while this term leads (fenced write). */
  async put(key: string | Buffer, value: string | Buffer): Promise<void> {
    await this.txn([{ request_put: { key: Buffer.from(key), value: Buffer.from(value) } }], 'fenced put');
  }

  /** Changes the leader's value while leading (port of Election.Proclaim). */
  async proclaim(value: string): Promise<void> {
    const put = { key: Buffer.from(this.key), value: Buffer.from(value), lease: this.lease.id.toString() };
    await this.#preemption.ownWrite(this.txn([{ request_put: put }], 'proclaim')); // not a request to hand over
    this.#value = value;
  }

  /**
   * Steps down: the term ends locally first, then one guarded transaction deletes the key and marks the term
   * record `resigned`, so that the next candidate is elected at once (a deletion without that mark makes the
   * successor wait out our deadline). Idempotent: every call after the first returns the first call's promise,
   * so etcd gets one write. A failed write leaves the key to expire with the lease, and the successor waits.
   */
  resign(): Promise<void> {
    return this.stepDown('resigned');
  }

  /**
   * `resign()`, with the reason the signal aborts with when this call ends the term (the node's "the election
   * shows another leader", `withLeadership`'s "aborted by the caller"). The term has ended when this returns.
   * @internal
   */
  stepDown(reason: string): Promise<void> {
    return this.#stepDownTo(reason, undefined);
  }

  /** `stepDown`, naming `heir` (undefined: whom `#sendResign` finds). */
  #stepDownTo(reason: string, heir: Candidate | null | undefined): Promise<void> {
    const parked = this.#parking.take(); // null once the term has ended: `#end` closed it
    this.#end(reason);
    const ended = this.#state as Extract<TermState, { kind: 'ended' }>;
    if (ended.resigning) return ended.resigning;
    const resigning = this.#sendResign(heir, parked);
    this.#state = { ...ended, resigning };
    return resigning;
  }

  /**
   * The session lost our lease (its deadline passed, etcd unreachable): the term has ended, and telling etcd
   * so — a marked resignation — lets the successor lead at once instead of waiting out our deadline; the
   * session revokes the lease after this.
   */
  async #resignBeforeRevoke(): Promise<void> {
    this.#end(this.lease.signal.reason); // ended by the lease first, whatever runs first on its abort
    await retryResignation(this.resign(), () => this.#sendResign(), this.#clock, this.lease.ttlSec * 1000);
  }

  /** @internal A new priority while leading (a node's `priority(n)`): preemption.ts `reprioritize`. */
  reprioritize(priority: number): Promise<void> {
    return this.#preemption.reprioritize(priority, (ops) => this.txn(ops, 'rewrite rank key'));
  }

  /** resignation.ts: the resignation `heirToName` says whom to name in (`heir`: the preemption's choice), on `parked`. */
  async #sendResign(heir?: Candidate | null, parked: ParkedTxn | null = null): Promise<void> {
    const known = () => knownHeir(this.#view?.after(this.token), () => this.#state.heir, this.#confirmations);
    const naming = heirToName(heir, this.#preemption, known);
    const named = naming instanceof Promise ? await naming : naming;
    const { key, token } = this;
    const resigner = { transport: this.#transport, reads: this.#reads, key, token, ttlMs: this.lease.ttlSec * 1000 };
    const extra = { rankKey: this.#preemption.rankKey, rereadHeir: !named.ranked, parked };
    await sendResignation({ ...resigner, ...extra }, named.heir);
    this.#offBeforeRevoke(); // done: nothing left to tell etcd before the lease goes
  }

  #assertValid(what: string): void {
    if (!this.isValid()) throw new LockedError('NOT_LEADER', `${what}: term ${this.token} is over`);
  }
}
