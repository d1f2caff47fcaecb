import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Link } from './link.js';
import { CONFIG_ENV, isCandidateMessage, type CandidateConfig, type CandidateMessage } from './protocol.js';

const ENTRY = join(__dirname, 'candidate.js');

/** Where a demo candidate is, from the demo's side. */
export type Presence = 'running' | 'stopping' | 'stopped' | 'crashed' | 'paused';

/**
 * A demo candidate: one process at a time (restarted after a stop or a crash,
 * with the same id), tracked by PID, in its own process group so that if the
 * demo dies while the candidate is SIGSTOPped, the kernel's orphaned-group
 * rule (SIGHUP + SIGCONT) still ends it. Its leadership as last reported is
 * kept here for the live view; the history goes to the recorder via `onMessage`.
 */
export class DemoCandidate {
  readonly id: string;
  readonly link: Link;
  readonly #config: Omit<CandidateConfig, 'id' | 'endpoints'>;
  readonly #onMessage: (candidate: DemoCandidate, message: CandidateMessage) => void;
  #process: ChildProcess | null = null;
  #exited: Promise<void> = Promise.resolve();
  presence: Presence = 'stopped';
  /** Last reported leadership (the view; the recorder keeps the history). */
  selected = false;
  token: string | null = null;
  lastError: string | null = null;
  /** Incremented at each start: tells a restarted process's samples from its predecessor's. */
  generation = 0;
  /** The priority its next start runs with. */
  priority = 0;

  constructor(
    id: string,
    link: Link,
    config: Omit<CandidateConfig, 'id' | 'endpoints'>,
    onMessage: (candidate: DemoCandidate, message: CandidateMessage) => void,
  ) {
    this.id = id;
    this.link = link;
    this.#config = config;
    this.#onMessage = onMessage;
  }

  get pid(): number | null {
    return this.#process?.pid ?? null;
  }

  start(): void {
    if (this.#process) return;
    const config: CandidateConfig = {
      ...this.#config,
      id: this.id,
      endpoints: this.link.endpoints,
      priority: this.priority,
    };
    const child = spawn(process.execPath, [ENTRY], {
      stdio: ['ignore', 'ignore', 'ignore', 'ipc'],
      detached: true,
      env: { ...process.env, [CONFIG_ENV]: JSON.stringify(config) },
    });
    this.#process = child;
    this.generation++;
    this.presence = 'running';
    this.selected = false;
    this.token = null;
    child.on('message', (message: unknown) => {
      if (this.#process !== child || !isCandidateMessage(message)) return;
      if (message.t === 'sample') {
        this.selected = message.selected;
        this.token = message.token;
      } else if (message.t === 'error') {
        this.lastError = message.message;
      }
      this.#onMessage(this, message);
    });
    this.#exited = new Promise((resolve) =>
      child.once('exit', () => {
        if (this.#process === child) {
          this.#process = null;
          if (this.presence !== 'crashed') this.presence = 'stopped';
          this.selected = false;
          this.token = null;
        }
        resolve();
      }),
    );
  }

  /** Graceful: SIGTERM (the node resigns), SIGKILL if it is not gone within `timeoutMs`. */
  async stop(timeoutMs = 4000): Promise<void> {
    const child = this.#process;
    if (!child?.pid) return;
    this.resume();
    this.presence = 'stopping';
    signal(child.pid, 'SIGTERM');
    const timer = setTimeout(() => signal(child.pid ?? 0, 'SIGKILL'), timeoutMs);
    await this.#exited;
    clearTimeout(timer);
  }

  /** SIGKILL, and wait for the exit. */
  async crash(): Promise<void> {
    const child = this.#process;
    if (!child?.pid) return;
    this.presence = 'crashed';
    signal(child.pid, 'SIGKILL');
    await this.#exited;
  }

  pause(): void {
    const pid = this.#process?.pid;
    if (pid === undefined || this.presence !== 'running') return;
    signal(pid, 'SIGSTOP');
    this.presence = 'paused';
  }

  resume(): void {
    const pid = this.#process?.pid;
    if (pid === undefined || this.presence !== 'paused') return;
    signal(pid, 'SIGCONT');
    this.presence = 'running';
  }

  /** Synchronous last resort (process exit): SIGCONT and SIGKILL by PID. */
  killNow(): void {
    const pid = this.#process?.pid;
    if (pid === undefined) return;
    signal(pid, 'SIGCONT');
    signal(pid, 'SIGKILL');
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
