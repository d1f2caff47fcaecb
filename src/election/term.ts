import type * as etcd from 'etcd3';
import { Backoff } from '../core/backoff.js';
import { LockedError } from '../errors.js';
import type { Lease } from '../session/lease.js';
import { classify } from '../transport/classify.js';
import type { Transport } from '../transport/transport.js';
import type { WatchHandle, WatchHub } from '../transport/watch-hub.js';
import type { CandidateReads } from './candidates.js';

/* eslint-disable @typescript-eslint/unbound-method -- the native accessors are called with an explicit receiver */
const NATIVE_ABORTED = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'aborted')!.get!;
const NATIVE_REASON = Object.getOwnPropertyDescriptor(AbortSignal.prototype, 'reason')!.get!;
const NATIVE_THROW_IF_ABORTED = AbortSignal.prototype.throwIfAborted;
/* eslint-enable @typescript-eslint/unbound-method */

/**
 * One term of leadership. `signal` aborts, once, the moment leadership can no
 * longer be proven: at the lease's validity deadline (a timer, whatever the
 * RPCs are doing), when etcd reports the lease gone, when the key is deleted or
 * re-created by anyone, on `resign()`. `isValid()` checks the deadline
 * synchronously, so a process resuming from a pause answers false before any
 * timer has run.
 */
export class Term {
  readonly key: string;
  /** Fencing token: the create revision of the leader key. Strictly increases from term to term. */
  readonly token: bigint;
  readonly lease: Lease;
  /** The etcd revision of the read that confirmed this term. */
  readonly confirmedAt: bigint;
  readonly #transport: Transport;
  readonly #hub: WatchHub;
  readonly #reads: CandidateReads;
  readonly #controller = new AbortController();
  #value: string;
  #watch: WatchHandle | null = null;

