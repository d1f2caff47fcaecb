import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A child process whose stdout JSON lines are collected; tracked by PID and killed by PID. */
export class ChildCandidate {
  readonly lines: Record<string, unknown>[] = [];
  readonly process: ChildProcess;
  #exited: Promise<number | null>;

  constructor(command: string, args: string[]) {
    this.process = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    this.#exited = new Promise((resolve) => this.process.once('exit', (code) => resolve(code)));
    createInterface({ input: this.process.stdout! }).on('line', (line) => {
      try {
        this.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        this.lines.push({ event: 'text', text: line });
      }
    });
  }

  events(event: string): Record<string, unknown>[] {
    return this.lines.filter((l) => l.event === event);
  }

  get alive(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.alive || this.process.pid === undefined) return;
    process.kill(this.process.pid, signal);
    await this.#exited;
  }
}

/** The shared monotonic clock of the fixtures (ms). */
export function monotonicNow(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
