import type * as etcd from 'etcd3';
import { LockedClient, isEtcd3Client, type ConnectionOptions } from '../client.js';
import { parseEndpoints } from '../core/endpoints.js';
import type { TimingOptions } from '../core/options.js';
import { describe, electionName, knownKeys, optionalBoolean, ttlSeconds } from '../core/validate.js';
import { checkPreemptAfter, checkPriority } from '../election/campaign-options.js';
import { DEFAULT_PREEMPT_AFTER_MS } from '../election/rank.js';
import { DEFAULT_TTL_SEC, resolveTiming } from '../core/options.js';
import type { Session } from '../session/session.js';
import { checkDataSize, checkId, encodeData, valueToString } from './data.js';
import { LockedNode } from './node.js';
import { generateId, type NodeBinding } from './node-config.js';

/** Options of `locked(hosts, options)`: connection and timing shared by the locker's nodes. */
export interface LockerOptions extends ConnectionOptions, Omit<TimingOptions, 'ttl'> {}

/** The seed's node options (`locker(opts)` / `locker(path, opts)`). */
export interface NodeOptions {
  /** This node's id; generated when blank. Must not contain ':::'. */
  id?: string;
  /** The election's name, e.g. '/master'. Keys live under `path + '/'`. */
  path?: string;
  /** This node's value: a string or a finite number. Default ''. */
  value?: string | number;
  /** Lease TTL in seconds (> 0, at most 2,147,483). Default 10. Renewed every ttl/3. */
  ttl?: number;
  /** The seed stopped for good on the first error; true restores that. Default false: keep trying. */
  stopOnError?: boolean;
  /**
   * A finite number, default 0: waiting nodes are elected highest first (equal ones in join order), and a
   * node of strictly higher priority than the leader preempts it after `preemptAfterMs` (docs/DESIGN.md, "Priority").
   */
  priority?: number;
  /** How long this node waits behind a lower-priority leader before that leader hands over, in ms. Default 1000. */
  preemptAfterMs?: number;
}

export type Locker = {
  (opts: NodeOptions): LockedNode;
  (path: string, opts?: NodeOptions): LockedNode;
  /** The core client under this locker (elections, observe, fenced writes). */
  readonly client: LockedClient;
  /** Stops this locker's nodes (each resigns), revokes their leases, and closes the connection if locked opened it. */
  close(): Promise<void>;
};

const NODE_KEYS = ['id', 'path', 'value', 'ttl', 'stopOnError', 'priority', 'preemptAfterMs'];
const LOCKER_KEYS = ['tls', 'auth', 'driftRate', 'marginMs', 'requestTimeoutMs'];

interface PooledSession {
  readonly session: Session;
  readonly paths: Set<string>;
}

/**
 * `locked(etcdhosts)` from the seed: `etcdhosts` is a comma-separated string,
 * an array of `host:port` (scheme optional), or an existing etcd3 client.
 * Nodes of one locker with the same ttl share one lease (one keepalive per
 * renewal interval, whatever the number of elections); two nodes of one
 * locker on the same path get separate leases, so they compete as the seed's did.
 */
export function locked(hosts: string | string[] | etcd.Etcd3, options: LockerOptions = {}): Locker {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`locked options must be an object, got ${describe(options)}`);
  }
  knownKeys('locked options', options, LOCKER_KEYS);
  if (hosts === undefined || hosts === null || hosts === '') {
    throw new TypeError(
      `hosts must name at least one etcd endpoint ("host:port,host:port" or an array), got ${describe(hosts)}`,
    );
  }
  if (!isEtcd3Client(hosts)) parseEndpoints(hosts, 'hosts'); // report errors under the seed's name for the field
  const client = new LockedClient({ ...options, endpoints: hosts });
  const pool = new Map<number, PooledSession[]>();
  const nodes = new Set<LockedNode>();

  const bind = (path: string, ttlSec: number) => (): NodeBinding => {
    const sessions = pool.get(ttlSec) ?? [];
    pool.set(ttlSec, sessions);
    let pooled = sessions.find((p) => !p.paths.has(path));
    if (!pooled) {
      pooled = { session: client.session(ttlSec), paths: new Set() };
      sessions.push(pooled);
    }
    const entry = pooled;
    entry.paths.add(path);
    return {
      election: client.election(path, entry.session),
      release: async () => {
        entry.paths.delete(path);
        if (entry.paths.size > 0) return;
        sessions.splice(sessions.indexOf(entry), 1);
        await entry.session.close();
      },
    };
  };

  const locker = ((pathOrOpts: string | NodeOptions, maybeOpts?: NodeOptions): LockedNode => {
    let opts: NodeOptions;
    let path: unknown;
    if (typeof pathOrOpts === 'string') {
      opts = maybeOpts ?? {};
      if (typeof opts !== 'object' || opts === null)
        throw new TypeError(`opts must be an object, got ${describe(opts)}`);
      if (opts.path !== undefined && opts.path !== pathOrOpts) {
        throw new TypeError(
          `path is given twice and differs: ${describe(pathOrOpts)} and opts.path ${describe(opts.path)}`,
        );
      }
      path = pathOrOpts;
    } else {
      if (typeof pathOrOpts !== 'object' || pathOrOpts === null) {
        throw new TypeError(`locker takes (opts) or (path, opts); got ${describe(pathOrOpts)}`);
      }
      opts = pathOrOpts;
      path = opts.path;
    }
    knownKeys('node options', opts, NODE_KEYS);
    const name = electionName('path', path);
    const id = opts.id === undefined || opts.id === '' ? generateId() : checkId('id', opts.id);
    const value = opts.value ?? '';
    checkDataSize('value', encodeData(id, valueToString('value', value)));
    const ttlSec = opts.ttl === undefined ? DEFAULT_TTL_SEC : ttlSeconds('ttl', opts.ttl);
    resolveTiming({ ...client.timing, ttl: ttlSec }, 'node options'); // the ttl must leave room for the margin
    const stopOnError = optionalBoolean('stopOnError', opts.stopOnError, false);
    const priority = opts.priority === undefined ? 0 : checkPriority('priority', opts.priority);
    const preemptAfterMs =
      opts.preemptAfterMs === undefined
        ? DEFAULT_PREEMPT_AFTER_MS
        : checkPreemptAfter('preemptAfterMs', opts.preemptAfterMs);
    const bindSession = bind(name, ttlSec);
    const node: LockedNode = new LockedNode({
      id,
      path: name,
      value,
      ttlSec,
      stopOnError,
      priority,
      preemptAfterMs,
      clock: client.clock,
      bind: () => {
        const binding = bindSession();
        nodes.add(node); // running nodes, so that close() can stop them
        return {
          election: binding.election,
          release: async () => {
            nodes.delete(node);
            await binding.release();
          },
        };
      },
    });
    return node;
  }) as Locker;

  Object.defineProperty(locker, 'client', { value: client, enumerable: true });
  const close = async (): Promise<void> => {
    await Promise.all([...nodes].map((n) => n.stop()));
    await client.close();
  };
  Object.defineProperty(locker, 'close', { value: close, enumerable: true });
  return locker;
}
