import { noop } from 'cockatiel';
import * as etcd from 'etcd3';
import { systemClock, type Clock } from './core/clock.js';
import { parseEndpoints } from './core/endpoints.js';
import { resolveTiming, type Timing, type TimingOptions } from './core/options.js';
import { Semaphore } from './core/semaphore.js';
import { describe, electionName, knownKeys, ttlSeconds } from './core/validate.js';
import { Election } from './election/election.js';
import { TermConfirmations } from './election/term-confirmations.js';
import { TrackerRegistry } from './election/tracker-registry.js';
import { Session } from './session/session.js';
import { warmCodecsOnce } from './transport/codec-warm-up.js';
import { Transport } from './transport/transport.js';
import { WatchHub } from './transport/watch-hub.js';

export interface ConnectionOptions {
  /** TLS material (PEM). Giving `ca` (or an https:// endpoint) turns TLS on. */
  tls?: { ca?: Buffer | string; cert?: Buffer | string; key?: Buffer | string };
  /** etcd user and password. */
  auth?: { username: string; password: string };
}

export interface ClientOptions extends ConnectionOptions, TimingOptions {
  /** Comma-separated string or array of `host:port` (scheme optional), or an existing etcd3 client. */
  endpoints: string | string[] | etcd.Etcd3;
  /** Injected time (tests of pure logic only). */
  clock?: Clock;
}

const KNOWN = ['endpoints', 'tls', 'auth', 'ttl', 'driftRate', 'marginMs', 'requestTimeoutMs', 'clock'];

/**
 * gRPC keepalive so a silently dead connection fails its streams within ~9 s.
 * etcd refuses pings more frequent than its --grpc-keepalive-min-time (5 s by
 * default), so 6 s keeps a margin. Safety never depends on this: it only
 * bounds how long a waiter can sit on a dead watch after a partition heals.
 */
const GRPC_OPTIONS = {
  'grpc.keepalive_time_ms': 6_000,
  'grpc.keepalive_timeout_ms': 3_000,
  'grpc.keepalive_permit_without_calls': 0,
};

export function isEtcd3Client(value: unknown): value is etcd.Etcd3 {
  return (
    value instanceof etcd.Etcd3 ||
    (typeof value === 'object' &&
      value !== null &&
      'leaseClient' in value &&
      'watchClient' in value &&
      'kv' in value &&
      typeof (value as { close?: unknown }).close === 'function')
  );
}

/** Builds an etcd3 client from endpoints and connection options, or adopts the one given. */
export function connect(
  endpoints: unknown,
  options: ConnectionOptions,
  requestTimeoutMs: number,
  field = 'endpoints',
): { client: etcd.Etcd3; owned: boolean } {
  if (isEtcd3Client(endpoints)) return { client: endpoints, owned: false };
  const parsed = parseEndpoints(endpoints, field);
  const { tls, auth } = options;
  const useTls = parsed.tls || tls?.ca !== undefined || tls?.cert !== undefined || tls?.key !== undefined;
  const pem = (v: Buffer | string | undefined): Buffer | undefined => (v === undefined ? undefined : Buffer.from(v));
  if (tls !== undefined) checkTls(tls);
  if (
    auth !== undefined &&
    (typeof auth.username !== 'string' || auth.username === '' || typeof auth.password !== 'string')
  ) {
    throw new TypeError(`auth must be { username: non-empty string, password: string }, got ${describe(auth)}`);
  }
  const client = new etcd.Etcd3({
    hosts: parsed.hosts.map((h) => (useTls ? `https://${h}` : h)),
    grpcOptions: GRPC_OPTIONS,
    // etcd3's default per-host circuit breaker (3 failures → 5 s open) keeps failing every call
    // for seconds after a restarted cluster is back; locked retries with its own backoff instead.
    // The default global policy (retry recoverable errors on another host) stays.
    faultHandling: { host: () => noop },
    ...(useTls
      ? {
          credentials: {
            // No CA given: undefined makes gRPC use the system's root certificates.
            rootCertificate: pem(tls?.ca) as Buffer,
            ...(tls?.key ? { privateKey: pem(tls.key) as Buffer } : {}),
            ...(tls?.cert ? { certChain: pem(tls.cert) as Buffer } : {}),
          },
        }
      : {}),
    ...(auth
      ? {
          auth: {
            username: auth.username,
            password: auth.password,
            // etcd3 fetches the token before every call; without a deadline a hung member would stall them all.
            callOptions: () => ({ deadline: new Date(Date.now() + requestTimeoutMs) }),
          },
        }
      : {}),
  });
  return { client, owned: true };
}

const TLS_KEYS = ['ca', 'cert', 'key'];

function checkTls(tls: unknown): void {
  if (typeof tls !== 'object' || tls === null || Array.isArray(tls)) {
    throw new TypeError(`tls must be an object { ca?, cert?, key? } of PEM strings or Buffers, got ${describe(tls)}`);
  }
  knownKeys('tls', tls, TLS_KEYS);
  for (const [field, value] of Object.entries(tls)) {
    if (value !== undefined && typeof value !== 'string' && !Buffer.isBuffer(value)) {
      throw new TypeError(`tls.${field} must be a PEM string or a Buffer, got ${describe(value)}`);
    }
  }
}

