import * as etcd from 'etcd3';
import { LockedError } from '../errors.js';

/**
 * The one place that maps failures of the etcd3 client / gRPC to our codes.
 * Everything the library does not recognise is UNAVAILABLE (transient): the
 * safe reaction to an unknown failure is to step down and retry.
 */
export function classify(err: unknown, what: string): LockedError {
  if (err instanceof LockedError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const text = `${what}: ${message}`;
  if (err instanceof etcd.EtcdLeaseInvalidError || /requested lease not found/.test(message)) {
    return new LockedError('LEASE_LOST', text, { cause: err });
  }
  if (/required revision has been compacted/.test(message)) {
    return new LockedError('COMPACTED', text, { cause: err });
  }
  if (err instanceof etcd.EtcdInvalidAuthTokenError || /invalid auth token/i.test(message)) {
    // Tokens expire (etcd's --auth-token-ttl); the client fetches a new one on the next unary call.
    return new LockedError('UNAVAILABLE', text, { cause: err });
  }
  if (
    err instanceof etcd.EtcdPermissionDeniedError ||
    err instanceof etcd.EtcdAuthenticationFailedError ||
    err instanceof etcd.GRPCUnauthenticatedError ||
    /permission denied|authentication failed|user name is empty/i.test(message)
  ) {
    return new LockedError('PERMISSION', text, { cause: err });
  }
  if (err instanceof etcd.ClientClosedError) return new LockedError('CLOSED', text, { cause: err });
  if (err instanceof etcd.GRPCInvalidArgumentError || /request is too large|too many operations/.test(message)) {
    return new LockedError('INVALID_ARGUMENT', text, { cause: err });
  }
  if (err instanceof etcd.EtcdError) return new LockedError('ETCD', text, { cause: err });
  return new LockedError('UNAVAILABLE', text, { cause: err });
}
