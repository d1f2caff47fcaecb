import { Backoff } from '../core/backoff.js';
import { randomOf, type Clock } from '../core/clock.js';
import { isLockedError } from '../errors.js';
import type { LeaseCalls } from '../transport/transport.js';
import type { Lease } from './lease.js';

/**
 * Revokes a lost lease so its keys go now rather than at expiry; retried with
 * backoff while etcd is unreachable, for at most one TTL (after that etcd has
 * expired it anyway). "Lease not found" means it is already gone. Fire and
 * forget: nothing waits for it.
 */
export function revokeLostLease(transport: Pick<LeaseCalls, 'revoke'>, lease: Lease, clock: Clock): void {
  const giveUpAt = clock.now() + lease.ttlSec * 1000;
  const backoff = new Backoff(100, 1000, randomOf(clock));
  const attempt = (): void => {
    transport.revoke(lease.id).catch((err: unknown) => {
      if (isLockedError(err, 'LEASE_LOST') || clock.now() >= giveUpAt) return;
      clock.setTimer(attempt, backoff.next());
    });
  };
  attempt();
}
