import { MAX_TIMER_MS } from '../core/validate.js';
import { UsageError, type Flags } from './usage.js';

/**
 * Values as etcdctl reads them, from a flag or from its ETCDCTL_* variable;
 * `source` names which (`--dial-timeout`, `ETCDCTL_DIAL_TIMEOUT`) so the
 * one-line error points at what to fix.
 */

export type Env = Readonly<Record<string, string | undefined>>;

/** Where a setting came from: the flag's text, or its variable's when the flag is absent. */
export interface Setting {
  readonly text: string;
  /** `--flag` or the variable's name, for error messages. */
  readonly source: string;
}

/** The flag's value, else the variable's (an empty variable counts as unset, as in etcdctl). */
export function flagOrEnv(flags: Flags, flag: string, envName: string, env: Env): Setting | undefined {
  const given = flags.string(flag);
  if (given !== undefined) return { text: given, source: `--${flag}` };
  const fromEnv = env[envName];
  return fromEnv === undefined || fromEnv === '' ? undefined : { text: fromEnv, source: envName };
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};
const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;

/**
 * A duration in Go's syntax as etcdctl takes it (`500ms`, `2s`, `1m30s`, `1.5h`); a bare number is
 * seconds. From 1 ms to 2^31 − 1 ms (Node's timer limit, about 596 h), as whole milliseconds.
 */
export function parseDuration(command: string, source: string, text: string): number {
  const ms = durationMs(text.trim());
  if (ms === null || ms < 1 || ms > MAX_TIMER_MS) {
    throw new UsageError(
      `${command}: ${source} must be a duration from 1ms to 596h, such as 500ms, 2s or 1m30s, got ${JSON.stringify(text)}`,
    );
  }
  return Math.round(ms);
}

function durationMs(text: string): number | null {
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text) * 1000;
  if (text === '') return null;
  PART.lastIndex = 0;
  let total = 0;
  while (PART.lastIndex < text.length) {
    const match = PART.exec(text);
    if (!match) return null;
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? NaN);
  }
  return Number.isFinite(total) ? total : null;
}

const TRUE = ['1', 't', 'T', 'TRUE', 'true', 'True'];
const FALSE = ['0', 'f', 'F', 'FALSE', 'false', 'False'];

/** A boolean in Go's strconv.ParseBool syntax, as etcdctl reads ETCDCTL_INSECURE_SKIP_TLS_VERIFY. */
export function parseBoolean(command: string, source: string, text: string): boolean {
  if (TRUE.includes(text)) return true;
  if (FALSE.includes(text)) return false;
  throw new UsageError(`${command}: ${source} must be true or false (or 1, 0, t, f), got ${JSON.stringify(text)}`);
}

export type WriteOut = 'simple' | 'json';

/** etcdctl's -w/--write-out, of which locked speaks simple and json. */
export function parseWriteOut(command: string, source: string, text: string): WriteOut {
  if (text === 'simple' || text === 'json') return text;
  const etcdctlOnly = ['fields', 'protobuf', 'table'].includes(text) ? ` (etcdctl's ${text} is not supported)` : '';
  throw new UsageError(`${command}: ${source} must be simple or json${etcdctlOnly}, got ${JSON.stringify(text)}`);
}
