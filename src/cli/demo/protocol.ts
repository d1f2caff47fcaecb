/** The demo's candidate processes (candidate.ts) talk to the demo (command.ts) over IPC. */

/** Given to a candidate in the environment variable LOCKED_DEMO_CANDIDATE (JSON). */
export interface CandidateConfig {
  readonly id: string;
  readonly endpoints: string;
  readonly path: string;
  readonly ttlSec: number;
  /** How often isSelected() is sampled. */
  readonly sampleMs: number;
  /** A sample is sent at least this often even when nothing changed. */
  readonly heartbeatMs: number;
  /** The node's priority (the demo's preemption restarts a candidate with a higher one). */
  readonly priority?: number;
}

export const CONFIG_ENV = 'LOCKED_DEMO_CANDIDATE';

export type CandidateMessage =
  /** isSelected() and token() read at `at` (shared monotonic clock, ms), read after the clock. */
  | { readonly t: 'sample'; readonly selected: boolean; readonly token: string | null; readonly at: number }
  /** A failure the node reported (it keeps trying). */
  | { readonly t: 'error'; readonly message: string; readonly at: number }
  /** The candidate stopped gracefully: every sample was sent before this. */
  | { readonly t: 'bye'; readonly at: number };

export function isCandidateMessage(value: unknown): value is CandidateMessage {
  if (typeof value !== 'object' || value === null) return false;
  const t = (value as { t?: unknown }).t;
  return t === 'sample' || t === 'error' || t === 'bye';
}
