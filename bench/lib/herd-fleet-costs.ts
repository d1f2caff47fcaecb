import type { Traffic } from './etcd-metrics.js';
import type { FleetCounters } from './herd-fleet-procs.js';
import { table } from './markdown.js';

/**
 * What one step of `npm run bench:herd-fleet` cost: the growth of every locker's counters, summed
 * over the fleet (clients and processes woken, the most per client and per process, requests by
 * label), beside etcd's own count; and the markdown of one fleet size's steps.
 */
export const PERIODIC = 'confirm leader keys';
const MEMBER_LOCAL = 'read election leader (member-local)';

/** One step's cost, summed over the fleet (and etcd's own count). */
export interface StepRow {
  readonly step: string;
  readonly settledMs: number;
  readonly events: number;
  readonly clientsWoken: number;
  readonly processesWoken: number;
  readonly maxPerClient: number;
  readonly maxPerProcess: number;
  readonly memberLocalReads: number;
  /** Requests other than member-local reads and leader confirmations, by label. */
  readonly other: Map<string, number>;
  readonly periodic: number;
  readonly keepaliveReplies: number;
  /** The nodes' `error` events, by code and message. */
  readonly errors: Map<string, number>;
  /** Requests that failed, by label and code. */
  readonly failed: Map<string, number>;
  /** Streams opened, by kind: more than the step's own watches when failures reset a client's connection. */
  readonly opened: Map<string, number>;
  /** The node the step is about (the joiner, the leaver's successor, the leader, the heir) and its events. */
  readonly subject: { readonly role: string; readonly k: number; readonly events: number };
  readonly etcd: Traffic;
  /** Set when the step's condition did not hold in time (counted until then). */
  readonly failure: string | undefined;
}

/** Watch events and requests, leader confirmations aside: what a quiet fleet does not add to. */
export function activity(c: FleetCounters): { readonly total: number; readonly inFlight: number } {
  let total = 0;
  let inFlight = 0;
  for (const l of c.values()) {
    total += l.events;
    inFlight += l.inFlight;
    for (const [what, count] of Object.entries(l.requests)) if (what !== PERIODIC) total += count;
  }
  return { total, inFlight };
}

/** Adds how much each count grew from `before` to `after` into `into`. */
function addGrowth(
  into: Map<string, number>,
  after: Record<string, number>,
  before: Record<string, number> = {},
): void {
  for (const [key, count] of Object.entries(after)) {
    const d = count - (before[key] ?? 0);
    if (d !== 0) into.set(key, (into.get(key) ?? 0) + d);
  }
}

const sumOf = (m: Map<unknown, number>): number => [...m.values()].reduce((a, b) => a + b, 0);

/** `label count, …` (most first), or 'none'. */
const counted = (m: Map<string, number>): string =>
  [...m]
    .sort((x, y) => y[1] - x[1])
    .map(([what, count]) => `${what} ${count}`)
    .join(', ') || 'none';

type Costs = Omit<StepRow, 'step' | 'settledMs' | 'subject' | 'etcd' | 'failure'>;

export function costs(before: FleetCounters, after: FleetCounters): Costs {
  const perProcess = new Map<number, number>();
  const other = new Map<string, number>();
  const errors = new Map<string, number>();
  const failed = new Map<string, number>();
  const opened = new Map<string, number>();
  let events = 0;
  let clientsWoken = 0;
  let maxPerClient = 0;
  let keepaliveReplies = 0;
  for (const [k, a] of after) {
    const b = before.get(k);
    const e = a.events - (b?.events ?? 0);
    events += e;
    if (e > 0) clientsWoken++;
    maxPerClient = Math.max(maxPerClient, e);
    perProcess.set(a.proc, (perProcess.get(a.proc) ?? 0) + e);
    keepaliveReplies += a.keepaliveReplies - (b?.keepaliveReplies ?? 0);
    addGrowth(other, a.requests, b?.requests);
    addGrowth(errors, a.errors, b?.errors);
    addGrowth(failed, a.failed, b?.failed);
    addGrowth(opened, a.opened, b?.opened);
  }
  const memberLocalReads = other.get(MEMBER_LOCAL) ?? 0;
  const periodic = other.get(PERIODIC) ?? 0;
  other.delete(MEMBER_LOCAL);
  other.delete(PERIODIC);
  return {
    events,
    clientsWoken,
    processesWoken: [...perProcess.values()].filter((e) => e > 0).length,
    maxPerClient,
    maxPerProcess: Math.max(0, ...perProcess.values()),
    memberLocalReads,
    other,
    periodic,
    keepaliveReplies,
    errors,
    failed,
    opened,
  };
}

export interface Measured {
  readonly rows: StepRow[];
  /** The step that did not complete, and why. */
  readonly failure?: string;
}

const int = (v: number): string => v.toLocaleString('en-US');

export function sizeMarkdown(n: number, p: number, { rows, failure }: Measured): string {
  const header = [
    'step',
    'watch events delivered (fleet)',
    'clients woken',
    'processes woken',
    'max events per client',
    'max events per process',
    'member-local reads (fleet)',
    'other requests (fleet)',
    'etcd watch events sent',
    'etcd requests excl. keepalives',
    `of which ${PERIODIC}`,
    'settled ms',
  ];
  const body = rows.map((r) => [
    r.step,
    int(r.events),
    int(r.clientsWoken),
    int(r.processesWoken),
    int(r.maxPerClient),
    int(r.maxPerProcess),
    int(r.memberLocalReads),
    int(sumOf(r.other)),
    int(r.etcd.watchEvents),
    int(r.etcd.requests - r.etcd.keepalives),
    int(r.periodic),
    Number.isNaN(r.settledMs) ? 'not in 60 s' : r.settledMs.toFixed(0),
  ]);
  const details = rows.map((r) => {
    const e = r.etcd;
    return (
      `- ${r.step}: the ${r.subject.role} (n${r.subject.k}) took ${r.subject.events} event(s); other requests: ${counted(r.other)}; ` +
      `etcd: ${int(e.ranges)} ranges, ${int(e.writes)} writes, ${int(e.watchRequests)} watch-stream messages, ` +
      `${int(e.keepalives)} keepalives (${int(r.keepaliveReplies)} replies taken by the fleet); streams opened: ${counted(r.opened)}; failed requests: ${counted(r.failed)}; node errors: ${counted(r.errors)}`
    );
  });
  const failed = failure === undefined ? [] : ['', `**Did not complete** ${failure}`];
  return [`## N = ${int(n)} lockers in ${p} processes`, '', table(header, body), '', ...details, ...failed].join('\n');
}
