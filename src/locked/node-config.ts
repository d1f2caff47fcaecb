import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Election } from '../election/election.js';

/** What a node needs from its locker: an election on its path, and the session to give back. */
export interface NodeBinding {
  readonly election: Election;
  release(): Promise<void>;
}

export interface NodeConfig {
  readonly id: string;
  readonly path: string;
  readonly value: string | number;
  readonly ttlSec: number;
  readonly stopOnError: boolean;
  readonly priority: number;
  readonly preemptAfterMs: number;
  readonly clock: Clock;
  readonly bind: () => NodeBinding;
}

export function generateId(): string {
  return randomUUID();
}
