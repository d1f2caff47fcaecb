/**
 * Up-front validation. Every failure names the field and the rule, and shows
 * what was given: `ttl must be a finite number of seconds > 0, got -1`.
 */

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (value === null || value === undefined || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return 'an array';
  return 'an object';
}

/** The longest delay a Node timer holds (2^31 − 1 ms); a longer one fires at once, with a TimeoutOverflowWarning. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The longest lease TTL accepted: 2,147,483 s (about 24.8 days), so that a
 * lease's deadline timer (at most ttl × 1000 ms, etcd granting whole seconds)
 * fits a Node timer. etcd's own maximum (MaxLeaseTTL) is 9,000,000,000 s.
 */
export const MAX_TTL_SEC = Math.floor(MAX_TIMER_MS / 1000);

export function positiveSeconds(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${field} must be a finite number of seconds > 0, got ${describe(value)}`);
  }
  return value;
}

/** A lease TTL in seconds: > 0 and at most MAX_TTL_SEC. */
export function ttlSeconds(field: string, value: unknown): number {
  const ttlSec = positiveSeconds(field, value);
  if (Math.ceil(ttlSec) > MAX_TTL_SEC) {
    throw new RangeError(
      `${field} must be at most ${MAX_TTL_SEC} s (its deadline timer must fit Node's limit of 2^31-1 ms), got ${ttlSec}`,
    );
  }
  return ttlSec;
}

/** A timeout in milliseconds: > 0 and at most MAX_TIMER_MS. */
export function positiveMs(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${field} must be a finite number of milliseconds > 0, got ${describe(value)}`);
  }
  if (value > MAX_TIMER_MS) {
    throw new RangeError(`${field} must be at most ${MAX_TIMER_MS} ms (Node's timer limit, 2^31-1), got ${value}`);
  }
  return value;
}

export function nonNegativeMs(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${field} must be a finite number of milliseconds >= 0, got ${describe(value)}`);
  }
  return value;
}

export function fraction(field: string, value: unknown, maxExclusive: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value >= maxExclusive) {
    throw new RangeError(`${field} must be a number >= 0 and < ${maxExclusive}, got ${describe(value)}`);
  }
  return value;
}

export function nonEmptyString(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new TypeError(`${field} must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

export function optionalBoolean(field: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TypeError(`${field} must be a boolean, got ${describe(value)}`);
  return value;
}

/**
 * An election's name (the facade's `path`): a non-empty string without a
 * trailing "/". Its keys live under `name + "/"`, so "" would make every key in
 * etcd under "/" a candidate, and "a/" would mean "a//".
 */
export function electionName(field: string, value: unknown): string {
  const name = nonEmptyString(field, value);
  if (name.endsWith('/')) {
    throw new TypeError(`${field} must not end with "/" (keys live under ${field} + "/"), got ${describe(name)}`);
  }
  return name;
}

/** Rejects keys of `opts` that are not in `known`: a misspelt option is a bug, not a no-op. */
export function knownKeys(what: string, opts: object, known: readonly string[]): void {
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) {
      throw new TypeError(`${what} has an unknown option ${JSON.stringify(key)}; known options: ${known.join(', ')}`);
    }
  }
}
