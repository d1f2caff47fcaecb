/** The IPC protocol between the runner and its guard (guard.ts). */

/** Milliseconds of CLOCK_MONOTONIC (process.hrtime): one clock for every process of the machine. */
export function sharedClockMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Guard → runner. */
export type GuardMessage =
  | { readonly type: 'started'; readonly pid: number }
  | { readonly type: 'spawn-error'; readonly errno: string; readonly message: string }
  | { readonly type: 'exit'; readonly code: number | null; readonly signal: NodeJS.Signals | null };

/**
 * Runner → guard: SIGKILL the group at `killAtMs` (shared clock) unless a later
 * deadline arrives first. Sent at the start and after every renewal of the term.
 */
export interface DeadlineMessage {
  readonly type: 'deadline';
  readonly killAtMs: number;
}

export function isGuardMessage(value: unknown): value is GuardMessage {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'started' || type === 'spawn-error' || type === 'exit';
}

export function isDeadlineMessage(value: unknown): value is DeadlineMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { type?: unknown }).type === 'deadline' &&
    typeof (value as { killAtMs?: unknown }).killAtMs === 'number'
  );
}
