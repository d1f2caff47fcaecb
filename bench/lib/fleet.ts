import { fork, type ChildProcess } from 'node:child_process';
import { candidateEntry } from './build.js';
import type { CandidateKind, Command, JoinConfig, Report } from '../candidates/protocol.js';
import { monoMs } from '../candidates/protocol.js';
import { killOnExit } from '../../src/testing/kill-on-exit.js';

/**
 * The candidate processes of one benchmark, and one log of everything they
 * reported, in arrival order. Every child is tracked by PID and killed by PID
 * (on `close()`, and on exit of the benchmark if it dies first).
 */
export interface Entry {
  readonly seq: number;
  /** Which candidate (index in the fleet). */
  readonly who: number;
  readonly report: Report;
}

function killByPid(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export class Candidate {
  readonly who: number;
  readonly kind: CandidateKind;
  readonly #child: ChildProcess;
  readonly exited: Promise<void>;

  constructor(who: number, kind: CandidateKind, child: ChildProcess) {
    this.who = who;
    this.kind = kind;
    this.#child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  get alive(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  send(cmd: Command): void {
    if (this.alive && this.#child.connected) this.#child.send(cmd);
  }

  /** SIGKILL by PID; returns the monotonic ms just before the signal was sent. */
  async crash(): Promise<number> {
    const t = monoMs();
    if (this.#child.pid !== undefined) process.kill(this.#child.pid, 'SIGKILL');
    await this.exited;
    return t;
  }

  /** Asks the child to close its connection and exit; SIGKILL after `graceMs`. */
  async exit(graceMs = 4000): Promise<void> {
    if (!this.alive) return;
    this.send({ op: 'exit' });
    const timer = setTimeout(() => killByPid(this.#child), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

export class Fleet {
  readonly log: Entry[] = [];
  readonly candidates: Candidate[] = [];
  #waiters = new Set<() => void>();
  #nextWho = 0;

  /** Records a report (children's arrive by IPC; candidates the parent drives itself, like etcdctl, add their own). */
  record(who: number, report: Report): void {
    if (report.ev === 'error' && process.env.BENCH_VERBOSE) console.error(`  [candidate ${who}] ${report.message}`);
    this.log.push({ seq: this.log.length, who, report });
    for (const wake of [...this.#waiters]) wake();
  }

  /** Reserves an index for a candidate that is not a child of the fleet (etcdctl). */
  reserve(): number {
    return this.#nextWho++;
  }

  /** Forks `count` candidate processes of `kind`, connected to `endpoints` (connection warmed). */
  async spawn(kind: CandidateKind, endpoints: string, count: number, nodeFlags: string[] = []): Promise<Candidate[]> {
    const made: Candidate[] = [];
    for (let i = 0; i < count; i++) {
      const who = this.#nextWho++;
      const child = fork(candidateEntry(), [kind], {
        execArgv: nodeFlags,
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      });
      killOnExit(child);
      child.on('message', (report: Report) => this.record(who, report));
      const candidate = new Candidate(who, kind, child);
      this.candidates.push(candidate);
      made.push(candidate);
    }
    const from = this.mark();
    try {
      await Promise.all(
        made.map((c) =>
          Promise.race([
            this.next(`candidate ${c.who} up`, (e) => e.who === c.who && e.report.ev === 'up', from, 60_000),
            c.exited.then(() => {
              throw new Error(`candidate ${c.who} (pid ${c.pid}) exited before it was up`);
            }),
          ]),
        ),
      );
    } catch (err) {
      await Promise.all(made.map((c) => c.exit(0)));
      throw err;
    }
    const connectFrom = this.mark();
    for (const c of made) c.send({ op: 'connect', endpoints });
    await Promise.all(
      made.map((c) =>
        this.next(
          `candidate ${c.who} connected`,
          (e) => e.who === c.who && e.report.ev === 'connected',
          connectFrom,
          30_000,
        ),
      ),
    );
    return made;
  }

  /** Has each candidate make a new candidacy (not yet started; value suffixed with its index) and waits until they all did. */
  async join(candidates: Candidate[], config: JoinConfig): Promise<void> {
    const from = this.mark();
    for (const c of candidates) c.send({ op: 'join', config: { ...config, value: `${config.value}-${c.who}` } });
    await Promise.all(
      candidates.map((c) =>
        this.next(`candidate ${c.who} joined`, (e) => e.who === c.who && e.report.ev === 'joined', from, 10_000),
      ),
    );
  }

  /** The position the next report will take; pass it to `next` to see only later reports. */
  mark(): number {
    return this.log.length;
  }

  /** The first report at or after `from` matching `match`, waiting up to `timeoutMs`. */
  next(what: string, match: (e: Entry) => boolean, from: number, timeoutMs: number): Promise<Entry> {
    return new Promise((resolve, reject) => {
      let scanned = from;
      const check = (): boolean => {
        for (; scanned < this.log.length; scanned++) {
          const entry = this.log[scanned]!;
          if (match(entry)) {
            done();
            resolve(entry);
            return true;
          }
        }
        return false;
      };
      const wake = (): void => void check();
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(wake);
      };
      this.#waiters.add(wake);
      check();
    });
  }

  /** Reports of `ev` by `who` since `from`. */
  reports(ev: Report['ev'], who?: number, from = 0): Entry[] {
    return this.log.slice(from).filter((e) => e.report.ev === ev && (who === undefined || e.who === who));
  }

  /** Ends every candidate process (gracefully, then by PID). */
  async close(): Promise<void> {
    await Promise.all(this.candidates.map((c) => c.exit()));
  }
}
