import { readFileSync } from 'node:fs';
import { monoMs } from './protocol.js';
import type { Step } from './steps.js';

/**
 * What a candidate process has had of the CPU so far, for `npm run bench:steps -- --cpu`: whether the
 * time between two of its steps went to running (its own work, however slow), to waiting for a CPU
 * (runnable, not running), or to sleeping (nothing to do: a voluntary switch). Recorded as a step
 * `cpu <process CPU µs> <main thread on CPU ns> <main thread runnable ns> <voluntary switches>` right after
 * the step it describes. The main thread's figures come from /proc/thread-self/schedstat (Linux, with
 * scheduler statistics; NaN elsewhere) and count up at each switch, so a span with none shows 0 there
 * while it ran throughout: the process's CPU (getrusage) counts the running slice too.
 */
export interface CpuReading {
  /** User + system CPU of the whole process (every thread), ms. */
  readonly processMs: number;
  /** The main thread's time runnable and waiting for a CPU, ms, as of its last switch. */
  readonly waitMs: number;
  /** Voluntary context switches of the process: times it slept. */
  readonly sleeps: number;
}

const PREFIX = 'cpu ';

/** The step to record now. */
export function cpuStep(): Step {
  const usage = process.resourceUsage();
  let schedstat = 'NaN NaN';
  try {
    schedstat = readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ').slice(0, 2).join(' ');
  } catch {
    // not Linux, or no scheduler statistics: the process's figures still say something
  }
  const processUs = usage.userCPUTime + usage.systemCPUTime;
  return [monoMs(), `${PREFIX}${processUs} ${schedstat} ${usage.voluntaryContextSwitches}`];
}

/** The reading recorded right after `steps[index]`, or null (the main thread's time on a CPU stays in the dump). */
export function cpuAfter(steps: Step[], index: number): CpuReading | null {
  const next = steps[index + 1];
  if (!next || !next[1].startsWith(PREFIX)) return null;
  const [processUs = NaN, , waitNs = NaN, sleeps = NaN] = next[1].slice(PREFIX.length).split(' ').map(Number);
  return { processMs: processUs / 1000, waitMs: waitNs / 1e6, sleeps };
}
