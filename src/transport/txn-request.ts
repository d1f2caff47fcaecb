import type * as etcd from 'etcd3';
import { ProtoWriter } from './proto-writer.js';

/**
 * etcd's TxnRequest (rpc.proto), encoded from the object etcd3's codec takes, for the parked
 * resignation (parked-txn.ts): the leader encodes it after `stop()`, on the path its successor waits
 * on, in code that runs once per term and so runs cold. protobufjs's `fromObject` and `encode` take about
 * 0.5 ms there after a second idle on the machine of the benchmark, this about 0.25 (`npm run bench:codec`).
 *
 * Strict by design: it knows the fields of Compare, RequestOp and the requests a RequestOp holds
 * (Range, Put, DeleteRange, a nested Txn), 64-bit integers as decimal strings, safe integers or
 * bigints, bytes as Buffers or Uint8Arrays, enums by etcd3's names or numbers. Anything else — an
 * unknown field, a string for bytes (which protobufjs reads as base64), two members of one oneof —
 * gives null, and the caller uses etcd3's codec, whose meaning is then the reference.
 */
export function encodeTxnRequest(request: etcd.ITxnRequest): Buffer | null {
  const w = new ProtoWriter();
  return write(w, request as Fields, TXN) ? w.finish() : null;
}

type Fields = Readonly<Record<string, unknown>>;
type Kind =
  | 'int64'
  | 'bytes'
  | 'bool'
  | { readonly names: readonly string[] }
  | { readonly message: Spec; readonly repeated: boolean };
interface Spec {
  readonly fields: Readonly<Record<string, readonly [number, Kind]>>;
  /** Fields of one oneof: at most one may be given. */
  readonly oneof?: readonly string[];
}

const names = (...n: string[]): Kind => ({ names: n });
const message = (spec: Spec, repeated = false): Kind => ({ message: spec, repeated });

const RANGE: Spec = {
  fields: {
    key: [1, 'bytes'],
    range_end: [2, 'bytes'],
    limit: [3, 'int64'],
    revision: [4, 'int64'],
    sort_order: [5, names('None', 'Ascend', 'Descend')],
    sort_target: [6, names('Key', 'Version', 'Create', 'Mod', 'Value')],
    serializable: [7, 'bool'],
    keys_only: [8, 'bool'],
    count_only: [9, 'bool'],
    min_mod_revision: [10, 'int64'],
    max_mod_revision: [11, 'int64'],
    min_create_revision: [12, 'int64'],
    max_create_revision: [13, 'int64'],
  },
};
const PUT: Spec = {
  fields: {
    key: [1, 'bytes'],
    value: [2, 'bytes'],
    lease: [3, 'int64'],
    prev_kv: [4, 'bool'],
    ignore_value: [5, 'bool'],
    ignore_lease: [6, 'bool'],
  },
};
const DELETE_RANGE: Spec = { fields: { key: [1, 'bytes'], range_end: [2, 'bytes'], prev_kv: [3, 'bool'] } };
const COMPARE: Spec = {
  fields: {
    result: [1, names('Equal', 'Greater', 'Less', 'NotEqual')],
    target: [2, names('Version', 'Create', 'Mod', 'Value', 'Lease')],
    key: [3, 'bytes'],
    version: [4, 'int64'],
    create_revision: [5, 'int64'],
    mod_revision: [6, 'int64'],
    value: [7, 'bytes'],
    lease: [8, 'int64'],
    range_end: [64, 'bytes'],
  },
  oneof: ['version', 'create_revision', 'mod_revision', 'value', 'lease'],
};
const REQUEST_OP_FIELDS: Record<string, readonly [number, Kind]> = {};
const REQUEST_OP: Spec = {
  fields: REQUEST_OP_FIELDS,
  oneof: ['request_range', 'request_put', 'request_delete_range', 'request_txn'],
};
const TXN: Spec = {
  fields: {
    compare: [1, message(COMPARE, true)],
    success: [2, message(REQUEST_OP, true)],
    failure: [3, message(REQUEST_OP, true)],
  },
};
Object.assign(REQUEST_OP_FIELDS, {
  request_range: [1, message(RANGE)],
  request_put: [2, message(PUT)],
  request_delete_range: [3, message(DELETE_RANGE)],
  request_txn: [4, message(TXN)],
});

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Writes `obj`'s fields by `spec`; false on anything it does not know how to write as etcd3 would. */
function write(w: ProtoWriter, obj: Fields, spec: Spec): boolean {
  if (typeof obj !== 'object' || obj === null) return false;
  let inOneof = 0;
  for (const name in obj) {
    const value = obj[name];
    if (value === undefined || value === null) continue; // as protobufjs: not given
    const field = spec.fields[name];
    if (!field) return false;
    if (spec.oneof?.includes(name) && ++inOneof > 1) return false;
    const [number, kind] = field;
    if (kind === 'int64') {
      const n = int64(value);
      if (n === null) return false;
      w.varint(number, n);
    } else if (kind === 'bool') {
      if (typeof value !== 'boolean') return false;
      w.varint(number, value);
    } else if (kind === 'bytes') {
      if (!(value instanceof Uint8Array)) return false;
      w.bytes(number, value);
    } else if ('names' in kind) {
      const n =
        typeof value === 'string' ? kind.names.indexOf(value) : Number.isInteger(value) ? (value as number) : -1;
      if (n < 0 || n > 0x7fffffff) return false;
      w.varint(number, n);
    } else {
      const items = kind.repeated ? value : [value];
      if (!Array.isArray(items)) return false;
      for (const item of items) {
        const sub = new ProtoWriter();
        if (!write(sub, item as Fields, kind.message)) return false;
        w.bytes(number, sub);
      }
    }
  }
  return true;
}

/** A 64-bit integer from a decimal string, a safe integer or a bigint; null for anything else. */
function int64(value: unknown): number | bigint | null {
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value); // below 2^53: no bigint
  let n: bigint;
  if (typeof value === 'bigint') n = value;
  else if (typeof value === 'string' && /^-?\d{1,19}$/.test(value)) n = BigInt(value);
  else return null;
  return n >= INT64_MIN && n <= INT64_MAX ? n : null;
}
