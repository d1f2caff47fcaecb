import type { Etcd3 } from 'etcd3';
import type { FenceMessage, FencePhase } from './protocol.js';
import { prefixEnd } from '../../src/transport/keys.js';

/**
 * The fencing check (DESIGN.md §1, "Fencing"): every leader of a lane
 * increments one counter with a transaction guarded by its term's token and by
 * the counter's mod revision, and writes a log key per value in the same
 * transaction (candidate-main.ts `runFence`). After the run the candidates'
 * reports are judged against what etcd holds:
 *
 * - nothing lost: every increment a candidate saw acknowledged is in etcd's log
 *   under its value, written by that attempt at the acknowledged revision;
 * - nothing doubled, values 1..N each exactly once: the counter's final value N
 *   has log keys for exactly 1..N, each written once (version 1), no two
 *   acknowledgements share a value, and N = acknowledged + applied without a
 *   reply (an attempt whose reply was lost, e.g. its links cut etcd → candidate,
 *   or that was killed in flight: it may apply, and the log shows whether it did);
 * - nothing applied that the candidate was told was refused, or never attempted;
 * - fenced: no increment applied by a term after a later (higher-token) term
 *   had written: for tokens a < b, every write of a has a lower revision than
 *   every write of b. With the guard `CreateRevision(leader key) == token`, a
 *   term whose key is gone can write nothing, and a later term exists only once
 *   the earlier key is gone.
 */
export interface FenceReport extends FenceMessage {
  readonly candidate: string;
}

export interface FenceLogEntry {
  readonly value: number;
  readonly token: string;
  readonly candidate: string;
  readonly seq: number;
  readonly modRevision: string;
  readonly version: number;
}

export interface FenceSnapshot {
  /** The counter's value (null: never written). */
  readonly counter: number | null;
  readonly log: FenceLogEntry[];
  /** Keys under the prefix that are neither the counter nor a well-formed log key. */
  readonly malformed: string[];
  /** The revision the snapshot was read at. */
  readonly revision: string;
}

export type FenceAnomalyKind =
  'lost' | 'doubled' | 'gap' | 'count' | 'phantom' | 'applied-though-refused' | 'out-of-order' | 'unreadable';

export interface FenceAnomaly {
  readonly kind: FenceAnomalyKind;
  readonly detail: string;
}

export interface FenceVerdict {
  readonly ok: boolean;
  /** The counter's final value in etcd. */
  readonly counter: number;
  /** Increments the writing candidate saw acknowledged. */
  readonly acknowledged: number;
  /** Increments applied (in etcd's log) whose outcome the candidate never learned. */
  readonly appliedWithoutReply: number;
  /** Attempts the term's guard refused (the term no longer led when etcd applied the request). */
  readonly refused: number;
  /** Attempts whose counter compare failed (the counter moved since the read). */
  readonly conflicts: number;
  /** Attempts whose request failed (outcome unknown to the candidate). */
  readonly unknown: number;
  /** Terms (tokens) with at least one applied increment. */
  readonly terms: number;
  readonly anomalies: FenceAnomaly[];
}

interface Attempt {
  readonly candidate: string;
  readonly seq: number;
  readonly token: string;
  readonly value: number;
  tried: boolean;
  outcome: Exclude<FencePhase, 'try'> | null;
  revision: string | null;
}

const MAX_DETAILS = 20;

