import type * as etcd from 'etcd3';
import { toBigInt } from './keys.js';

/**
 * The revision etcd is asked to watch from: one before the target's first, whose events `fromStart` drops.
 * etcd 3.4 before 3.4.34 and 3.5 before 3.5.18 answer a watch that starts at exactly the compaction
 * revision without the deletions made at that revision, and without an error (etcd-io/etcd#18089,
 * #19179; `etcdctl watch --rev` shows it on Debian's 3.4.23): a waiter would never hear its predecessor
 * leave, a view would keep a key that is gone. Asked one revision earlier, etcd fails such a watch with
 * COMPACTED instead (its owner reads again), and a compaction at that earlier revision can only lose
 * events that are dropped here anyway. Revisions 0 (now) and 1 are asked as they are.
 */
export function askedStart(startRevision: bigint): bigint {
  return startRevision > 1n ? startRevision - 1n : startRevision;
}

/** The events at the target's first revision or later (in revision order, as etcd sends them). */
export function fromStart(events: etcd.IEvent[], startRevision: bigint): etcd.IEvent[] {
  const first = events[0];
  if (!first || toBigInt(first.kv.mod_revision) >= startRevision) return events;
  return events.filter((e) => toBigInt(e.kv.mod_revision) >= startRevision);
}
