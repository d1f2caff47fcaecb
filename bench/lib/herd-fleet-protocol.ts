/** What `npm run bench:herd-fleet` and its locker processes (bench/herd-fleet-child.ts) say over IPC. */
export type Command =
  | { readonly op: 'add'; readonly k: number }
  | { readonly op: 'stop'; readonly k: number }
  | { readonly op: 'proclaim'; readonly k: number; readonly value: string }
  | { readonly op: 'counters' }
  | { readonly op: 'views' }
  | { readonly op: 'exit' };

/** What one locker's client took and sent since it was made. */
export interface LockerCounters {
  readonly k: number;
  readonly events: number;
  readonly keepaliveReplies: number;
  /** The node's `error` events (failures it retries), by code and message (digits as N). */
  readonly errors: Record<string, number>;
  /** Unary requests (txn, range, lease grant, revoke) by the library's label. */
  readonly requests: Record<string, number>;
  /** Those that failed, by label and error code. */
  readonly failed: Record<string, number>;
  /** Unary requests sent and not yet answered (or failed). */
  readonly inFlight: number;
  /** Streams the client opened, by kind (watch, keepalive). */
  readonly opened: Record<string, number>;
}

export interface Results {
  add: null;
  stop: null;
  proclaim: null;
  exit: null;
  counters: LockerCounters[];
  /** How many running nodes see each leader and value (`id()` and `value()`, JSON of the pair). */
  views: Record<string, number>;
}

export type Request = Command & { readonly seq: number };
export interface Reply {
  readonly seq: number;
  readonly result?: unknown;
  readonly error?: string;
}

export const nodeId = (k: number): string => `n${k}`;

/** The key of a view in `Results['views']`. */
export const viewKey = (id: string | null, value: string | null): string => JSON.stringify([id, value]);