export function checkFence(reports: readonly FenceReport[], snapshot: FenceSnapshot | { error: string }): FenceVerdict {
  const anomalies: FenceAnomaly[] = [];
  const counts = new Map<FenceAnomalyKind, number>();
  const anomaly = (kind: FenceAnomalyKind, detail: string): void => {
    const n = (counts.get(kind) ?? 0) + 1;
    counts.set(kind, n);
    if (n <= MAX_DETAILS) anomalies.push({ kind, detail });
    else if (n === MAX_DETAILS + 1) anomalies.push({ kind, detail: `(more ${kind} anomalies not listed)` });
  };

  const attempts = new Map<string, Attempt>();
  for (const r of reports) {
    const id = `${r.candidate}#${r.seq}`;
    let a = attempts.get(id);
    if (!a) {
      a = {
        candidate: r.candidate,
        seq: r.seq,
        token: r.token,
        value: r.value,
        tried: false,
        outcome: null,
        revision: null,
      };
      attempts.set(id, a);
    }
    if (r.phase === 'try') a.tried = true;
    else if (a.outcome === null) {
      a.outcome = r.phase;
      a.revision = r.revision ?? null;
    }
  }
  const all = [...attempts.values()];
  const acks = all.filter((a) => a.outcome === 'ok');
  const tally = (phase: FencePhase): number => all.filter((a) => a.outcome === phase).length;

  if ('error' in snapshot) {
    anomaly('unreadable', `the counter could not be read from etcd: ${snapshot.error}`);
    return {
      ok: false,
      counter: -1,
      acknowledged: acks.length,
      appliedWithoutReply: 0,
      refused: tally('refused'),
      conflicts: tally('conflict'),
      unknown: tally('unknown'),
      terms: 0,
      anomalies,
    };
  }

  const counter = snapshot.counter ?? 0;
  for (const key of snapshot.malformed) anomaly('phantom', `a key nobody of the check writes: ${key}`);

  // Values 1..N each exactly once.
  const log = new Map<number, FenceLogEntry>();
  for (const e of snapshot.log) log.set(e.value, e);
  for (let v = 1; v <= counter; v++)
    if (!log.has(v)) anomaly('gap', `the counter is ${counter} but value ${v} has no log key`);
  for (const e of snapshot.log) {
    if (e.value < 1 || e.value > counter)
      anomaly('gap', `log key for value ${e.value} beyond the counter (${counter})`);
    if (e.version !== 1) anomaly('doubled', `value ${e.value} was written ${e.version} times (last by ${e.candidate})`);
  }
  const byValue = new Map<number, Attempt[]>();
  for (const a of acks) byValue.set(a.value, [...(byValue.get(a.value) ?? []), a]);
  for (const [value, list] of byValue) {
    if (list.length > 1) {
      anomaly(
        'doubled',
        `value ${value} acknowledged ${list.length} times: ${list.map((a) => `${a.candidate}#${a.seq} (token ${a.token})`).join(', ')}`,
      );
    }
  }

  // Nothing lost: every acknowledgement is in the log, from that attempt, at its revision.
  for (const a of acks) {
    const e = log.get(a.value);
    if (!e || e.candidate !== a.candidate || e.seq !== a.seq) {
      anomaly(
        'lost',
        `${a.candidate}#${a.seq} (token ${a.token}) was acknowledged value ${a.value} at revision ${a.revision}, but etcd's log ${e ? `has ${e.candidate}#${e.seq}` : 'has no such value'}`,
      );
    } else if (e.modRevision !== a.revision) {
      anomaly(
        'lost',
        `${a.candidate}#${a.seq} acknowledged at revision ${a.revision}, but its log key was written at ${e.modRevision}`,
      );
    }
  }

  // Every applied increment was attempted, and none the candidate was told was not applied.
  let appliedWithoutReply = 0;
  for (const e of snapshot.log) {
    const a = attempts.get(`${e.candidate}#${e.seq}`);
    if (!a || !a.tried || a.token !== e.token || a.value !== e.value) {
      anomaly(
        'phantom',
        `value ${e.value} was written by ${e.candidate}#${e.seq} (token ${e.token}), an attempt ${a ? `reported with token ${a.token} and value ${a.value}` : 'never reported'}`,
      );
    } else if (a.outcome === 'refused' || a.outcome === 'conflict' || a.outcome === 'abandoned') {
      anomaly(
        'applied-though-refused',
        `${e.candidate}#${e.seq} was told "${a.outcome}", but value ${e.value} applied`,
      );
    } else if (a.outcome === null || a.outcome === 'unknown') {
      appliedWithoutReply++;
    }
  }
  if (counter !== acks.length + appliedWithoutReply) {
    anomaly(
      'count',
      `the counter is ${counter}, but ${acks.length} increments were acknowledged and ${appliedWithoutReply} applied without a reply`,
    );
  }

  // Values grow with the revision (one counter, compare-and-set).
  const sorted = [...snapshot.log].sort((x, y) => x.value - y.value);
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const next = sorted[i]!;
    if (BigInt(next.modRevision) <= BigInt(prev.modRevision)) {
      anomaly(
        'out-of-order',
        `value ${next.value} written at revision ${next.modRevision}, not after value ${prev.value} (${prev.modRevision})`,
      );
    }
  }

  // Fenced: for tokens a < b, every write of a precedes every write of b.
  const terms = new Map<string, { token: bigint; min: bigint; max: bigint; maxValue: number; minValue: number }>();
  for (const e of snapshot.log) {
    const rev = BigInt(e.modRevision);
    const t = terms.get(e.token);
    if (!t) terms.set(e.token, { token: BigInt(e.token), min: rev, max: rev, maxValue: e.value, minValue: e.value });
    else {
      if (rev < t.min) [t.min, t.minValue] = [rev, e.value];
      if (rev > t.max) [t.max, t.maxValue] = [rev, e.value];
    }
  }
  const byToken = [...terms.values()].sort((x, y) => (x.token < y.token ? -1 : x.token > y.token ? 1 : 0));
  let latest: (typeof byToken)[number] | null = null;
  for (const t of byToken) {
    if (latest && latest.max >= t.min) {
      anomaly(
        'out-of-order',
        `term ${latest.token} wrote value ${latest.maxValue} at revision ${latest.max}, after term ${t.token} had written value ${t.minValue} at revision ${t.min}`,
      );
    }
    if (!latest || t.max > latest.max) latest = t;
  }

  return {
    ok: anomalies.length === 0,
    counter,
    acknowledged: acks.length,
    appliedWithoutReply,
    refused: tally('refused'),
    conflicts: tally('conflict'),
    unknown: tally('unknown'),
    terms: terms.size,
    anomalies,
  };
}

