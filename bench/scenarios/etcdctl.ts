import { spawn, type ChildProcess } from 'node:child_process';
import { ensureEtcd } from '../../src/testing/etcd-binary.js';
import { killOnExit } from '../../src/testing/kill-on-exit.js';
import { monoMs } from '../candidates/protocol.js';
import type { Entry, Fleet } from '../lib/fleet.js';

/**
 * `etcdctl elect <name> <value>` candidates, one process each (etcd's Go
 * concurrency.Election with a 60 s session: etcdctl has no TTL flag). It prints
 * the leader key when elected and resigns on SIGINT. Tracked and ended by PID.
 * Its times include starting the etcdctl process and connecting (a Go binary:
 * measured on its own by `etcdctlStartMs`).
 */
export class EtcdctlCandidate {
  readonly who: number;
  readonly #child: ChildProcess;
  readonly exited: Promise<void>;

  constructor(fleet: Fleet, endpoints: string, name: string, value: string) {
    this.who = fleet.reserve();
    // the etcdctl of the etcd build under test (LOCKED_ETCD)
    const child = spawn(ensureEtcd().etcdctl, [`--endpoints=${endpoints}`, 'elect', name, value], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ETCDCTL_API: '3' },
    });
    killOnExit(child);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let elected = false;
    child.stdout?.on('data', () => {
      if (elected) return;
      elected = true;
      fleet.record(this.who, { ev: 'elected', t: monoMs() });
    });
    child.stderr?.on('data', (chunk: Buffer) =>
      fleet.record(this.who, { ev: 'error', t: monoMs(), message: chunk.toString().trim() }),
    );
    this.#child = child;
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  get alive(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Sends `signal` by PID; returns the monotonic ms just before. */
  signal(signal: NodeJS.Signals): number {
    const t = monoMs();
    if (this.#child.pid !== undefined && this.alive) process.kill(this.#child.pid, signal);
    return t;
  }

  /** SIGINT (etcdctl resigns and exits), SIGKILL by PID after `graceMs`. */
  async end(graceMs = 5000): Promise<void> {
    if (!this.alive) return;
    this.signal('SIGINT');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export interface EtcdctlSample {
  readonly firstLeaderMs: number;
  readonly gracefulMs: number;
  /** Only with `crash`: SIGKILL of the leader → next elected (60 s session). */
  readonly crashMs?: number;
}

const elected = (e: Entry): boolean => e.report.ev === 'elected';

export async function etcdctlRun(
  fleet: Fleet,
  endpoints: string,
  name: string,
  options: { crash: boolean },
): Promise<EtcdctlSample> {
  const from = fleet.mark();
  const t0 = monoMs();
  const candidates = [0, 1, 2].map((i) => new EtcdctlCandidate(fleet, endpoints, name, `etcdctl-${i}`));
  const mine = new Set(candidates.map((c) => c.who));
  try {
    const first = await fleet.next('a first etcdctl leader', (e) => mine.has(e.who) && elected(e), from, 30_000);
    const firstLeaderMs = first.report.t - t0;
    // Let the two others queue (their process start and campaign): a settle, not an ordering.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const leader = candidates.find((c) => c.who === first.who)!;
    const stopMark = fleet.mark();
    const tStop = leader.signal('SIGINT');
    const next = await fleet.next(
      'the next etcdctl leader',
      (e) => mine.has(e.who) && e.who !== leader.who && elected(e),
      stopMark,
      15_000,
    );
    const gracefulMs = next.report.t - tStop;
    if (!options.crash) return { firstLeaderMs, gracefulMs };
    const victim = candidates.find((c) => c.who === next.who)!;
    await new Promise((resolve) => setTimeout(resolve, 500));
    const crashMark = fleet.mark();
    const tKill = victim.signal('SIGKILL');
    const last = await fleet.next(
      'a leader after the etcdctl crash',
      (e) => mine.has(e.who) && e.who !== leader.who && e.who !== victim.who && elected(e),
      crashMark,
      75_000,
    );
    return { firstLeaderMs, gracefulMs, crashMs: last.report.t - tKill };
  } finally {
    await Promise.all(candidates.map((c) => c.end()));
  }
}

/** Time for an etcdctl process to start, connect and answer one read (what its election times include). */
export async function etcdctlStartMs(endpoints: string): Promise<number> {
  const t0 = monoMs();
  await new Promise<void>((resolve, reject) => {
    const child = spawn(ensureEtcd().etcdctl, [`--endpoints=${endpoints}`, 'get', '/bench/warmup'], {
      stdio: 'ignore',
    });
    killOnExit(child);
    const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 10_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`etcdctl get exited with ${code}`));
    });
  });
  return monoMs() - t0;
}
