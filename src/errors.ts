/**
 * One error class for the library, told apart by `code`. `transient` says
 * whether retrying the same thing later can succeed (etcd unreachable, a
 * deadline passed) or not (bad credentials, permission denied, closed).
 */
export type LockedErrorCode =
  | 'INVALID_ARGUMENT' // bad input from the caller; never retried
  | 'UNAVAILABLE' // etcd could not be reached or did not answer in time
  | 'LEASE_LOST' // the session's lease expired, was revoked or can no longer be proven live
  | 'LEADERSHIP_LOST' // the term ended: deadline, key deleted, resign
  | 'NOT_LEADER' // a guarded write found that the token no longer leads
  | 'COMPACTED' // a watch needed a revision etcd has compacted away
  | 'PERMISSION' // authentication or authorisation failed
  | 'ABORTED' // the caller's AbortSignal fired
  | 'CLOSED' // the object was closed
  | 'ETCD'; // any other error reported by etcd

const TRANSIENT: ReadonlySet<LockedErrorCode> = new Set([
  'UNAVAILABLE',
  'LEASE_LOST',
  'LEADERSHIP_LOST',
  'COMPACTED',
  'ETCD',
]);

export class LockedError extends Error {
  readonly code: LockedErrorCode;
  readonly transient: boolean;

  constructor(code: LockedErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LockedError';
    this.code = code;
    this.transient = TRANSIENT.has(code);
  }
}

export function isLockedError(err: unknown, code?: LockedErrorCode): err is LockedError {
  return err instanceof LockedError && (code === undefined || err.code === code);
}
