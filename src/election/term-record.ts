/**
 * The term record: one key per election, beside its candidates, that says how
 * the last term ended. It is what lets a successor take over at once after a
 * graceful resignation and makes it wait after anything else (docs/DESIGN.md,
 * "Taking over").
 *
 * Why it exists: etcd can revoke a lease early (etcd-io/etcd#15247, #13915: a
 * resumed old Raft leader revokes leases the cluster renewed meanwhile), so a
 * leader's key may vanish while the leader still holds a valid deadline. The
 * successor cannot tell that deletion from an expiry, and a fresh candidate of
 * an empty election cannot tell that anyone led at all. So every term writes
 * a claim here before it acts as leader (`leading`, with its TTL), and a
 * graceful resignation replaces the claim in the same transaction that deletes
 * the key (`resigned`). Whoever claims next reads the previous record in its
 * claim (a put with `prev_kv`) and waits out the previous holder's deadline
 * unless that holder resigned.
 *
 * The one term that leads without claiming is the **heir** a resignation
 * names: the candidate next in line when the holder resigned (the resigner
 * reads it, and its resign transaction holds only if that key still stands).
 * The heir, seeing the record that names it (on a watch, or in a read), leads
 * at once, with no write — usually no request — of its own on the handover's
 * path (heir-proof.ts); its TTL must not exceed the resigner's, which the
 * record carries, because whoever claims after a `resigned` record naming
 * somebody else waits that long: the heir may have led without a claim.
 *
 * The key is `<election>.locked-term`: outside the candidates' prefix
 * `<election>/`, so etcd's own election, `etcdctl elect` and Go programs never
 * see it as a candidate. It has no lease: it must outlive every holder.
 */
export type TermRecord =
  | {
      readonly state: 'leading';
      readonly token: bigint;
      /** The holder's granted lease TTL, in ms: how long its deadline can outlast its key. */
      readonly ttlMs: number;
      /** What the holder itself had to wait out before leading (a predecessor's TTL), in ms. */
      readonly holdMs: number;
    }
  | {
      readonly state: 'resigned';
      readonly token: bigint;
      /** The resigner's granted TTL, in ms: the longest TTL its heir may lead with, unclaimed. */
      readonly ttlMs: number;
      /** The candidate next in line at the resignation (its token), or null if none was named. */
      readonly heir: bigint | null;
    };

/** What a claimant found in the record, and so what it must do. */
export type PreviousHolder =
  | { readonly kind: 'none' } // no record: no locked term ever claimed this election
  | { readonly kind: 'resigned' } // the last holder resigned gracefully, and no other heir may lead: take over at once
  | { readonly kind: 'unended'; readonly ms: number } // wait this long (on a true clock) after seeing its key gone
  | { readonly kind: 'unreadable'; readonly text: string }; // not our record: wait our own TTL

export function termRecordKey(election: string): string {
  return `${election}.locked-term`;
}

export function encodeTermRecord(record: TermRecord): string {
  return record.state === 'leading'
    ? JSON.stringify({ state: 'leading', token: record.token.toString(), ttlMs: record.ttlMs, holdMs: record.holdMs })
    : JSON.stringify({
        state: 'resigned',
        token: record.token.toString(),
        ttlMs: record.ttlMs,
        heir: record.heir === null ? null : record.heir.toString(),
      });
}

/**
 * A revision as the record writes it. One regular expression for the module: with the literal inside the
 * decoder, `perf` showed V8 compiling it again on an heir's handover, where that code runs cold.
 */
const REVISION = /^\d+$/;
const isRevision = (v: unknown): v is string => typeof v === 'string' && REVISION.test(v);

/** The record as written by `encodeTermRecord`, or null if `text` is not one. */
export function decodeTermRecord(text: string): TermRecord | null {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const { state, token, ttlMs, holdMs, heir } = raw as Record<string, unknown>;
  const ms = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  if (!isRevision(token)) return null;
  if (state === 'resigned' && ms(ttlMs) && (heir === null || isRevision(heir))) {
    return { state, token: BigInt(token), ttlMs, heir: heir === null ? null : BigInt(heir) };
  }
  if (state === 'leading' && ms(ttlMs) && ms(holdMs)) return { state, token: BigInt(token), ttlMs, holdMs };
  return null;
}

/**
 * What the record a claim replaced says about the previous holder. A claim by
 * the term with token `own` can only replace a record of an older term (a
 * newer one could not have claimed while our key, older than it, existed) or
 * its own (a claim retried after a lost reply): the latter keeps the wait the
 * first claim found. A resignation that named another heir counts as that
 * heir's unclaimed term, of at most the resigner's TTL.
 */
export function previousHolder(previous: string | null, own: bigint): PreviousHolder {
  if (previous === null) return { kind: 'none' };
  const record = decodeTermRecord(previous);
  if (record === null) return { kind: 'unreadable', text: previous };
  if (record.state === 'resigned') {
    return record.heir === null || record.heir === own ? { kind: 'resigned' } : { kind: 'unended', ms: record.ttlMs };
  }
  if (record.token === own) return record.holdMs > 0 ? { kind: 'unended', ms: record.holdMs } : { kind: 'resigned' };
  return { kind: 'unended', ms: Math.max(record.ttlMs, record.holdMs) };
}

/**
 * Whether the record (as read, linearizably, with our key standing and
 * nothing older) makes the candidate `own` the heir of a resignation that it
 * may take over from at once, without a claim: it names `own`, and our TTL is
 * within the resigner's (the wait its successor's claim will allow for us).
 */
export function isHeir(record: string | null, own: bigint, ownTtlMs: number): boolean {
  const decoded = record === null ? null : decodeTermRecord(record);
  return decoded?.state === 'resigned' && decoded.heir === own && ownTtlMs <= decoded.ttlMs;
}

/**
 * How long a claimant waits, on its own clock, after the claim's reply before
 * it acts as leader. The previous holder's deadline lies less than its TTL
 * after the claim took effect (its deadline comes from a keepalive sent before
 * its last confirmation that its key existed, and the claim was applied after
 * the key was gone). A clock running up to `driftRate` fast measures that span
 * as at most TTL × (1 + driftRate).
 */
export function holdOffMs(previous: PreviousHolder, ownTtlMs: number, driftRate: number): number {
  switch (previous.kind) {
    case 'none':
    case 'resigned':
      return 0;
    case 'unended':
      return Math.ceil(previous.ms * (1 + driftRate));
    case 'unreadable':
      return Math.ceil(ownTtlMs * (1 + driftRate));
  }
}

/** The inherited wait a claimant records, so that its own successor can cover it too. */
export function inheritedMs(previous: PreviousHolder, ownTtlMs: number): number {
  switch (previous.kind) {
    case 'none':
    case 'resigned':
      return 0;
    case 'unended':
      return previous.ms;
    case 'unreadable':
      return ownTtlMs;
  }
}
