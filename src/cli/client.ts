import { LockedClient, isLockedError } from '../api.js';
import type { Connection } from './connection.js';
import { EXIT } from './exit-codes.js';
import { UsageError, isUsageError } from './usage.js';

/** Opens the core client; option errors from the library become usage errors (exit 2). */
export function openClient(command: string, connection: Connection, ttlSec?: number): LockedClient {
  try {
    return new LockedClient({ ...connection, ...(ttlSec !== undefined ? { ttl: ttlSec } : {}) });
  } catch (err) {
    if (err instanceof TypeError || err instanceof RangeError) throw new UsageError(`${command}: ${err.message}`);
    throw err;
  }
}

/** The exit code for an error that ends a command. */
export function exitCodeFor(err: unknown): number {
  if (isUsageError(err)) return EXIT.USAGE;
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (isLockedError(e, 'PERMISSION')) return EXIT.PERMISSION;
  }
  return EXIT.FAILURE;
}

/** One line, no stack: what went wrong, with the cause's message when it adds something. */
export function oneLine(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  let text = err.message;
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && !text.includes(cause.message)) text += `: ${cause.message}`;
  return text.replace(/\s*\n\s*/g, ' ').replace(/[\s:.]*(Resolution note:)?[\s:]*$/, '');
}
