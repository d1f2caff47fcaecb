import { cpuAfter } from '../candidates/cpu-reading.js';
import { isDeleteEvent, type Step } from '../candidates/steps.js';

/**
 * `npm run bench:steps -- --cpu`: where the successor's own time goes, from the CPU readings its process
 * records after each watch event and after its election (cpu-reading.ts). Two spans: from its first delete
 * event (the first response of the handover it took in) and from its last event before `select` (the one
 * it led on) to `select`. NaN where a reading is missing.
 */
export const CPU_STEPS = [
  "successor's CPU (process, every thread) from its first delete event to select (ms)",
  "successor's main thread runnable, not running, from its first delete event to select (ms)",
  "successor's sleeps (voluntary context switches) from its first delete event to select",
  "successor's CPU from the event it led on to select (ms)",
  "successor's main thread runnable, not running, from the event it led on to select (ms)",
] as const;

export function cpuRows(steps: Step[], stopAt: number): Record<string, number> {
  const index = (match: (what: string) => boolean): number =>
    steps.findIndex(([t, what]) => t >= stopAt && match(what));
  const first = index(isDeleteEvent);
  const elected = index((w) => w === 'elected');
  let last = -1;
  for (let i = first; i >= 0 && i < elected; i++) if (steps[i]![1].startsWith('event')) last = i;
  const span = (from: number): { cpu: number; wait: number; sleeps: number } => {
    const a = from >= 0 ? cpuAfter(steps, from) : null;
    const b = elected >= 0 ? cpuAfter(steps, elected) : null;
    if (!a || !b) return { cpu: NaN, wait: NaN, sleeps: NaN };
    return { cpu: b.processMs - a.processMs, wait: b.waitMs - a.waitMs, sleeps: b.sleeps - a.sleeps };
  };
  const fromFirst = span(first);
  const fromLast = span(last);
  return {
    [CPU_STEPS[0]]: fromFirst.cpu,
    [CPU_STEPS[1]]: fromFirst.wait,
    [CPU_STEPS[2]]: fromFirst.sleeps,
    [CPU_STEPS[3]]: fromLast.cpu,
    [CPU_STEPS[4]]: fromLast.wait,
  };
}
