import { spawn } from 'node:child_process';
import { isDeadlineMessage, sharedClockMs, type GuardMessage } from './guard-protocol.js';

/**
 * The guard: a tiny process between `locked run` and its command. The runner
 * starts it as the leader of a new process group (and session); the command
 * and everything it starts inherit that group, so one SIGKILL to the group
 * reaches grandchildren too.
 *
 * The guard is a dead man's switch, twice over. It holds an IPC channel to the
 * runner: when that channel closes — the runner exited, crashed or was
 * SIGKILLed, so nobody is watching the term any more — it SIGKILLs the whole
 * group at once, itself included. And it holds the term's deadline, which the
 * runner sends at the start and after each renewal (on the machine-wide
 * monotonic clock): if the runner stalls (SIGSTOP, a blocked event loop) and
 * the deadline passes, the guard SIGKILLs the group by itself. When the
 * command exits by itself, the guard reports the status and also kills the
 * group, so no grandchild outlives the term. Signals sent to the guard are
 * ignored: the runner signals the command by its PID (SIGTERM first), and
 * kills the group at the end of the grace.
 */
const [command, ...args] = process.argv.slice(2);

function killGroup(): never {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    // not a group leader (started by hand): nothing else to kill
  }
  process.exit(137);
}

function send(message: GuardMessage, then: () => void): void {
  if (!process.send || !process.connected) {
    then();
    return;
  }
  process.send(message, undefined, {}, () => then());
}

if (!process.send || command === undefined) {
  process.stderr.write('locked guard: start me through `locked run`\n');
  process.exit(70);
}

process.on('disconnect', killGroup);
let deadline: ReturnType<typeof setTimeout> | null = null;
process.on('message', (message: unknown) => {
  if (!isDeadlineMessage(message)) return;
  if (deadline) clearTimeout(deadline);
  deadline = setTimeout(killGroup, Math.max(0, message.killAtMs - sharedClockMs()));
});
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGQUIT'] as const) {
  process.on(signal, () => undefined);
}

const env = { ...process.env };
delete env.NODE_CHANNEL_FD;
delete env.NODE_CHANNEL_SERIALIZATION_MODE;
const child = spawn(command, args, { stdio: 'inherit', env });
child.on('spawn', () => send({ type: 'started', pid: child.pid ?? 0 }, () => undefined));
child.on('error', (err: NodeJS.ErrnoException) => {
  if (child.pid !== undefined) return; // an error after the start (e.g. a failed kill); 'exit' follows
  send({ type: 'spawn-error', errno: err.code ?? 'UNKNOWN', message: err.message }, () => process.exit(127));
});
child.on('exit', (code, signal) => send({ type: 'exit', code, signal }, killGroup));
