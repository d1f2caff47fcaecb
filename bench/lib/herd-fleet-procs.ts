import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { killOnExit } from '../../src/testing/kill-on-exit.js';
import type { Command, LockerCounters, Reply, Results } from './herd-fleet-protocol.js';

const CHILD = join(__dirname, '..', 'herd-fleet-child.ts');

interface Waiter {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/**
 * One child process of `npm run bench:herd-fleet` (bench/herd-fleet-child.ts under tsx), driven by
 * request and reply over IPC. Killed by PID when it does not exit when told, and when the benchmark exits.
 */
export class LockerProcess {
  readonly index: number;
  readonly up: Promise<void>;
  readonly exited: Promise<void>;
  readonly #child: ChildProcess;
  readonly #waiting = new Map<number, Waiter>();
  #seq = 0;

  constructor(index: number, endpoints: string, path: string) {
    this.index = index;
    this.#child = fork(CHILD, [endpoints, path], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    killOnExit(this.#child);
    this.up = new Promise((resolve, reject) => this.#waiting.set(0, { resolve: () => resolve(), reject }));
    this.exited = new Promise((resolve) =>
      this.#child.once('exit', (code, signal) => {
        const gone = new Error(`locker process ${index} (pid ${this.#child.pid}) exited (${code ?? signal})`);
        for (const w of this.#waiting.values()) w.reject(gone);
        this.#waiting.clear();
        resolve();
      }),
    );
    this.#child.on('message', (reply: Reply) => {
      const waiter = this.#waiting.get(reply.seq);
      if (!waiter) return;
      this.#waiting.delete(reply.seq);
      if (reply.error === undefined) waiter.resolve(reply.result);
      else waiter.reject(new Error(`locker process ${index}: ${reply.error}`));
    });
  }

  call<C extends Command>(cmd: C, timeoutMs = 60_000): Promise<Results[C['op']]> {
    const seq = ++this.#seq;
    return new Promise<Results[C['op']]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(seq);
        reject(new Error(`locker process ${this.index}: no answer to ${cmd.op} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => clearTimeout(timer);
      this.#waiting.set(seq, {
        resolve: (value) => (done(), resolve(value as Results[C['op']])),
        reject: (err) => (done(), reject(err)),
      });
      this.#child.send({ ...cmd, seq });
    });
  }

  /** Asks the process to close its lockers and exit; SIGKILL by PID if it has not after `graceMs`. */
  async exit(graceMs = 10_000): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.call({ op: 'exit' }, graceMs).catch(() => undefined);
    const timer = setTimeout(() => {
      if (this.#child.pid !== undefined && this.#child.exitCode === null) process.kill(this.#child.pid, 'SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Every locker's counters, by its place in the queue, and which process hosts it. */
export type FleetCounters = Map<number, LockerCounters & { readonly proc: number }>;

export async function fleetCounters(procs: LockerProcess[]): Promise<FleetCounters> {
  const out: FleetCounters = new Map();
  const all = await Promise.all(procs.map((p) => p.call({ op: 'counters' })));
  all.forEach((lockers, proc) => {
    for (const c of lockers) out.set(c.k, { ...c, proc });
  });
  return out;
}
