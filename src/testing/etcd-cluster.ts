import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, createWriteStream, type WriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureEtcd, type EtcdBinaries, type EtcdBuild } from './etcd-binary.js';
import { freePort } from './free-port.js';
import { killOnExit } from './kill-on-exit.js';
import { waitFor } from './wait-for.js';

/**
 * Throwaway etcd clusters (1 or 3 members) on free loopback ports, data in a
 * temp dir, for tests, the demo and the benchmarks. Every process is tracked by
 * PID and ended by PID: on `stop()`, and on process exit if a test died first.
 * Members can be killed, restarted, paused and resumed; the Raft leader found.
 * The etcd build is the one LOCKED_ETCD names (see etcd-binary.ts): `cluster.build`,
 * `cluster.version`.
 */
export interface MemberInfo {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly metricsPort: number;
  process: ChildProcess | null;
  paused: boolean;
}

export interface ClusterOptions {
  size?: 1 | 3 | 5;
  /** Extra etcd flags for every member, e.g. ['--enable-v2=true']. */
  extraArgs?: string[];
  /** Where members' logs go (default: files in the data dir): `<logDir>/<member name>.log`. */
  logDir?: string;
  /** etcd's --log-level for every member (default 'warn'; 'info' for investigations). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'panic' | 'fatal';
  /**
   * Keep the data dir and the logs after `stop()` (default: removed), to analyse them after a
   * run; the environment variable LOCKED_ETCD_KEEP_LOGS=1 does the same for every cluster.
   */
  keepDir?: boolean;
}

/** A member exited while the cluster waited for it to be healthy (a port taken meanwhile, a bad flag). */
export class MemberExited extends Error {}

export class EtcdCluster {
  readonly members: MemberInfo[];
  readonly dir: string;
  /** The etcd build (LOCKED_ETCD: 3.4, 3.5, 3.5-sid) and the version its `etcd --version` reports. */
  readonly build: EtcdBuild;
  readonly version: string;
  /** The `etcdctl` of the same build. */
  readonly etcdctl: string;
  readonly #binary: string;
  readonly #extraArgs: string[];
  readonly #logDir: string;
  readonly #logLevel: string;
  readonly #keepDir: boolean;
  readonly #token: string;
  #logs: WriteStream[] = [];

  private constructor(members: MemberInfo[], dir: string, binaries: EtcdBinaries, options: ClusterOptions) {
    this.members = members;
    this.dir = dir;
    this.build = binaries.build;
    this.version = binaries.version;
    this.etcdctl = binaries.etcdctl;
    this.#binary = binaries.etcd;
    this.#extraArgs = options.extraArgs ?? [];
    this.#logDir = options.logDir ?? dir;
    this.#logLevel = options.logLevel ?? 'warn';
    this.#keepDir = options.keepDir ?? process.env.LOCKED_ETCD_KEEP_LOGS === '1';
    this.#token = `locked-${process.pid}-${Date.now()}`;
  }

