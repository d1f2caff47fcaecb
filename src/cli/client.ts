import type { Etcd3 } from 'etcd3';
import { LockedClient, isLockedError } from '../api.js';
import { connect } from '../client.js';
import type { Connection } from './connection.js';
import { dial } from './dial.js';
import { EXIT } from './exit-codes.js';
import { withoutTlsVerification } from './unverified-tls.js';
import { UsageError, isUsageError } from './usage.js';

/** A core client over an etcd3 client the CLI made itself (unverified TLS), closing both. */
class OwningClient extends LockedClient {
  readonly #etcd: Etcd3;

  constructor(etcd: Etcd3, options: Omit<ConstructorParameters<typeof LockedClient>[0], 'endpoints'>) {
    super({ ...options, endpoints: etcd });
    this.#etcd = etcd;
  }

  override async close(): Promise<void> {
    await super.close();
    this.#etcd.close();
  }
}

/**
 * Opens the core client, after waiting for a TCP connection to etcd when the
 * connection has a dial timeout; option errors from the library become usage
 * errors (exit 2), a failed dial is an etcd failure (exit 1).
 */
export async function openClient(command: string, connection: Connection, ttlSec?: number): Promise<LockedClient> {
  const { client: options, dialTimeoutMs } = connection;
  if (dialTimeoutMs !== null) await dial(connection.hosts, dialTimeoutMs, '--dial-timeout');
  const ttl = ttlSec !== undefined ? { ttl: ttlSec } : {};
  try {
    if (!connection.insecureSkipTlsVerify) return new LockedClient({ ...options, ...ttl });
    const timeout = options.requestTimeoutMs !== undefined ? { requestTimeoutMs: options.requestTimeoutMs } : {};
    const etcd = withoutTlsVerification(() => connect(options.endpoints, options, options.requestTimeoutMs ?? 5000));
    return new OwningClient(etcd.client, { ...ttl, ...timeout });
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