function checkClock(clock: unknown): Clock {
  const methods = ['now', 'wallNow', 'setTimer', 'afterPendingIo'] as const;
  if (typeof clock !== 'object' || clock === null || methods.some((m) => typeof (clock as Clock)[m] !== 'function')) {
    throw new TypeError(`clock must be an object with ${methods.join(', ')} methods, got ${describe(clock)}`);
  }
  return clock as Clock;
}

/**
 * The core's entry point: one etcd connection, one multiplexed watch stream,
 * and the sessions and elections made on them.
 *
 *   const client = new LockedClient({ endpoints: '127.0.0.1:2379', ttl: 5 });
 *   const election = client.election('/master');
 *   const term = await election.campaign('my value');
 *   // … work while !term.signal.aborted; fence writes with term.put(…)
 *   await term.resign(); await client.close();
 */
export class LockedClient {
  /** @internal The etcd calls this client makes (the CLI's and tests' way in). */
  readonly transport: Transport;
  /** @internal The one watch stream every watch of this client shares. */
  readonly hub: WatchHub;
  /** @internal The resolved timing options. */
  readonly timing: Timing;
  /** @internal */
  readonly clock: Clock;
  /** Sessions not yet closed; close() closes them. */
  readonly #sessions = new Set<Session>();
  /**
   * Joins (one txn each) in flight at once across this client's elections. 64 keeps a burst of
   * thousands of campaigns within request deadlines on a loaded etcd while costing a lone campaign
   * nothing; `npm run bench` (scale) measures it.
   */
  readonly #admission = new Semaphore(64);
  readonly #trackers: TrackerRegistry;
  /** Each session's leading terms, confirmed after its renewals (one batch read per renewal). */
  readonly #confirmations = new WeakMap<Session, TermConfirmations>();
  /** One transport view per request timeout, shared by the sessions and elections that use it. */
  readonly #transports = new Map<number, Transport>();
  #closed = false;

  constructor(options: ClientOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError(`options must be an object with endpoints, got ${describe(options)}`);
    }
    knownKeys('LockedClient options', options, KNOWN);
    this.timing = resolveTiming(options);
    this.clock = options.clock === undefined ? systemClock : checkClock(options.clock);
    const { client, owned } = connect(options.endpoints, options, this.timing.requestTimeoutMs);
    this.transport = new Transport(client, owned, { requestTimeoutMs: this.timing.requestTimeoutMs });
    warmCodecsOnce(this.transport.pool, (fn) => this.clock.afterPendingIo(fn));
    this.hub = new WatchHub(this.transport, this.clock);
    this.#trackers = new TrackerRegistry(this.clock);
  }

  /** A new session (one lease) with this client's timing, or another TTL (same rules as `ttl`). */
  session(ttlSec: number = this.timing.ttlSec): Session {
    const timing =
      ttlSec === this.timing.ttlSec
        ? this.timing
        : resolveTiming({ ...this.timing, ttl: ttlSeconds('session ttlSec', ttlSec) }, 'session');
    const session = new Session(this.#transportFor(ttlSec), { ...timing, clock: this.clock });
    // A keepalive failure hints that connections are in trouble: make the watch stream prove itself.
    session.errors.add(() => this.hub.probe());
    // A closed session is forgotten (a locker makes one per node it starts alone on its lease).
    this.#sessions.add(session);
    session.closed.add(() => this.#sessions.delete(session));
    return session;
  }

  /**
   * An election on `name` (non-empty, no trailing "/": its keys live under
   * `name + "/"`), campaigning with `session` (default: a session shared by
   * this client's elections).
   */
  election(name: string, session?: Session): Election {
    electionName('election name', name);
    if (session !== undefined && !(session instanceof Session)) {
      throw new TypeError(`election session must be a Session from client.session(), got ${describe(session)}`);
    }
    session ??= this.#defaultSession();
    const transport = this.#transportFor(session.ttlSec);
    let confirmations = this.#confirmations.get(session);
    if (!confirmations) {
      confirmations = new TermConfirmations(session, transport);
      this.#confirmations.set(session, confirmations);
    }
    return new Election(
      {
        transport,
        hub: this.hub,
        admission: this.#admission,
        trackers: this.#trackers,
        clock: this.clock,
        driftRate: this.timing.driftRate,
        confirmations,
      },
      session,
      name,
    );
  }

  /**
   * Requests made for a session of `ttlSec` time out after a third of the TTL
   * (at least 1 s, at most requestTimeoutMs): a call stuck on a hung member is
   * abandoned and retried (on another member) well before the lease needs renewing.
   */
  #transportFor(ttlSec: number): Transport {
    const timeoutMs = Math.min(this.timing.requestTimeoutMs, Math.max(1000, (ttlSec * 1000) / 3));
    if (timeoutMs === this.transport.requestTimeoutMs) return this.transport;
    let view = this.#transports.get(timeoutMs);
    if (!view) {
      view = this.transport.withTimeout(timeoutMs);
      this.#transports.set(timeoutMs, view);
    }
    return view;
  }

  #shared: Session | null = null;
  #defaultSession(): Session {
    this.#shared ??= this.session();
    return this.#shared;
  }

  /** Revokes every session's lease (resigning all their terms) and closes the connection if we opened it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#sessions].map((s) => s.close()));
    this.hub.close();
    this.transport.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
