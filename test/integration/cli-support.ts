/** Shared by the cli-*.test.ts files: start the built CLI (`dist/cli/main.js`) as tracked child processes. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** What it wrote so far. */
  readonly out: { stdout: string; stderr: string };
  /** Resolves with the exit status. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const live = new Set<CliProcess>();

/**
 * Starts `locked ARGS…`. With `group`, it leads a new process group (so the
 * test can SIGKILL the group, as a supervisor would).
 */
export function startCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; group?: boolean } = {},
): CliProcess {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.group ?? false,
  });
  if (child.pid === undefined) throw new Error('cannot start the locked CLI');
  const out = { stdout: '', stderr: '' };
  child.stdout?.on('data', (d: Buffer) => (out.stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out.stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const proc: CliProcess = { child, pid: child.pid, out, exited };
  live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

/** Runs `locked ARGS…` to its end (bounded). */
export async function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = startCli(args, options);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
  const { code } = await proc.exited;
  clearTimeout(timer);
  return { code, stdout: proc.out.stdout, stderr: proc.out.stderr };
}

/** SIGKILLs every CLI process still running (and its group when it leads one), by PID. */
export function killAllCli(): void {
  for (const proc of live) {
    try {
      process.kill(-proc.pid, 'SIGKILL');
    } catch {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/** The etcd variables a caller's shell may set, blanked: a CLI test sees only what it passes. */
export const CLEAN_ENV: NodeJS.ProcessEnv = {
  ETCDCTL_ENDPOINTS: '',
  ETCDCTL_USER: '',
  ETCDCTL_PASSWORD: '',
  LOCKED_PASSWORD: '',
  ETCDCTL_CACERT: '',
  ETCDCTL_CERT: '',
  ETCDCTL_KEY: '',
  ETCDCTL_DIAL_TIMEOUT: '',
  ETCDCTL_COMMAND_TIMEOUT: '',
  ETCDCTL_WRITE_OUT: '',
  ETCDCTL_INSECURE_SKIP_TLS_VERIFY: '',
};

/** Runs the CLI with no etcd environment of the caller leaking in (`env` on top). */
export function runCleanCli(args: readonly string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof runCli> {
  return runCli(args, { env: { ...CLEAN_ENV, ...env } });
}
