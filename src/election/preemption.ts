import type * as etcd from 'etcd3';
import { delay } from '../core/abort.js';
import type { Clock } from '../core/clock.js';
import type { Transport } from '../transport/transport.js';
import type { Candidate, CandidateReads } from './candidates.js';
import { best, encodeRankValue, rankKey, type RankedCandidate, type RankEntry, type RankSnapshot } from './rank.js';
import { makeWay } from './step-aside.js';

/**
 * How long a preempted leader keeps leading while the candidates ahead of its preemptor make way and
 * none did (at least; a TTL when that is longer), before it hands over anyway (a Go candidate ahead
 * never makes way), and how often it looks.
 */
const MAKE_WAY_MS = 2000;
const LOOK_EVERY_MS = 20;

/** The leading term, as its preemption sees it. */
export interface PreemptedTerm {
  readonly token: bigint;
  readonly leaseId: bigint;
  readonly priority: number;
  /** Its rank key, if it wrote one (rank.ts). */
  readonly rankKey: string | null;
  readonly preemptAfterMs: number;
  readonly ttlMs: number;
}

/** A higher-priority candidate asked and still stands: hand over to `heir` (null: name none), saying why. */
export type OnPreempt = (reason: string, heir: Candidate | null) => Promise<void>;

/**
 * A leader's side of priorities (docs/DESIGN.md, "Priority"). A waiting
 * candidate of higher priority that has waited its `preemptAfterMs` asks the
 * leader to hand over by touching the leader's key — a put that keeps its
 * value and lease (preempt-request.ts) — which the term's key watch already
 * follows: so a leader costs nothing more, no watch and no read, while no one
 * asks. When asked (`asked`), one read of the queue and the ranks decides: if
 * a candidate of strictly higher priority stands, `onPreempt` is called, once,
 * with the heir to name (that candidate when it is next in line).
 *
 * It only ever makes the leader resign: priority never makes anyone lead
 * (whoever leads next does so by take-over.ts's rules), so none of this is on
 * the safety path.
 */
export class Preemption {
  readonly #reads: CandidateReads;
  readonly #clock: Clock;
  readonly #transport: Transport;
  readonly #term: PreemptedTerm;
  #priority: number;
  #rankKey: string | null;
  #cancelTimer: () => void = () => undefined;
  readonly #onPreempt: OnPreempt;
  #asked = false;
  /** Rank keys of another priority than ours were seen (the turn's last read, a renewal's confirmation). */
  #mixed: boolean;
  #deciding: Promise<void> | null = null;
  #stopped = false;
  /** Our own writes to our key: in flight, and the revisions of those that applied (the last few). */
  #ownInFlight = 0;
  readonly #ownRevisions: bigint[] = [];
  /** Writes seen while one of ours was in flight: whose they were is known once it settles. */
  #unattributed: bigint[] = [];

  constructor(
    deps: { readonly reads: CandidateReads; readonly clock: Clock; readonly transport: Transport },
    term: PreemptedTerm,
    snapshot: RankSnapshot,
    onPreempt: OnPreempt,
  ) {
    this.#reads = deps.reads;
    this.#clock = deps.clock;
    this.#transport = deps.transport;
    this.#term = term;
    this.#priority = term.priority;
    this.#rankKey = term.rankKey;
    this.#mixed = snapshot.entries.some((r) => r.priority !== term.priority);
    this.#onPreempt = onPreempt;
  }

  stop(): void {
    this.#stopped = true;
    this.#cancelTimer();
  }

  /** The term's rank key as it stands (a resignation deletes it). */
  get rankKey(): string | null {
    return this.#rankKey;
  }