  constructor(
    deps: { transport: Transport; hub: WatchHub; reads: CandidateReads },
    key: string,
    token: bigint,
    value: string,
    lease: Lease,
    watchFromRevision: bigint,
  ) {
    this.#transport = deps.transport;
    this.#hub = deps.hub;
    this.#reads = deps.reads;
    this.key = key;
    this.token = token;
    this.#value = value;
    this.lease = lease;
    this.confirmedAt = watchFromRevision - 1n;
    const onLeaseEnd = (): void => this.end(lease.signal.reason);
    lease.signal.addEventListener('abort', onLeaseEnd, { once: true });
    this.#controller.signal.addEventListener('abort', () => {
      lease.signal.removeEventListener('abort', onLeaseEnd);
      this.#watch?.cancel();
    });
    this.#makeSignalCheckDeadline();
    if (lease.signal.aborted) this.end(lease.signal.reason);
    else this.#watchKey(watchFromRevision, new Backoff(50, 2000));
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** The value this leader last wrote. */
  get value(): string {
    return this.#value;
  }

  /** Synchronous: leadership is provable right now. Ends the term if its deadline has passed. */
  isValid(): boolean {
    this.#checkDeadline();
    return !this.#ended();
  }

  /** Whether the term has ended, without the deadline check (the native getter; no recursion). */
  #ended(): boolean {
    return NATIVE_ABORTED.call(this.#controller.signal) as boolean;
  }

  #checkDeadline(): void {
    if (!this.#ended() && !this.lease.isLive()) {
      this.end(new LockedError('LEASE_LOST', `lease ${this.lease.hex}: validity deadline passed`));
    }
  }

  /**
   * After a pause (SIGSTOP, GC) Node runs due timers in order, so user code may
   * run before the deadline timer. Reading the signal therefore checks the
   * deadline first: `signal.aborted`, `signal.reason` and `throwIfAborted()`
   * answer for this instant, and aborting here fires 'abort' listeners at once.
   */
  #makeSignalCheckDeadline(): void {
    const signal = this.#controller.signal;
    Object.defineProperties(signal, {
      aborted: {
        configurable: true,
        get: () => {
          this.#checkDeadline();
          return this.#ended();
        },
      },
      reason: {
        configurable: true,
        get: (): unknown => {
          this.#checkDeadline();
          return NATIVE_REASON.call(signal);
        },
      },
      throwIfAborted: {
        configurable: true,
        value: () => {
          this.#checkDeadline();
          NATIVE_THROW_IF_ABORTED.call(signal);
        },
      },
    });
  }

  /** Monotonic-ms deadline of the term as currently proven. */
  get validUntil(): number {
    return this.lease.validUntil;
  }

  /** Ends the term locally (idempotent). Steps down first; etcd is told separately. */
  end(reason: unknown): void {
    if (this.#ended()) return;
    const error =
      reason instanceof LockedError
        ? new LockedError('LEADERSHIP_LOST', `term ${this.token} ended: ${reason.message}`, { cause: reason })
        : new LockedError('LEADERSHIP_LOST', `term ${this.token} ended: ${String(reason)}`);
    this.#controller.abort(error);
  }

  /**
   * A transaction that applies only while this term's key still leads
   * (`CreateRevision(key) == token`). Returns etcd's response when applied;
   * throws NOT_LEADER (and ends the term) when the guard fails.
   */
  async txn(success: etcd.IRequestOp[], what = 'guarded txn'): Promise<etcd.ITxnResponse> {
    this.#assertValid(what);
    const res = await this.#transport.txn(
      {
        compare: [
          { key: Buffer.from(this.key), target: 'Create', result: 'Equal', create_revision: this.token.toString() },
        ],
        success,
        failure: [],
      },
      what,
    );
    if (!res.succeeded) {
      this.end(`${what}: the leader key ${this.key} no longer has create revision ${this.token}`);
      throw new LockedError('NOT_LEADER', `${what}: term ${this.token} no longer leads`);
    }
    return res;
  }

  /** Writes `value` under `key` only while this term leads (fenced write). */
  async put(key: string | Buffer, value: string | Buffer): Promise<void> {
    await this.txn([{ request_put: { key: Buffer.from(key), value: Buffer.from(value) } }], 'fenced put');
  }

  /** Changes the leader's value while leading (port of Election.Proclaim). */
  async proclaim(value: string): Promise<void> {
    await this.txn(
      [{ request_put: { key: Buffer.from(this.key), value: Buffer.from(value), lease: this.lease.id.toString() } }],
      'proclaim',
    );
    this.#value = value;
  }

  /**
   * Steps down: the term ends locally first, then the key is deleted with a
   * guarded delete so that the next candidate is elected at once. Idempotent;
   * a failed delete leaves the key to expire with the lease.
   */
  async resign(): Promise<void> {
    const wasLive = !this.#ended();
    this.end('resigned');
    if (!wasLive && !this.lease.isLive()) return;
    await this.#transport.txn(
      {
        compare: [
          { key: Buffer.from(this.key), target: 'Create', result: 'Equal', create_revision: this.token.toString() },
        ],
        success: [{ request_delete_range: { key: Buffer.from(this.key) } }],
        failure: [],
      },
      'resign',
    );
  }

  #assertValid(what: string): void {
    if (!this.isValid()) throw new LockedError('NOT_LEADER', `${what}: term ${this.token} is over`);
  }

  /** Watches the leader key: deleted or re-created by anyone means the term is over. */
  #watchKey(fromRevision: bigint, backoff: Backoff): void {
    if (this.#ended()) return;
    this.#watch = this.#hub.watch(
      { key: Buffer.from(this.key), startRevision: fromRevision },
      {
        onEvents: (events) => {
          for (const event of events) {
            if (event.type === 'Delete') this.end(`leader key ${this.key} was deleted`);
            else if (event.kv.create_revision !== this.token.toString())
              this.end(`leader key ${this.key} was re-created`);
            else this.#value = event.kv.value.toString();
          }
          backoff.reset();
        },
        onEnd: (err) => this.#rewatch(err, backoff),
      },
    );
  }

  /** After a watch failure: re-read the key, then watch again from that read. */
  #rewatch(err: LockedError, backoff: Backoff): void {
    if (this.#ended()) return;
    if (!err.transient) {
      this.end(err);
      return;
    }
    const timer = setTimeout(() => {
      this.#controller.signal.removeEventListener('abort', cancel);
      this.#reads.get(this.key).then(
        ({ candidate, revision }) => {
          if (!candidate || candidate.token !== this.token) this.end(`leader key ${this.key} is gone`);
          else this.#watchKey(revision + 1n, backoff);
        },
        (readErr: unknown) => this.#rewatch(classify(readErr, 're-read leader key'), backoff),
      );
    }, backoff.next());
    const cancel = (): void => clearTimeout(timer);
    this.#controller.signal.addEventListener('abort', cancel, { once: true });
  }
}
