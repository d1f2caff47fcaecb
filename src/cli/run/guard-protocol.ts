/** Messages from the guard (guard.ts) to the runner over the IPC channel. */
export type GuardMessage =
  | { readonly type: 'started'; readonly pid: number }
  | { readonly type: 'spawn-error'; readonly errno: string; readonly message: string }
  | { readonly type: 'exit'; readonly code: number | null; readonly signal: NodeJS.Signals | null };

export function isGuardMessage(value: unknown): value is GuardMessage {
  if (typeof value !== 'object' || value === null) return false;
  const type = (value as { type?: unknown }).type;
  return type === 'started' || type === 'spawn-error' || type === 'exit';
}
