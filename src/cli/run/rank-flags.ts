import { DEFAULT_PREEMPT_AFTER_MS } from '../../election/rank.js';
import { flagOrEnv, parseDuration, type Env } from '../values.js';
import { UsageError, type Flags } from '../usage.js';

/**
 * `--priority N` (LOCKED_PRIORITY) and `--preempt-after D` (LOCKED_PREEMPT_AFTER) of `locked run`,
 * as the library takes them (docs/DESIGN.md, "Priority"): a finite number, default 0, higher served
 * first; a duration in etcdctl's syntax (500ms, 2s), default 1s.
 */
export function rankFrom(command: string, flags: Flags, env: Env): { priority: number; preemptAfterMs: number } {
  const priorityText = flagOrEnv(flags, 'priority', 'LOCKED_PRIORITY', env);
  let priority = 0;
  if (priorityText) {
    const text = priorityText.text.trim();
    priority = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(text) ? Number(text) : NaN;
    if (!Number.isFinite(priority)) {
      throw new UsageError(
        `${command}: ${priorityText.source} must be a finite number (higher is elected first), got ${JSON.stringify(priorityText.text)}`,
      );
    }
  }
  const after = flagOrEnv(flags, 'preempt-after', 'LOCKED_PREEMPT_AFTER', env);
  const preemptAfterMs = after ? parseDuration(command, after.source, after.text) : DEFAULT_PREEMPT_AFTER_MS;
  return { priority, preemptAfterMs };
}