/** The counter key and the log key of `value` under a lane's fence prefix (as candidate-main.ts writes them). */
export function fenceKeys(prefix: string): { counter: string; log: (value: number) => string } {
  return { counter: `${prefix}n`, log: (value) => `${prefix}log/${String(value).padStart(10, '0')}` };
}

/** Reads the counter and every log key under `prefix` at one revision, page by page (straight from etcd). */
export async function readFenceSnapshot(admin: Etcd3, prefix: string): Promise<FenceSnapshot> {
  const keys = fenceKeys(prefix);
  const logPrefix = `${prefix}log/`;
  const end = prefixEnd(Buffer.from(prefix));
  let from = Buffer.from(prefix);
  let revision: string | undefined;
  let counter: number | null = null;
  const log: FenceLogEntry[] = [];
  const malformed: string[] = [];
  for (;;) {
    const res = await admin.kv.range(
      { key: from, range_end: end, limit: 2000, ...(revision ? { revision } : {}) },
      { deadline: new Date(Date.now() + 10_000) },
    );
    revision ??= res.header.revision;
    for (const kv of res.kvs) {
      const key = kv.key.toString();
      const value = kv.value.toString();
      if (key === keys.counter) {
        counter = /^\d+$/.test(value) ? Number(value) : NaN;
        if (Number.isNaN(counter)) malformed.push(`${key}=${value}`);
        continue;
      }
      const m = key.startsWith(logPrefix) ? /^(\d+)$/.exec(key.slice(logPrefix.length)) : null;
      const stamp = /^(\d+) (\S+) (\d+)$/.exec(value);
      if (!m || !stamp) {
        malformed.push(`${key}=${value}`);
        continue;
      }
      log.push({
        value: Number(m[1]),
        token: stamp[1]!,
        candidate: stamp[2]!,
        seq: Number(stamp[3]),
        modRevision: kv.mod_revision,
        version: Number(kv.version),
      });
    }
    if (!res.more || res.kvs.length === 0) break;
    from = Buffer.concat([res.kvs[res.kvs.length - 1]!.key, Buffer.from([0])]);
  }
  return {
    counter: counter !== null && Number.isNaN(counter) ? null : counter,
    log,
    malformed,
    revision: revision ?? '0',
  };
}
