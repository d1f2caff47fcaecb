import type * as etcd from 'etcd3';
import type { Transport } from '../transport/transport.js';

/**
 * Transactions guarded by a key's create revision: they apply only while that
 * key stands as the candidate or term that wrote it, never a newer key of the
 * same name (a candidate's key on the same lease, re-created).
 */

/** The compare that holds while `key` stands with create revision `token`. */
export function keyStands(key: string, token: bigint): etcd.ICompare {
  return { key: Buffer.from(key), target: 'Create', result: 'Equal', create_revision: token.toString() };
}

/** The compare that holds while `key` is attached to lease `leaseId` (whatever its create revision). */
export function keyOnLease(key: string, leaseId: bigint): etcd.ICompare {
  return { key: Buffer.from(key), target: 'Lease', result: 'Equal', lease: leaseId.toString() };
}

/** Deletes `key` only while `guard` holds. Resolves whether it deleted. */
export async function deleteIf(
  transport: Transport,
  key: string,
  guard: etcd.ICompare,
  what: string,
): Promise<boolean> {
  const res = await transport.txn(
    { compare: [guard], success: [{ request_delete_range: { key: Buffer.from(key) } }], failure: [] },
    what,
  );
  return res.succeeded;
}

/** Deletes `key` only while it stands with create revision `token`. Resolves whether it deleted. */
export function guardedDelete(transport: Transport, key: string, token: bigint, what: string): Promise<boolean> {
  return deleteIf(transport, key, keyStands(key, token), what);
}

/** The caller's own compares, and what to read when only they fail. */
export interface FencedTxnOptions {
  readonly compare?: etcd.ICompare[];
  readonly failure?: etcd.IRequestOp[];
}

/**
 * A transaction that applies only while `key` stands with create revision
 * `token`, and only if `options.compare` holds too. Returns etcd's response:
 * `succeeded` with the `success` ops' responses, or, when only the caller's
 * compares failed, not `succeeded` with the responses of `options.failure`;
 * null when the key's guard failed.
 */
export async function fencedTxn(
  transport: Transport,
  key: string,
  token: bigint,
  success: etcd.IRequestOp[],
  what: string,
  options: FencedTxnOptions,
): Promise<etcd.ITxnResponse | null> {
  const res = await transport.txn(
    {
      compare: [keyStands(key, token), ...(options.compare ?? [])],
      success,
      // Which compare failed: ours (the key's create revision) is read first.
      failure: [{ request_range: { key: Buffer.from(key) } }, ...(options.failure ?? [])],
    },
    what,
  );
  if (res.succeeded) return res;
  const guarded = res.responses[0]?.response_range.kvs[0];
  if (!guarded || guarded.create_revision !== token.toString()) return null;
  return { ...res, responses: res.responses.slice(1) };
}
