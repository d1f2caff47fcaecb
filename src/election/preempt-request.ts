import type { Clock } from '../core/clock.js';
import type { Transport } from '../transport/transport.js';
import type { Candidate, CandidateReads } from './candidates.js';
import { touchAll } from './touch.js';
import { rankQueue, type RankSnapshot } from './rank.js';

/** Attempts of one ask: a queue that changed between the read and the touch is read again. */
const ASK_ATTEMPTS = 3;

/**
 * A waiting candidate's side of preemption (docs/DESIGN.md, "Priority"). Once
 * it has waited `preemptAfterMs` behind a leader of strictly lower priority,
 * it reads the queue and its ranks, and asks the leader and every candidate
 * ahead of it to make way by touching their keys: guarded puts that keep each
 * key's value and lease (etcd's `ignore_value`, `ignore_lease`), so keys,
 * create revisions (tokens) and leases are unchanged. The leader's key watch
 * sees its touch (preemption.ts); each waiter ahead, watching the key before
 * its own, wakes and steps aside if it is outranked (step-aside.ts), all at
 * once, while the leader still leads; the leader hands over once the
 * preemptor is next in line. Go and `etcdctl elect` candidates ignore the
 * touch (Go's wait acts on deletions only); Go observers see the leader's
 * value once more.
 *
 * One ask per leader's term; none while no rank key shows this candidate
 * above the leader, so an election where no one sets a priority pays nothing.
 */
export class PreemptRequest {
  readonly #transport: Transport;
  readonly #reads: CandidateReads;
  readonly #clock: Clock;
  readonly #self: { readonly token: bigint; readonly priority: number; readonly preemptAfterMs: number };
  readonly #startedAt: number;
  readonly #asked = new Set<bigint>();
  #timer: { readonly token: bigint; readonly cancel: () => void } | null = null;
  #stopped = false;

  constructor(
    deps: { readonly transport: Transport; readonly reads: CandidateReads; readonly clock: Clock },
    self: { readonly token: bigint; readonly priority: number; readonly preemptAfterMs: number },
  ) {
    this.#transport = deps.transport;
    this.#reads = deps.reads;
    this.#clock = deps.clock;
    this.#self = self;
    this.#startedAt = deps.clock.now();
  }

  /** A read placed us: `first` leads (as far as it knows). Arms the ask if that leader ranks below us. */
  consider(first: Candidate | null, ranks: RankSnapshot): void {
    if (this.#stopped || !first || first.token === this.#self.token || this.#asked.has(first.token)) return;
    if (this.#timer?.token === first.token) return;
    const leader = rankQueue([first], ranks.entries)[0]!;
    if (leader.priority >= this.#self.priority) return;
    this.#timer?.cancel();
    const due = this.#startedAt + this.#self.preemptAfterMs - this.#clock.now();
    const cancel = this.#clock.setTimer(() => void this.#ask(), Math.max(0, due));
    this.#timer = { token: first.token, cancel };
  }

  stop(): void {
    this.#stopped = true;
    this.#timer?.cancel();
  }

  async #ask(): Promise<void> {
    this.#timer = null;
    for (let attempt = 1; attempt <= ASK_ATTEMPTS && !this.#stopped; attempt++) {
      try {
        const ranked = await this.#reads.rankedQueue();
        const leader = ranked[0];
        if (this.#stopped || !leader || leader.candidate.token === this.#self.token) return;
        if (leader.priority >= this.#self.priority || this.#asked.has(leader.candidate.token)) return;
        if (!ranked.some((r) => r.candidate.token === this.#self.token)) return; // we left meanwhile
        const ahead = ranked.filter((r) => r.candidate.token < this.#self.token).map((r) => r.candidate);
        if (await touchAll(this.#transport, ahead)) {
          this.#asked.add(leader.candidate.token);
          return;
        }
      } catch {
        return; // a failed ask is not an error of the campaign's: the next read of our place may ask again
      }
    }
  }
}
