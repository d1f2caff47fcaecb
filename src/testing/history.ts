/**
 * Leadership histories and their checker: the judge of the chaos suite and of
 * `locked demo`. Candidates report samples of `isSelected()`/`token()` (and
 * their select/deselect events) stamped on a clock shared by every process of
 * the machine; the recorder turns them into intervals of observed leadership;
 * the checker proves or refutes the two safety claims of DESIGN.md §1:
 * no two candidates lead at one instant, and tokens strictly increase from term
 * to term.
 *
 * An interval runs from the first to the last sample in which a candidate
 * reported itself leader with one token. It is what the candidate was *seen*
 * to believe, never more: between its last `true` and its first `false` sample
 * nothing is claimed. Any instant shared by two candidates' intervals (closed
 * intervals, so touching ends count) is therefore a proven split brain.
 */

/** CLOCK_MONOTONIC in ms, the same across processes on one machine (process.hrtime). */
export function sharedNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export interface LeadershipInterval {
  candidate: string;
  /** Fencing token of the term, decimal. */
  token: string;
  startMs: number;
  endMs: number;
}

export interface HistoryVerdict {
  ok: boolean;
  intervals: number;
  terms: number;
  overlaps: Array<{ a: LeadershipInterval; b: LeadershipInterval; overlapMs: number }>;
  tokenRegressions: Array<{ previous: LeadershipInterval; next: LeadershipInterval }>;
  /** Intervals whose token is not a non-negative decimal integer (a leader without a token). */
  malformed: LeadershipInterval[];
}

interface OpenInterval {
  token: string;
  startMs: number;
  lastTrueMs: number;
}

interface CandidateTrack {
  closed: LeadershipInterval[];
  open: OpenInterval | null;
  lastMs: number;
}

/** Token recorded for a sample that says "leader" but carries no token. */
export const MISSING_TOKEN = 'missing';

/**
 * Turns samples of isSelected()/token() (and events) per candidate into
 * leadership intervals. Samples of one candidate must arrive in time order
 * (they come from one process through one channel); a sample older than the
 * previous one of the same candidate is a harness bug and throws a RangeError.
 */
export class LeadershipRecorder {
  readonly #tracks = new Map<string, CandidateTrack>();
  #samples = 0;

  /**
   * Records that `candidate` reported `selected` with `token` at `atMs`
   * (default: now on the shared clock). A `true` sample with a new token ends
   * the previous interval and opens one for the new term; a `false` sample
   * ends the open interval at the last `true` sample.
   */
  sample(candidate: string, selected: boolean, token: string | null, atMs: number = sharedNow()): void {
    if (!Number.isFinite(atMs)) throw new RangeError(`atMs must be a finite number, got ${atMs}`);
    let track = this.#tracks.get(candidate);
    if (!track) {
      track = { closed: [], open: null, lastMs: -Infinity };
      this.#tracks.set(candidate, track);
    }
    if (atMs < track.lastMs) {
      throw new RangeError(`samples of ${candidate} must be in time order: ${atMs} after ${track.lastMs}`);
    }
    track.lastMs = atMs;
    this.#samples++;
    const open = track.open;
    if (!selected) {
      if (open) this.#close(candidate, track, open);
      return;
    }
    const tokenText = token ?? MISSING_TOKEN;
    if (open && open.token === tokenText) {
      open.lastTrueMs = atMs;
      return;
    }
    if (open) this.#close(candidate, track, open);
    track.open = { token: tokenText, startMs: atMs, lastTrueMs: atMs };
  }

