import { describe } from '../core/validate.js';

/**
 * The seed's data string: `id + ':::' + value`, split at the first `:::`.
 * A value without `:::` was written by a foreign participant (`etcdctl elect`,
 * a Go program): it reads as id = the key's lease in hex, value = the whole value.
 */
export const SEPARATOR = ':::';

/** etcd's default request limit is 1.5 MiB; the data string stays well below it. */
export const MAX_DATA_BYTES = 1024 * 1024;

export function encodeData(id: string, value: string): string {
  return `${id}${SEPARATOR}${value}`;
}

export function decodeData(raw: string, leaseHex: string): { id: string; value: string } {
  const at = raw.indexOf(SEPARATOR);
  if (at < 0) return { id: leaseHex, value: raw };
  return { id: raw.slice(0, at), value: raw.slice(at + SEPARATOR.length) };
}

/** The seed accepted numbers and strings as values; etcd stores their string form. */
export function valueToString(field: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new TypeError(`${field} must be a string or a finite number, got ${describe(value)}`);
}

export function checkId(field: string, id: unknown): string {
  if (typeof id !== 'string') throw new TypeError(`${field} must be a string, got ${describe(id)}`);
  if (id.includes(SEPARATOR)) throw new TypeError(`${field} must not contain "${SEPARATOR}", got ${describe(id)}`);
  return id;
}

export function checkDataSize(field: string, data: string): void {
  const bytes = Buffer.byteLength(data);
  if (bytes > MAX_DATA_BYTES) {
    throw new RangeError(`${field} must encode to at most ${MAX_DATA_BYTES} bytes with its id, got ${bytes}`);
  }
}