  /**
   * The leader's priority changed (a node's `priority(n)` while leading): its rank key is rewritten by
   * `rewrite`, a fenced transaction of the term, so that waiting candidates see it; and when a standing
   * candidate now has a higher priority, the leader hands over to it after that one's `preemptAfterMs`,
   * as if asked, first touching the keys ahead of it (no preemptor did: preempt-request.ts).
   */
  async reprioritize(priority: number, rewrite: (ops: etcd.IRequestOp[]) => Promise<unknown>): Promise<void> {
    if (priority === this.#priority || this.#stopped) return;
    const next = rankKey(this.#reads.name, priority, this.#term.leaseId);
    const value = encodeRankValue(this.#term.preemptAfterMs, this.#term.token);
    await rewrite([
      ...(this.#rankKey ? [{ request_delete_range: { key: Buffer.from(this.#rankKey) } }] : []),
      { request_put: { key: Buffer.from(next), value: Buffer.from(value), lease: this.#term.leaseId.toString() } },
    ]);
    this.#priority = priority;
    this.#rankKey = next;
    this.#mixed = true;
    const top = best(await this.#reads.rankedQueue(), this.#term.token);
    if (!top || top.priority <= priority || this.#stopped) return;
    this.#cancelTimer();
    this.#cancelTimer = this.#clock.setTimer(() => {
      // The queue as it stands then, not as it stood preemptAfterMs ago (makeWay reads it).
      void makeWay(this.#reads, this.#transport, top.candidate, this.#term.token)
        .catch(() => undefined)
        .then(() => this.written(null));
    }, top.preemptAfterMs);
  }

  /**
   * Whether priorities are in use as far as this term knows: its own is not 0, a rank key of another
   * priority was seen (its turn's last read, the confirmation after each renewal), or someone asked
   * it to hand over. Only then does a resignation read the queue to name its heir (`heir`);
   * otherwise it names the candidate next in line, as without priorities, at no cost. A candidate
   * that published a priority since the last renewal is not known yet: a term at 0 that resigns
   * then may name one below it, which the higher one then preempts.
   */
  get inUse(): boolean {
    return this.#priority !== 0 || this.#mixed || this.#asked;
  }

  /** The highest rank keys as a renewal's confirmation of the term read them (term-confirmations.ts). */
  saw(ranks: readonly RankEntry[]): void {
    if (ranks.some((r) => r.priority !== this.#priority)) this.#mixed = true;
  }

  /** Runs `write`, a write of our own to our key (a proclaim): its watch event is not a request to hand over. */
  async ownWrite<T extends { readonly header: { readonly revision: string } }>(write: Promise<T>): Promise<T> {
    this.#ownInFlight++;
    try {
      const res = await write;
      this.#ownRevisions.push(BigInt(res.header.revision));
      if (this.#ownRevisions.length > 8) this.#ownRevisions.shift();
      return res;
    } finally {
      this.#ownInFlight--;
      if (this.#ownInFlight === 0) for (const rev of this.#unattributed.splice(0)) this.written(rev);
    }
  }

  /**
   * The term's key watch saw our key written at `modRevision` with our token. Not by us (no proclaim
   * of ours applied there): someone asks us to hand over (null: we ask ourselves, `reprioritize`).
   * An event that arrives while a proclaim of ours is in flight is judged once that proclaim's reply
   * tells its revision.
   */
  written(modRevision: bigint | null): void {
    if (modRevision !== null && (modRevision <= this.#term.token || this.#ownRevisions.includes(modRevision))) return; // the join's, or ours
    if (this.#ownInFlight > 0 && modRevision !== null) {
      this.#unattributed.push(modRevision);
      return;
    }
    this.#asked = true;
    if (this.#stopped || this.#deciding) return;
    this.#deciding = this.#decide().finally(() => (this.#deciding = null));
  }

  /** The heir a resignation names when priorities are in use: the next in line if it is the best-ranked, else none. */
  async heir(): Promise<Candidate | null> {
    return heirOf(await this.#reads.rankedQueue(), this.#term.token);
  }

  async #decide(): Promise<void> {
    let ranked: RankedCandidate[] | null = null;
    for (let attempt = 1; ranked === null; attempt++) {
      try {
        ranked = await this.#reads.rankedQueue();
      } catch {
        if (attempt >= 3 || this.#stopped) return; // asked once per term: a lost answer loses this preemption
        await delay(100 * attempt, undefined, this.#clock);
      }
    }
    const top = best(ranked, this.#term.token);
    if (this.#stopped || !top || top.priority <= this.#priority) return;
    // The candidates ahead of the preemptor make way on its touch (step-aside.ts): hand over once it is
    // next in line, so that it leads next and no one in between; once MAKE_WAY_MS pass with none making
    // way, hand over anyway. The one next in line does not act on a touch (its heir watch acts on our
    // key's deletion only): once it alone is left, hand over naming none; it finds itself first,
    // outranked, and steps aside.
    // Member-local reads: a key one shows next is next, or gone (the resignation's compare checks that).
    let heir = heirOf(ranked, this.#term.token);
    let ahead = Infinity;
    const patienceMs = Math.max(MAKE_WAY_MS, this.#term.ttlMs);
    let until = this.#clock.now() + patienceMs;
    while (heir === null && !this.#stopped && this.#clock.now() < until) {
      await delay(LOOK_EVERY_MS, undefined, this.#clock);
      const left = await this.#reads.between(this.#term.token, top.candidate.token).catch(() => ahead);
      if (left < ahead) until = this.#clock.now() + patienceMs;
      ahead = left;
      if (left === 1) break;
      if (left === 0) heir = await this.#reads.next(this.#term.token).catch(() => null);
      if (heir && heir.token !== top.candidate.token) heir = null;
    }
    if (this.#stopped) return;
    this.#stopped = true;
    const reason = `preempted by ${top.candidate.key} (priority ${top.priority} > ${this.#priority})`;
    await this.#onPreempt(reason, heir).catch(() => undefined); // a failed resignation: the successor waits
  }
}

/** The heir to name when priorities are in use: the candidate next in line after `token`, if it is the best-ranked. */
export function heirOf(ranked: readonly RankedCandidate[], token: bigint): Candidate | null {
  const next = ranked.find((r) => r.candidate.token > token) ?? null;
  const top = best(ranked, token);
  return next && top && next.candidate.token === top.candidate.token ? next.candidate : null;
}
