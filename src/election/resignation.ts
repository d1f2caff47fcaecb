import type * as etcd from 'etcd3';
import { delay } from '../core/abort.js';
import { Backoff } from '../core/backoff.js';
import { randomOf, type Clock } from '../core/clock.js';
import { classify } from '../transport/classify.js';
import type { ParkedTxn } from '../transport/parked-txn.js';
import type { Transport } from '../transport/transport.js';
import type { Candidate, CandidateReads } from './candidates.js';
import { keyStands } from './guarded-txn.js';
import type { TermConfirmations } from './term-confirmations.js';
import { encodeTermRecord, termRecordKey } from './term-record.js';

/** The term that resigns, as its resignation sees it. */
export interface Resigner {
  readonly transport: Transport;
  readonly reads: CandidateReads;
  readonly key: string;
  readonly token: bigint;
  readonly ttlMs: number;
  /** The term's rank key (rank.ts), deleted in the same transaction; null if it wrote none. */
  readonly rankKey?: string | null;
  /** When the named heir's compare fails, read the next candidate and try once more (false: name none). */
  readonly rereadHeir?: boolean;
  /**
   * A call parked for the first attempt (parked-txn.ts), which an ordinary call may follow: the resignation
   * may reach etcd twice, and the second finds our key gone (its guard fails: no second record).
   */
  readonly parked?: ParkedTxn | null;
}

/**
 * Whom a resignation names, as far as the term knows: the candidate after it in the caller's view
 * (`inView`: undefined without one), else in its last confirmation (`lastConfirmed()`). When neither
 * shows anyone and a confirmation (a renewal's) is on the wire, its answer says who is next sooner than
 * a read of our own would, at no cost to etcd: it is awaited (succeeded or not), then asked again.
 * Undefined: still no one (a view or a confirmation may lag a join by a watch delivery, so
 * `sendResignation` reads).
 * A promise only then: otherwise the resignation goes out in the same turn as the term's end.
 */
export function knownHeir(
  inView: Candidate | null | undefined,
  lastConfirmed: () => Candidate | null,
  confirmations: Pick<TermConfirmations, 'inFlight'>,
): Candidate | undefined | Promise<Candidate | undefined> {
  const known = inView ?? lastConfirmed();
  if (known) return known;
  const confirming = confirmations.inFlight();
  // Settled either way: a confirmation that failed says no more than none (the resignation reads), and
  // must not fail the resignation, which would leave our key to expire and our successor to wait.
  const after = (): Candidate | undefined => lastConfirmed() ?? undefined;
  return confirming ? confirming.then(after, after) : undefined;
}

/**
 * Whom a resignation names: `given` (a preemption's choice) if set; else, when priorities are in use
 * (preemption.ts), the heir a read of the queue and its ranks finds — none if that read fails, so that
 * the candidate next in line confirms and steps aside if it must (take-over.ts); else whom `known`
 * gives (knownHeir), as without priorities. `ranked`: the heir came from ranks (not to be re-read).
 */
export function heirToName(
  given: Candidate | null | undefined,
  ranks: { readonly inUse: boolean; heir(): Promise<Candidate | null> },
  known: () => Candidate | undefined | Promise<Candidate | undefined>,
): NamedHeir | Promise<NamedHeir> {
  if (given !== undefined) return { heir: given, ranked: true };
  if (ranks.inUse)
    return ranks.heir().then(
      (heir) => ({ heir, ranked: true }),
      () => ({ heir: null, ranked: true }),
    );
  const hint = known(); // synchronous when known: the resignation then goes out in the turn the term ended
  return hint instanceof Promise ? hint.then((heir) => ({ heir, ranked: false })) : { heir: hint, ranked: false };
}

export interface NamedHeir {
  readonly heir: Candidate | null | undefined;
  readonly ranked: boolean;
}

/**
 * The guarded delete that also marks the term record `resigned` (sent only
 * once the term has ended locally), naming the candidate next in line as
 * heir when one is known: that candidate may then lead at once, without a
 * request of its own (take-over.ts). Who is next is `known` — from the
 * caller's view of the election (TermDeps.view), else from the term's last
 * confirmation — or else (undefined: neither shows anyone after us) comes from
 * a serializable read: a hint every way, so the txn holds only if that key still
 * stands with its create revision. If it does not, the next candidate is read
 * again, and then none is named.
 */
export async function sendResignation(term: Resigner, known: Candidate | null | undefined): Promise<void> {
  try {
    const readNext = (): Promise<Candidate | null> => term.reads.next(term.token).catch(() => null);
    let heir = known !== undefined ? known : await readNext();
    for (let attempt = 1; ; attempt++) {
      const res = await term.transport.txn(resignRequest(term, heir), 'resign', attempt === 1 ? term.parked : null);
      if (res.succeeded) return;
      // Not applied: our key is gone or someone else's (nothing left to resign), or the heir's compare failed.
      const own = res.responses[0]?.response_range?.kvs[0];
      if (heir === null || own?.create_revision !== term.token.toString()) return;
      heir = attempt === 1 && term.rereadHeir !== false ? await readNext() : null;
    }
  } finally {
    term.parked?.close(); // spent by the first attempt; closed here if none was made
  }
}

function resignRequest(term: Resigner, heir: Candidate | null): etcd.ITxnRequest {
  const record = encodeTermRecord({
    state: 'resigned',
    token: term.token,
    ttlMs: term.ttlMs,
    heir: heir?.token ?? null,
  });
  return {
    compare:
      heir === null
        ? [keyStands(term.key, term.token)]
        : [keyStands(term.key, term.token), keyStands(heir.key, heir.token)],
    success: [
      { request_delete_range: { key: Buffer.from(term.key) } },
      { request_put: { key: Buffer.from(termRecordKey(term.reads.name)), value: Buffer.from(record) } },
      ...(term.rankKey ? [{ request_delete_range: { key: Buffer.from(term.rankKey) } }] : []),
    ],
    failure: [{ request_range: { key: Buffer.from(term.key) } }],
  };
}

/**
 * Awaits `first`, a resignation, and while it fails transiently sends it
 * again (`again`) after a backoff, for up to `forMs`: by then etcd has expired
 * the lease, or the successor has waited out our deadline. Used when the
 * session lost the lease: a marked resignation still lets the successor lead
 * at once.
 */
export async function retryResignation(
  first: Promise<void>,
  again: () => Promise<void>,
  clock: Clock,
  forMs: number,
): Promise<void> {
  const giveUpAt = clock.now() + forMs;
  const backoff = new Backoff(100, 1000, randomOf(clock));
  let attempt = first;
  for (;;) {
    try {
      await attempt;
      return;
    } catch (err) {
      if (!classify(err, 'resign').transient || clock.now() >= giveUpAt) throw err;
    }
    await delay(backoff.next(), undefined, clock);
    attempt = again();
  }
}
