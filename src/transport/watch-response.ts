import type * as etcd from 'etcd3';
import { ProtoReader } from './proto-reader.js';

/**
 * etcd's WatchResponse (rpc.proto; Event and KeyValue from kv.proto), decoded from its wire bytes into
 * the very object etcd3's codec makes (proto-loader with `longs: String, enums: String, defaults: true`):
 * 64-bit integers as decimal strings, enums by name, bytes as Buffers, absent scalars as their
 * defaults and absent sub-messages as null. Unknown fields are skipped.
 *
 * Why locked decodes this one message itself: every process of a fleet takes a handover in through it
 * (the successor, the leader's own watches, every view), on a code path that runs only then and so is
 * cold. protobufjs's generic decode and `toObject` take about 0.5 ms there for a two-event response after a
 * second idle on the machine of the benchmark, this about 0.3 (`npm run bench:codec`, bench/results/codec.md).
 */
export function decodeWatchResponse(bytes: Uint8Array): etcd.IWatchResponse {
  const r = new ProtoReader(bytes);
  const res: etcd.IWatchResponse = {
    header: null as unknown as etcd.IResponseHeader, // as etcd3's codec gives a response without one
    watch_id: '0',
    created: false,
    canceled: false,
    compact_revision: '0',
    cancel_reason: '',
    fragment: false,
    events: [],
  };
  while (r.more) {
    const tag = r.tag();
    if (tag === (1 << 3) + 2) res.header = r.message(header);
    else if (tag === 2 << 3) res.watch_id = r.int64();
    else if (tag === 3 << 3) res.created = r.bool();
    else if (tag === 4 << 3) res.canceled = r.bool();
    else if (tag === 5 << 3) res.compact_revision = r.int64();
    else if (tag === (6 << 3) + 2) res.cancel_reason = r.string();
    else if (tag === 7 << 3) res.fragment = r.bool();
    else if (tag === (11 << 3) + 2) res.events.push(r.message(event));
    else r.skip(tag & 7);
  }
  return res;
}

function header(r: ProtoReader): etcd.IResponseHeader {
  const h: etcd.IResponseHeader = { cluster_id: '0', member_id: '0', revision: '0', raft_term: '0' };
  while (r.more) {
    const tag = r.tag();
    if (tag === 1 << 3) h.cluster_id = r.uint64();
    else if (tag === 2 << 3) h.member_id = r.uint64();
    else if (tag === 3 << 3) h.revision = r.int64();
    else if (tag === 4 << 3) h.raft_term = r.uint64();
    else r.skip(tag & 7);
  }
  return h;
}

/** Event.EventType's names, by number, as etcd3's proto spells them. */
const EVENT_TYPES = ['Put', 'Delete'] as const;

function event(r: ProtoReader): etcd.IEvent {
  const e: etcd.IEvent = {
    type: 'Put',
    kv: null as unknown as etcd.IKeyValue,
    prev_kv: null as unknown as etcd.IKeyValue,
  };
  while (r.more) {
    const tag = r.tag();
    if (tag === 1 << 3) {
      const n = r.enum();
      // An unknown number stays a number, as etcd3's codec leaves it.
      e.type = EVENT_TYPES[n] ?? (n as unknown as etcd.IEvent['type']);
    } else if (tag === (2 << 3) + 2) e.kv = r.message(keyValue);
    else if (tag === (3 << 3) + 2) e.prev_kv = r.message(keyValue);
    else r.skip(tag & 7);
  }
  return e;
}

const EMPTY = Buffer.alloc(0);

function keyValue(r: ProtoReader): etcd.IKeyValue {
  const kv: etcd.IKeyValue = {
    key: EMPTY,
    create_revision: '0',
    mod_revision: '0',
    version: '0',
    value: EMPTY,
    lease: '0',
  };
  while (r.more) {
    const tag = r.tag();
    if (tag === (1 << 3) + 2) kv.key = r.bytes();
    else if (tag === 2 << 3) kv.create_revision = r.int64();
    else if (tag === 3 << 3) kv.mod_revision = r.int64();
    else if (tag === 4 << 3) kv.version = r.int64();
    else if (tag === (5 << 3) + 2) kv.value = r.bytes();
    else if (tag === 6 << 3) kv.lease = r.int64();
    else r.skip(tag & 7);
  }
  return kv;
}
