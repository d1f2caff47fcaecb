import { Etcd3 } from 'etcd3';
import { locked, type Locker } from '../../src/api.js';
import { summarize } from '../lib/stats.js';
import { pause } from '../lib/usage.js';

/**
 * Where locked's graceful handover time goes: two lockers in this process
 * (each its own connection), A leads, B waits; A.stop(). Every request either
 * locker makes after the stop() is timed (start and answer, ms from the
 * stop() call) by wrapping the public `range`/`txn` methods of its transport,
 * and an independent etcd3 watcher times the delete's delivery.
 */
export interface Step {
  readonly step: string;
  readonly startMs: number[];
  readonly doneMs: number[];
}

type Entry = { who: string; what: string; start: number; done: number };

/**
 * Wraps Transport.prototype's `range` and `txn` (every transport a locker
 * derives — one per TTL — shares them) and tells the lockers apart by their
 * etcd3 client. Returns the function that restores the prototype.
 */
function instrument(lockers: Record<string, Locker>, log: Entry[], t0: () => number): () => void {
  const proto = Object.getPrototypeOf(Object.values(lockers)[0]!.client.transport) as Record<string, unknown>;
  const owners = new Map<unknown, string>(
    Object.entries(lockers).map(([who, l]): [unknown, string] => [l.client.transport.client, who]),
  );
  const restore: (() => void)[] = [];
  for (const method of ['range', 'txn']) {
    const original = proto[method] as (this: { client: unknown }, req: unknown, what?: string) => Promise<unknown>;
    proto[method] = async function (this: { client: unknown }, req: unknown, what?: string) {
      const start = performance.now() - t0();
      const res = await original.call(this, req, what);
      const who = owners.get(this.client);
      if (who) log.push({ who, what: `${method} "${what ?? method}"`, start, done: performance.now() - t0() });
      return res;
    };
    restore.push(() => (proto[method] = original));
  }
  return () => restore.forEach((r) => r());
}

export async function gracefulBreakdown(endpoints: string, runs: number): Promise<Step[]> {
  const steps = new Map<string, Step>();
  const add = (step: string, start: number, done: number): void => {
    const s = steps.get(step) ?? { step, startMs: [], doneMs: [] };
    steps.set(step, s);
    s.startMs.push(start);
    s.doneMs.push(done);
  };
  const observer = new Etcd3({ hosts: endpoints.split(',') });
  try {
    for (let run = 0; run < runs; run++) {
      const path = `/bench/breakdown/${process.pid}/${run}`;
      const la = locked(endpoints);
      const lb = locked(endpoints);
      let start = Infinity;
      const log: Entry[] = [];
      const restore = instrument({ A: la, B: lb }, log, () => start);
      try {
        const watch = await observer.watch().prefix(`${path}/`).create();
        let deleteSeen = NaN;
        watch.on('delete', () => (deleteSeen = performance.now() - start));
        const a = la({ path, value: 'a', ttl: 5 });
        const b = lb({ path, value: 'b', ttl: 5 });
        const aSelected = new Promise((resolve) => a.once('select', resolve));
        await a.start();
        await aSelected;
        await b.start();
        await pause(600); // B is queued behind A and watching it
        const bSelected = new Promise<number>((resolve) => b.once('select', () => resolve(performance.now() - start)));
        log.length = 0;
        start = performance.now();
        const stopped = a.stop().then(() => performance.now() - start);
        const [select, stopResolved] = await Promise.all([bSelected, stopped]);
        const seen = new Map<string, number>();
        for (const r of log.filter((x) => x.start >= 0 && x.start <= select)) {
          const n = (seen.get(`${r.who}${r.what}`) ?? 0) + 1;
          seen.set(`${r.who}${r.what}`, n);
          add(`${r.who === 'A' ? 'A (leaving)' : 'B (successor)'}: ${r.what}${n > 1 ? ` #${n}` : ''}`, r.start, r.done);
        }
        add('the delete delivered to an independent watcher', NaN, deleteSeen);
        add("B's select", NaN, select);
        add("A's stop() resolved (after its lease revoke)", NaN, stopResolved);
        await watch.cancel();
        await b.stop();
      } finally {
        restore();
        await la.close();
        await lb.close();
      }
    }
  } finally {
    observer.close();
  }
  return [...steps.values()];
}

/** Steps in the order of their median answer time. */
export function breakdownRows(steps: Step[]): { step: string; runs: number; start: number; done: number }[] {
  return steps
    .map((s) => ({
      step: s.step,
      runs: s.doneMs.length,
      start: summarize(s.startMs.filter(Number.isFinite)).median,
      done: summarize(s.doneMs.filter(Number.isFinite)).median,
    }))
    .sort((a, b) => a.done - b.done);
}
