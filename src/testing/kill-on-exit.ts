import type { ChildProcess } from 'node:child_process';

/** Children still running, killed by PID when this process exits (a test that died first leaves no etcd behind). */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) {
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
  });
}

/** Tracks `child` until it exits; if this process exits first, the child is killed by PID (SIGKILL). */
export function killOnExit(child: ChildProcess): void {
  installExitHook();
  live.add(child);
  child.on('exit', () => live.delete(child));
}
