import { Etcd3 } from 'etcd3';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { buildChild, type ChildBuild } from './child-build.js';
import { TcpProxy } from '../../src/testing/tcp-proxy.js';

/**
 * What every lane of a chaos run shares: a 3-member etcd cluster on loopback
 * (kill / restart / pause a member, find the Raft leader, restart the whole
 * cluster), an admin client connected directly (not through proxies) for
 * noise writes and compaction, the built candidate entry, and "dead members"
 * to put in endpoint lists: one that refuses connections and one that accepts
 * them and never answers.
 */
/** Admin calls carry a deadline: a fault must never hang on an overloaded etcd. */
function adminCall(): { deadline: Date } {
  return { deadline: new Date(Date.now() + 5000) };
}

export class ChaosWorld {
  readonly cluster: EtcdCluster;
  readonly build: ChildBuild;
  readonly admin: Etcd3;
  /** Resets every connection: a member that is down. */
  readonly deadRefusing: TcpProxy;
  /** Accepts and holds every byte: a member that hangs. */
  readonly deadHanging: TcpProxy;
  readonly #proxies = new Set<TcpProxy>();
  #closed = false;

  private constructor(cluster: EtcdCluster, build: ChildBuild, refusing: TcpProxy, hanging: TcpProxy) {
    this.cluster = cluster;
    this.build = build;
    this.admin = new Etcd3({ hosts: cluster.endpoints.split(',') });
    this.deadRefusing = refusing;
    this.deadHanging = hanging;
  }

  static async start(options: { size?: 1 | 3 } = {}): Promise<ChaosWorld> {
    const build = buildChild();
    let cluster: EtcdCluster | null = null;
    try {
      cluster = await EtcdCluster.start({ size: options.size ?? 3 });
      const refusing = await TcpProxy.start(cluster.members[0]!.clientPort);
      refusing.refuse();
      const hanging = await TcpProxy.start(cluster.members[0]!.clientPort);
      hanging.cut('both');
      return new ChaosWorld(cluster, build, refusing, hanging);
    } catch (err) {
      await cluster?.stop();
      build.dispose();
      throw err;
    }
  }

  get size(): number {
    return this.cluster.members.length;
  }

  /** One proxy per member for a new candidate, tracked for `close()`. */
  async proxiesForCandidate(): Promise<TcpProxy[]> {
    const proxies = await Promise.all(this.cluster.members.map((m) => TcpProxy.start(m.clientPort)));
    for (const p of proxies) this.#proxies.add(p);
    return proxies;
  }

  async releaseProxies(proxies: TcpProxy[]): Promise<void> {
    for (const p of proxies) this.#proxies.delete(p);
    await Promise.all(proxies.map((p) => p.close()));
  }

  isRunning(i: number): boolean {
    const m = this.cluster.members[i];
    return !!m?.process && !m.paused;
  }

  async killMember(i: number): Promise<void> {
    await this.cluster.kill(i);
  }

  /** Restarts a killed member and waits until the cluster is healthy. */
  async restartMember(i: number): Promise<void> {
    await this.cluster.restart(i);
  }

  /** The index of the Raft leader. */
  async raftLeader(): Promise<number> {
    return this.cluster.leaderIndex(15_000);
  }

  async killAll(): Promise<void> {
    await Promise.all(this.cluster.members.map((_, i) => this.cluster.kill(i)));
  }

  /** Starts every stopped member at once (one alone has no quorum) and waits for health. */
  async restartAll(): Promise<void> {
    await Promise.all(this.cluster.members.map((_, i) => this.cluster.restart(i)));
  }

  pauseMember(i: number): void {
    this.cluster.pause(i);
  }

  resumeMember(i: number): void {
    this.cluster.resume(i);
  }

  /** The cluster's current revision (a direct read). */
  async revision(): Promise<bigint> {
    const res = await this.admin.kv.range({ key: Buffer.from('\0') }, adminCall());
    return BigInt(res.header.revision);
  }

  /** `n` writes to `key` (advances the revision without touching any election). */
  async noise(key: string, n: number): Promise<void> {
    for (let i = 0; i < n; i++)
      await this.admin.kv.put({ key: Buffer.from(key), value: Buffer.from(String(i)) }, adminCall());
  }

  /** Compacts the history up to the current revision; returns it. */
  async compact(): Promise<bigint> {
    const revision = await this.revision();
    await this.admin.kv.compact({ revision: revision.toString(), physical: false }, adminCall());
    return revision;
  }

  /** Waits until every member runs and the cluster answers a read. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    await this.cluster.waitHealthy(timeoutMs);
    await waitFor('a read through the admin client', () => this.revision().then(() => true), { timeoutMs });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.admin.close();
    await Promise.all([...this.#proxies].map((p) => p.close()));
    await this.deadRefusing.close();
    await this.deadHanging.close();
    await this.cluster.stop();
    this.build.dispose();
  }
}
