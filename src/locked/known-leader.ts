import type { Candidate } from '../election/candidates.js';
import { leaseHex } from '../transport/keys.js';
import { decodeData } from './data.js';

/** The leader as a seed node shows it: `id()`, `value()`, and the token that tells terms apart. */
export interface LeaderView {
  readonly id: string;
  readonly value: string;
  readonly token: bigint;
}

/**
 * The leader as a node knows it, with the etcd revision it was seen at. The
 * sources (the node's own term, its join's read, the shared view of the
 * election) each say exactly what etcd held at their revision, but they arrive
 * in any order: the newest wins, and a view older than the one held is not taken.
 */
export class KnownLeader {
  #leader: LeaderView | null = null;
  #at = -1n;

  get leader(): LeaderView | null {
    return this.#leader;
  }

  /** Whether a view at `revision` is older than the one held (it is then not taken). */
  isOlder(revision: bigint): boolean {
    return revision < this.#at;
  }

  /** Takes the first candidate `candidate` seen at `revision`; returns the new leader when it changed, else null. */
  seeCandidate(candidate: Candidate | null, revision: bigint): LeaderView | null {
    if (!candidate) {
      if (!this.isOlder(revision)) {
        this.#at = revision;
        this.#leader = null;
      }
      return null;
    }
    const { id, value } = decodeData(candidate.value, leaseHex(candidate.leaseId));
    return this.see({ id, value, token: candidate.token }, revision);
  }

  /** Takes `next` as the leader seen at `revision`; returns it when it differs from the last one, else null. */
  see(next: LeaderView, revision: bigint): LeaderView | null {
    if (this.isOlder(revision)) return null;
    this.#at = revision;
    const last = this.#leader;
    this.#leader = next;
    if (last && last.id === next.id && last.value === next.value && last.token === next.token) return null;
    return next;
  }
}