  /**
   * Starts a cluster on free loopback ports. A port picked free may be taken before etcd binds it
   * (tests start clusters in parallel): a member exiting at start starts it again on new ports (3 tries).
   */
  static async start(options: ClusterOptions = {}): Promise<EtcdCluster> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await EtcdCluster.#startOnce(options);
      } catch (err) {
        if (attempt >= 3 || !(err instanceof MemberExited)) throw err;
      }
    }
  }

  static async #startOnce(options: ClusterOptions): Promise<EtcdCluster> {
    const binaries = ensureEtcd();
    const size = options.size ?? 1;
    const dir = mkdtempSync(join(tmpdir(), 'locked-etcd-'));
    const members: MemberInfo[] = [];
    for (let i = 0; i < size; i++) {
      members.push({
        name: `m${i}`,
        clientPort: await freePort(),
        peerPort: await freePort(),
        metricsPort: await freePort(),
        process: null,
        paused: false,
      });
    }
    if (options.logDir !== undefined) mkdirSync(options.logDir, { recursive: true });
    const cluster = new EtcdCluster(members, dir, binaries, options);
    try {
      for (let i = 0; i < size; i++) cluster.#spawn(i, 'new');
      await cluster.waitHealthy();
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** `127.0.0.1:port,…` of every member. */
  get endpoints(): string {
    return this.members.map((m) => `127.0.0.1:${m.clientPort}`).join(',');
  }

  endpoint(i: number): string {
    return `127.0.0.1:${this.#member(i).clientPort}`;
  }

  metricsUrl(i: number): string {
    return `http://127.0.0.1:${this.#member(i).metricsPort}/metrics`;
  }

  /** Member `i`'s log file (etcd's stdout and stderr, appended across restarts). */
  logPath(i: number): string {
    return join(this.#logDir, `${this.#member(i).name}.log`);
  }

  #member(i: number): MemberInfo {
    const member = this.members[i];
    if (!member) throw new RangeError(`member index must be 0..${this.members.length - 1}, got ${i}`);
    return member;
  }

  #spawn(i: number, state: 'new' | 'existing'): void {
    const m = this.#member(i);
    const dataDir = join(this.dir, m.name);
    // 0700, as etcd 3.5 asks (it warns about a data dir others can read)
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const args = [
      ...memberArgs({
        member: { ...m, dataDir },
        peers: this.members,
        state,
        token: this.#token,
        logLevel: this.#logLevel,
      }),
      ...this.#extraArgs,
    ];
    const log = createWriteStream(this.logPath(i), { flags: 'a' });
    this.#logs.push(log);
    const child = spawn(this.#binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    // Each start of a member appends to its log with a stream of its own, ended once the
    // member's stdout and stderr are closed (so that nothing is written after its end).
    child.once('close', () => log.end());
    child.once('error', () => log.end()); // not started at all: no 'close' may follow
    killOnExit(child);
    m.process = child;
    m.paused = false;
  }

  /** Waits until every running member answers /health with a leader; throws MemberExited at once if one exits. */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    for (const [i, m] of this.members.entries()) {
      if (!m.process || m.paused) continue;
      const outcome = await waitFor(
        `etcd member ${m.name} on port ${m.clientPort} to be healthy`,
        async () => {
          if (m.process?.exitCode !== null && m.process?.exitCode !== undefined) return 'exited' as const;
          const res = await fetch(`http://127.0.0.1:${m.clientPort}/health`);
          const body = (await res.json()) as { health?: string };
          return body.health === 'true' ? ('healthy' as const) : null;
        },
        { timeoutMs, intervalMs: 50 },
      );
      if (outcome === 'exited') {
        const code = m.process?.exitCode ?? 'unknown';
        throw new MemberExited(
          `etcd ${this.version} member ${m.name} exited with code ${code}; log in ${this.logPath(i)}`,
        );
      }
    }
  }

  /** Kills member `i` (SIGKILL by default) and waits for its exit. */
  async kill(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const m = this.#member(i);
    const child = m.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (m.paused && child.pid !== undefined) process.kill(child.pid, 'SIGCONT');
    if (child.pid !== undefined) process.kill(child.pid, signal);
    await exited;
    m.process = null;
    m.paused = false;
  }

  /** Restarts a killed member with its data (it rejoins the cluster). */
  async restart(i: number): Promise<void> {
    const m = this.#member(i);
    if (m.process) return;
    this.#spawn(i, 'existing');
    await this.waitHealthy();
  }

  pause(i: number): void {
    const m = this.#member(i);
    if (m.process?.pid === undefined || m.paused) return;
    process.kill(m.process.pid, 'SIGSTOP');
    m.paused = true;
  }

  resume(i: number): void {
    const m = this.#member(i);
    if (m.process?.pid === undefined || !m.paused) return;
    process.kill(m.process.pid, 'SIGCONT');
    m.paused = false;
  }

  /** Index of the member that is the Raft leader now (from members' /metrics `etcd_server_is_leader`). */
  async leaderIndex(timeoutMs = 10_000): Promise<number> {
    return waitFor(
      'an etcd Raft leader',
      async () => {
        for (let i = 0; i < this.members.length; i++) {
          const m = this.members[i]!;
          if (!m.process || m.paused) continue;
          const text = await fetch(this.metricsUrl(i)).then(
            (r) => r.text(),
            () => '',
          );
          if (/^etcd_server_is_leader 1$/m.test(text)) return i + 1;
        }
        return 0;
      },
      { timeoutMs, intervalMs: 50 },
    ).then((n) => n - 1);
  }

  /** Kills every member and removes the data dir (unless `keepDir` or LOCKED_ETCD_KEEP_LOGS=1). Idempotent. */
  async stop(): Promise<void> {
    for (let i = 0; i < this.members.length; i++) await this.kill(i);
    const logs = this.#logs;
    this.#logs = [];
    // every member has exited: wait until its log stream has flushed and closed
    await Promise.all(
      logs.map((log) =>
        log.closed ? Promise.resolve() : new Promise<void>((resolve) => log.once('close', () => resolve())),
      ),
    );
    if (!this.#keepDir) rmSync(this.dir, { recursive: true, force: true });
    else if (logs.length > 0) {
      const where = this.#logDir === this.dir ? this.dir : `${this.dir} (logs in ${this.#logDir})`;
      process.stderr.write(`locked: etcd ${this.version} data and logs kept in ${where}\n`);
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * The flags of one member of a throwaway loopback cluster (100 ms heartbeats, 1 s election timeout,
 * zap logs on stderr). Shared by EtcdCluster and the early-revocation reproduction.
 */
export function memberArgs(options: {
  member: { name: string; dataDir: string; clientPort: number; peerPort: number; metricsPort: number };
  peers: readonly { name: string; peerPort: number }[];
  state: 'new' | 'existing';
  token: string;
  logLevel: string;
}): string[] {
  const { member: m, peers, state, token, logLevel } = options;
  const cluster = peers.map((x) => `${x.name}=http://127.0.0.1:${x.peerPort}`).join(',');
  return [
    `--name=${m.name}`,
    `--data-dir=${m.dataDir}`,
    `--listen-client-urls=http://127.0.0.1:${m.clientPort}`,
    `--advertise-client-urls=http://127.0.0.1:${m.clientPort}`,
    `--listen-peer-urls=http://127.0.0.1:${m.peerPort}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${m.peerPort}`,
    `--listen-metrics-urls=http://127.0.0.1:${m.metricsPort}`,
    `--initial-cluster=${cluster}`,
    `--initial-cluster-state=${state}`,
    `--initial-cluster-token=${token}`,
    '--heartbeat-interval=100',
    '--election-timeout=1000',
    '--logger=zap',
    '--log-outputs=stderr',
    `--log-level=${logLevel}`,
  ];
}