  #close(candidate: string, track: CandidateTrack, open: OpenInterval): void {
    track.closed.push({ candidate, token: open.token, startMs: open.startMs, endMs: open.lastTrueMs });
    track.open = null;
  }

  /** Number of samples recorded so far. */
  get samples(): number {
    return this.#samples;
  }

  /** Candidates that reported at least one sample. */
  candidates(): string[] {
    return [...this.#tracks.keys()];
  }

  /** Whether `candidate`'s last sample said it leads (its interval is still open). */
  isOpen(candidate: string): boolean {
    return this.#tracks.get(candidate)?.open != null;
  }

  /**
   * Every interval, sorted by start. Open intervals end at their last `true`
   * sample. With `nowMs`, the history is cut there: intervals starting later
   * are left out and later ends are clipped to `nowMs`.
   */
  intervals(nowMs?: number): LeadershipInterval[] {
    const all: LeadershipInterval[] = [];
    for (const [candidate, track] of this.#tracks) {
      all.push(...track.closed);
      const open = track.open;
      if (open) all.push({ candidate, token: open.token, startMs: open.startMs, endMs: open.lastTrueMs });
    }
    const cut =
      nowMs === undefined
        ? all
        : all.filter((i) => i.startMs <= nowMs).map((i) => ({ ...i, endMs: Math.min(i.endMs, nowMs) }));
    return cut.sort(byStart);
  }
}

function byStart(a: LeadershipInterval, b: LeadershipInterval): number {
  return a.startMs - b.startMs || a.endMs - b.endMs;
}

function parseToken(token: string): bigint | null {
  return /^\d+$/.test(token) ? BigInt(token) : null;
}

/**
 * Judges a history: no instant shared by intervals of different candidates;
 * tokens strictly increase from term to term in start order, where a term is a
 * run of intervals with one candidate and one token (a candidate seen leading,
 * then not, then leading again with the *same* token counts as one term only
 * when nobody else led in between). Every interval must carry a decimal token.
 */
export function checkHistory(intervals: LeadershipInterval[]): HistoryVerdict {
  const sorted = [...intervals].sort(byStart);
  const overlaps: HistoryVerdict['overlaps'] = [];
  // Sweep: intervals still active at the current start, by candidate.
  let active: LeadershipInterval[] = [];
  for (const next of sorted) {
    active = active.filter((a) => a.endMs >= next.startMs);
    for (const a of active) {
      if (a.candidate === next.candidate) continue;
      overlaps.push({ a, b: next, overlapMs: Math.min(a.endMs, next.endMs) - next.startMs });
    }
    active.push(next);
  }

  const malformed = sorted.filter((i) => parseToken(i.token) === null);
  const tokenRegressions: HistoryVerdict['tokenRegressions'] = [];
  let terms = 0;
  let previous: LeadershipInterval | null = null;
  for (const next of sorted) {
    if (previous && previous.candidate === next.candidate && previous.token === next.token) {
      previous = next;
      continue;
    }
    terms++;
    const nextToken = parseToken(next.token);
    const previousToken = previous ? parseToken(previous.token) : null;
    if (previous && nextToken !== null && previousToken !== null && nextToken <= previousToken) {
      tokenRegressions.push({ previous, next });
    }
    previous = next;
  }

  return {
    ok: overlaps.length === 0 && tokenRegressions.length === 0 && malformed.length === 0,
    intervals: sorted.length,
    terms,
    overlaps,
    tokenRegressions,
    malformed,
  };
}

/** Leadership seen after etcd had deleted the term's key. */
export interface LateLeadership {
  interval: LeadershipInterval;
  /** When the deletion of the term's key was observed (shared clock). */
  deletedAtMs: number;
  /** How long after the observed deletion the candidate still reported leadership. */
  lateMs: number;
}

/**
 * Judges a history against etcd: a term must end before its key is deleted on
 * etcd (lease expiry, revocation or resignation), which is what "the signal
 * aborts before the lease can expire on etcd" means. `deletedAtMs` maps a
 * term's token (the key's create revision, decimal) to the time a watcher
 * connected straight to etcd saw the key deleted. That time is an upper bound
 * of the real deletion, so every interval ending after it is a proven
 * violation (the check can miss late leaders, never invent them).
 */
export function checkAgainstDeletions(
  intervals: LeadershipInterval[],
  deletedAtMs: ReadonlyMap<string, number>,
): LateLeadership[] {
  const late: LateLeadership[] = [];
  for (const interval of intervals) {
    const deleted = deletedAtMs.get(interval.token);
    if (deleted !== undefined && interval.endMs >= deleted) {
      late.push({ interval, deletedAtMs: deleted, lateMs: interval.endMs - deleted });
    }
  }
  return late;
}
