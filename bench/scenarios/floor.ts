import { fork } from 'node:child_process';
import { dirname, join } from 'node:path';
import { Etcd3 } from 'etcd3';
import type { DeleteWatcherReport } from '../candidates/delete-watcher.js';
import { monoMs } from '../candidates/protocol.js';
import { candidateEntry } from '../lib/build.js';

/**
 * The physical floors of a handover on this cluster, measured with plain etcd3
 * clients (each its own connection, like two candidate processes):
 *
 * - write + watch: one client deletes a key, another's watch delivers the
 *   delete — the least a graceful handover can cost (the resign is one write,
 *   the successor learns of it by one watch event);
 * - the same across processes: the watch in a process of its own that sat idle
 *   until the delete, as a successor candidate does;
 * - lease expiry: a lease granted with TTL and never kept alive; from the grant
 *   request + TTL to the delivery of its key's delete — what etcd adds to a
 *   crash handover beyond the TTL (its expiry check, the revoke through Raft, one
 *   watch delivery).
 */
export interface WriteWatchSamples {
  /** Delete sent → its watch event delivered to the other client. */
  readonly writeWatchMs: number[];
  /** … then one linearizable read of the election's first key (what a successor's re-check costs). */
  readonly plusLinearizableReadMs: number[];
  /** … then one serializable (member-local) read at the event's revision instead. */
  readonly plusRevisionReadMs: number[];
}

export async function writeWatchFloor(endpoints: string, samples: number, prefix: string): Promise<WriteWatchSamples> {
  const hosts = endpoints.split(',');
  const writer = new Etcd3({ hosts });
  const watcher = new Etcd3({ hosts });
  const out: WriteWatchSamples = { writeWatchMs: [], plusLinearizableReadMs: [], plusRevisionReadMs: [] };
  try {
    const watch = await watcher.watch().prefix(prefix).create();
    let onDelete: ((t: number, revision: string) => void) | null = null;
    watch.on('delete', (kv) => onDelete?.(monoMs(), kv.mod_revision));
    for (let i = 0; i < samples; i++) {
      const key = `${prefix}${i}`;
      await writer.put(key).value('x');
      const delivered = new Promise<[number, string]>((resolve) => (onDelete = (t, rev) => resolve([t, rev])));
      const t0 = monoMs();
      await writer.delete().key(key);
      const [t1, revision] = await withTimeout(delivered, 5000, 'a watched delete');
      out.writeWatchMs.push(t1 - t0);
      // The successor's re-check, one of two ways (alternating): who is first under the prefix now?
      const read = watcher.getAll().prefix(prefix).sort('Create', 'Ascend').limit(1);
      if (i % 2 === 0) {
        await read.exec();
        out.plusLinearizableReadMs.push(monoMs() - t0);
      } else {
        // A member that has not applied the revision yet answers "future revision": ask again (etcd3 picks another).
        for (let attempt = 0; ; attempt++) {
          try {
            await watcher
              .getAll()
              .prefix(prefix)
              .sort('Create', 'Ascend')
              .limit(1)
              .serializable(true)
              .revision(revision)
              .exec();
            break;
          } catch (err) {
            if (attempt >= 3) throw err;
          }
        }
        out.plusRevisionReadMs.push(monoMs() - t0);
      }
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30));
    }
    await watch.cancel();
  } finally {
    writer.close();
    watcher.close();
  }
  return out;
}

/**
 * Delete sent here → its watch event delivered in another process (a plain
 * etcd3 client in bench/candidates/delete-watcher.ts), which was idle for
 * 20–50 ms before: what a handover between two candidate processes cannot
 * avoid. Times are on CLOCK_MONOTONIC, shared by both processes.
 */
export async function crossProcessFloor(endpoints: string, samples: number, prefix: string): Promise<number[]> {
  const child = fork(join(dirname(candidateEntry()), 'delete-watcher.js'), [endpoints, prefix], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const reports: DeleteWatcherReport[] = [];
  let wake: (() => void) | null = null;
  child.on('message', (report: DeleteWatcherReport) => {
    reports.push(report);
    wake?.();
  });
  const take = (match: (r: DeleteWatcherReport) => boolean, what: string): Promise<DeleteWatcherReport> =>
    withTimeout(
      (async () => {
        for (;;) {
          const i = reports.findIndex(match);
          if (i >= 0) return reports.splice(i, 1)[0]!;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      })(),
      10_000,
      what,
    );
  const writer = new Etcd3({ hosts: endpoints.split(',') });
  const out: number[] = [];
  try {
    await take((r) => r.ready === true, 'the delete watcher process to be ready');
    for (let i = 0; i < samples; i++) {
      const key = `${prefix}${i}`;
      await writer.put(key).value('x');
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 30));
      const t0 = monoMs();
      await writer.delete().key(key);
      const { deletedAt } = await take((r) => r.key === key, `the delete of ${key} in the watcher process`);
      out.push(deletedAt! - t0);
    }
  } finally {
    writer.close();
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null)
      process.kill(child.pid, 'SIGKILL');
  }
  return out;
}

export async function leaseExpiryFloor(
  endpoints: string,
  samples: number,
  ttlSec: number,
  prefix: string,
): Promise<number[]> {
  const hosts = endpoints.split(',');
  const owner = new Etcd3({ hosts });
  const watcher = new Etcd3({ hosts });
  try {
    const watch = await watcher.watch().prefix(prefix).create();
    const waiting = new Map<string, (t: number) => void>();
    watch.on('delete', (kv) => waiting.get(kv.key.toString())?.(monoMs()));
    // Spread the grants over a second so they sample different phases of etcd's expiry check.
    const one = async (i: number): Promise<number> => {
      await new Promise((resolve) => setTimeout(resolve, (i / samples) * 1000));
      const key = `${prefix}${i}`;
      const deleted = new Promise<number>((resolve) => waiting.set(key, resolve));
      const t0 = monoMs();
      const lease = owner.lease(ttlSec, { autoKeepAlive: false });
      await lease.put(key).value('x');
      const t1 = await withTimeout(deleted, ttlSec * 1000 + 10_000, 'a lease expiry');
      return t1 - (t0 + ttlSec * 1000);
    };
    const out = await Promise.all(Array.from({ length: samples }, (_, i) => one(i)));
    await watch.cancel();
    return out;
  } finally {
    owner.close();
    watcher.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
