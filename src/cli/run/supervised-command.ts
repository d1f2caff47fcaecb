import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isGuardMessage, sharedClockMs, type DeadlineMessage } from './guard-protocol.js';

/** How a command's run ended. */
export type CommandEnd =
  /** The command exited (by itself or by our signals) with this status. */
  | { readonly kind: 'exited'; readonly code: number | null; readonly signal: NodeJS.Signals | null }
  /** The command could not be started (errno ENOENT → 127, others → 126). */
  | { readonly kind: 'spawn-failed'; readonly errno: string; readonly message: string }
  /** The guard ended without a report: its group was killed before the command's status was known. */
  | { readonly kind: 'killed' };

/** Time source of the stop sequence: monotonic milliseconds (the client's clock). */
export interface StopClock {
  now(): number;
}

const GUARD = join(__dirname, 'guard.js');
const GROUP_GONE_WAIT_MS = 1000;

/**
 * A command started under the guard (guard.ts) in its own process group,
 * tracked by PID: the guard's PID is the group ID. The command is signalled by
 * its own PID; the final SIGKILL goes to the whole group.
 */
export class SupervisedCommand {
  readonly pgid: number;
  /** Resolves once the guard is gone and the group was given up to a bounded wait to empty. */
  readonly ended: Promise<CommandEnd>;
  readonly #guard: ChildProcess;
  #pid: number | null = null;
  #report: CommandEnd | null = null;
  #done = false;

  private constructor(guard: ChildProcess, pgid: number) {
    this.#guard = guard;
    this.pgid = pgid;
    guard.on('message', (message: unknown) => {
      if (!isGuardMessage(message)) return;
      if (message.type === 'started') this.#pid = message.pid;
      else if (message.type === 'exit') this.#report = { kind: 'exited', code: message.code, signal: message.signal };
      else this.#report = { kind: 'spawn-failed', errno: message.errno, message: message.message };
    });
    this.ended = new Promise<CommandEnd>((resolve) => {
      guard.once('exit', () => {
        // Whatever is left of the group (the guard itself died some other way) goes with it.
        tryKill(-pgid, 'SIGKILL');
        this.#done = true;
        this.#pid = null;
        void waitGroupGone(pgid, GROUP_GONE_WAIT_MS).then(() => resolve(this.#report ?? { kind: 'killed' }));
      });
    });
  }

  /** Starts `argv` under a guard with `env`, stdio inherited. */
  static start(argv: readonly string[], env: NodeJS.ProcessEnv): SupervisedCommand {
    const guard = spawn(process.execPath, [GUARD, ...argv], {
      detached: true,
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
      env,
    });
    if (guard.pid === undefined) {
      // spawn reports its failure asynchronously; a node that cannot start is a broken install
      throw new Error(`cannot start ${process.execPath} for the command's guard`);
    }
    return new SupervisedCommand(guard, guard.pid);
  }

  /** The command's PID once it started (null before, and after the end). */
  get pid(): number | null {
    return this.#pid;
  }

  get running(): boolean {
    return !this.#done;
  }

  /** Sends `signal` to the command itself; false when it is not running (or not started yet). */
  signal(signal: NodeJS.Signals): boolean {
    if (this.#done || this.#pid === null) return false;
    return tryKill(this.#pid, signal);
  }

  /**
   * Tells the guard to SIGKILL the group at `killAt` (ms on `clock`) unless a
   * later deadline follows: the term's end is enforced even if the runner stalls.
   */
  setDeadline(killAt: number, clock: StopClock): void {
    if (this.#done || !this.#guard.connected) return;
    const message: DeadlineMessage = { type: 'deadline', killAtMs: killAt - clock.now() + sharedClockMs() };
    this.#guard.send(message, (err) => {
      if (err) this.killGroup(); // the guard cannot hold the deadline: end the term's processes now
    });
  }

  /** SIGKILL to the whole group: the guard, the command and whatever it started. Synchronous. */
  killGroup(): void {
    if (!this.#done) tryKill(-this.pgid, 'SIGKILL');
  }

  /**
   * The stop sequence: SIGTERM to the command now (to the group if its PID is
   * not known yet), SIGKILL to the group at `killAt` (monotonic ms) or as soon
   * as `hurry` aborts, whichever comes first. Resolves when the guard is gone.
   */
  async stop(killAt: number, clock: StopClock, hurry?: AbortSignal): Promise<CommandEnd> {
    this.setDeadline(killAt, clock);
    if (!this.signal('SIGTERM') && !this.#done) tryKill(-this.pgid, 'SIGTERM');
    const kill = (): void => this.killGroup();
    const timer = setTimeout(kill, Math.max(0, killAt - clock.now()));
    hurry?.addEventListener('abort', kill, { once: true });
    if (hurry?.aborted) kill();
    try {
      return await this.ended;
    } finally {
      clearTimeout(timer);
      hurry?.removeEventListener('abort', kill);
    }
  }
}

function tryKill(pid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false; // ESRCH: already gone
  }
}

/**
 * Polls until no process of group `pgid` can run any more. Members killed by
 * SIGKILL run no user code after the kill, but an orphan stays a zombie (still
 * in the group) until its reaper collects it, which can take a while; on Linux
 * zombies are told apart through /proc.
 */
async function waitGroupGone(pgid: number, timeoutMs: number): Promise<void> {
  const until = performance.now() + timeoutMs;
  while (tryKill(-pgid, 0) && hasRunnableMember(pgid) && performance.now() < until) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Whether group `pgid` has a member that is not a zombie (true when /proc cannot tell). */
function hasRunnableMember(pgid: number): boolean {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return true;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // "pid (comm) state ppid pgrp …"; comm may contain spaces and parentheses
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z') return true;
  }
  return false;
}
