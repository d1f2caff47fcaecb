/**
 * Up-front validation. Every failure names the field and the rule, and shows
 * what was given: `ttl must be a finite number of seconds > 0, got -1`.
 */

export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value === null || value === undefined || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return 'an array';
  return 'an object';
}

export function positiveSeconds(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${field} must be a finite number of seconds > 0, got ${describe(value)}`);
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

/** Rejects keys of `opts` that are not in `known`: a misspelt option is a bug, not a no-op. */
export function knownKeys(what: string, opts: object, known: readonly string[]): void {
  for (const key of Object.keys(opts)) {
    if (!known.includes(key)) {
      throw new TypeError(`${what} has an unknown option ${JSON.stringify(key)}; known options: ${known.join(', ')}`);
    }
  }
}
