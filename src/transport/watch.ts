import type * as etcd from 'etcd3';
import type { LockedError } from '../errors.js';

/**
 * What a watch of the hub (watch-hub.ts) promises: `onEvents` gets the events in revision order; `onEnd`
 * is called at most once, when the watch can deliver no more (stream failure,
 * cancellation by etcd, compaction). After `onEnd` or `cancel()` nothing more is
 * delivered. A caller that needs certainty re-reads and watches again: a watch
 * is a hint to re-check, never proof by itself.
 */
export interface WatchTarget {
  readonly key: Buffer;
  readonly rangeEnd?: Buffer;
  /** First revision to deliver (header revision of the read it follows + 1); the hub asks etcd for one earlier (watch-hub.ts). */
  readonly startRevision: bigint;
}

export interface WatchHandlers {
  onEvents(events: etcd.IEvent[], headerRevision: bigint): void;
  onEnd(err: LockedError): void;
}

export interface WatchHandle {
  cancel(): void;
}
