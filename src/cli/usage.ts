import { parseArgs } from 'node:util';

/** A mistake in the command line: `main` prints its message as one line on stderr and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function isUsageError(err: unknown): err is UsageError {
  return err instanceof UsageError;
}

export interface FlagDef {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
}
export type FlagSpec = Readonly<Record<string, FlagDef>>;

type Values = Record<string, string | boolean | undefined>;

/** Typed, validated access to parsed flags; every failure is a UsageError naming the flag and the rule. */
export class Flags {
  readonly command: string;
  readonly #values: Values;

  constructor(command: string, values: Values) {
    this.command = command;
    this.#values = values;
  }

  string(name: string): string | undefined {
    const v = this.#values[name];
    return typeof v === 'string' ? v : undefined;
  }

  required(name: string): string {
    const v = this.string(name);
    if (v === undefined || v === '') throw new UsageError(`${this.command}: --${name} is required`);
    return v;
  }

  /** --path: an election name as the library takes it (non-empty, no trailing "/"). */
  electionPath(): string {
    const path = this.required('path');
    if (path.endsWith('/')) {
      throw new UsageError(
        `${this.command}: --path must not end with "/" (the candidates' keys live under P/), got ${JSON.stringify(path)}`,
      );
    }
    return path;
  }

  boolean(name: string): boolean {
    return this.#values[name] === true;
  }

  /** An integer flag within [min, max], or `fallback` when absent. */
  integer(name: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
    const text = this.string(name);
    if (text === undefined) return fallback;
    const n = /^-?\d+$/.test(text.trim()) ? Number(text) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      throw new UsageError(`${this.command}: --${name} must be an integer ${range}, got ${JSON.stringify(text)}`);
    }
    return n;
  }

  /** An optional integer flag (undefined when absent). */
  optionalInteger(name: string, min: number, max?: number): number | undefined {
    return this.string(name) === undefined ? undefined : this.integer(name, 0, min, max);
  }
}

/**
 * Parses `args` strictly with node's util.parseArgs and turns its errors into
 * one short line. With `allowPositionals` false, any positional is an error.
 */
export function parseFlags(
  command: string,
  args: readonly string[],
  spec: FlagSpec,
  allowPositionals = false,
): { flags: Flags; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options: spec,
      strict: true,
      allowPositionals,
    });
    return { flags: new Flags(command, values), positionals };
  } catch (err) {
    throw new UsageError(`${command}: ${describeParseError(err)} (see ${command} --help)`);
  }
}

function describeParseError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown }).code;
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${quoted}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${JSON.stringify(quoted)}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      // node names the option as '--grace <value>' or, with a short form, '-h, --help'
      const flag =
        quoted
          .replace(/ <value>$/, '')
          .split(', ')
          .pop() ?? quoted;
      if (/argument missing/.test(message)) return `${flag} needs a value`;
      if (/ambiguous/.test(message)) return `${flag} needs a value (write ${flag}=-… for a value that starts with -)`;
      return `${flag} takes no value`;
    }
    default:
      return message.split('\n')[0] ?? message;
  }
}

/**
 * Splits `locked run` arguments into the runner's flags and the command: the
 * command starts after `--`, or at the first argument that is neither a flag
 * nor a flag's value.
 */
export function splitCommand(command: string, args: readonly string[], spec: FlagSpec): [string[], string[]] {
  const dash = args.indexOf('--');
  if (dash >= 0) return [args.slice(0, dash), args.slice(dash + 1)];
  const { tokens } = parseArgs({
    args: [...args],
    options: spec,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const first = tokens.find((t) => t.kind === 'positional');
  if (!first) return [[...args], []];
  return [args.slice(0, first.index), args.slice(first.index)];
}

export function wantsHelp(args: readonly string[]): boolean {
  const dash = args.indexOf('--');
  const head = dash >= 0 ? args.slice(0, dash) : args;
  return head.includes('--help') || head.includes('-h');
}
