import { spawn, type ChildProcess } from 'node:child_process';
import { sharedNow, type LeadershipRecorder } from '../../src/testing/history.js';
import { killOnExit } from '../../src/testing/kill-on-exit.js';
import type { ChildBuild } from './child-build.js';
import type { CandidateConfig, CandidateMessage, CandidateMode, FenceMessage, HarnessMessage } from './protocol.js';

export interface CandidateOptions {
  readonly id: string;
  readonly mode: CandidateMode;
  readonly endpoints: string[];
  readonly path: string;
  readonly ttlSec: number;
  readonly sampleMs?: number;
  readonly heartbeatMs?: number;
  readonly experiment?: CandidateConfig['experiment'];
  readonly diagnose?: boolean;
  readonly fence?: CandidateConfig['fence'];
  /** Receives the candidate's fence reports (with `fence`). */
  readonly onFence?: (candidate: string, message: FenceMessage) => void;
}

/**
 * The harness side of one candidate process: spawns it (tracked by PID), feeds
 * its samples to the lane's recorder, keeps its latest reported state, and
 * pauses (SIGSTOP), resumes, stops (resign, then exit) or kills (SIGKILL) it.
 */
export class CandidateProcess {
  readonly id: string;
  readonly mode: CandidateMode;
  readonly endpoints: string[];
  readonly #child: ChildProcess;
  readonly #recorder: LeadershipRecorder;
  readonly #exited: Promise<void>;
  /** After the exit, once its IPC channel and stderr are closed too (every message it sent was delivered). */
  readonly #closed: Promise<void>;
  readonly #onFence: CandidateOptions['onFence'];
  /** Latest reported leadership sample. */
  selected = false;
  token: string | null = null;
  /** Who this candidate believes leads. */
  view: string | null = null;
  /** sharedNow() of the latest message (a stopped or paused process goes quiet). */
  lastReportAt = -Infinity;
  ready = false;
  paused = false;
  exited = false;
  readonly errors = new Map<string, number>();
  readonly lastErrors: string[] = [];
  /** Every STALE_VIEW report (diagnose mode), with its time. */
  readonly staleViews: { atMs: number; message: string }[] = [];
  stderr = '';

  private constructor(build: ChildBuild, options: CandidateOptions, recorder: LeadershipRecorder) {
    this.id = options.id;
    this.mode = options.mode;
    this.endpoints = options.endpoints;
    this.#recorder = recorder;
    this.#onFence = options.onFence;
    const config: CandidateConfig = {
      id: options.id,
      mode: options.mode,
      endpoints: options.endpoints,
      path: options.path,
      ttlSec: options.ttlSec,
      sampleMs: options.sampleMs ?? 5,
      heartbeatMs: options.heartbeatMs ?? 100,
      libPath: build.libPath,
      etcd3Path: build.etcd3Path,
      ...(options.experiment ? { experiment: options.experiment } : {}),
      ...(options.diagnose ? { diagnose: true } : {}),
      ...(options.fence ? { fence: options.fence } : {}),
    };
    this.#child = spawn(process.execPath, [build.entry], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: { ...process.env, LOCKED_CHAOS_CANDIDATE: JSON.stringify(config) },
    });
    killOnExit(this.#child); // SIGKILL works on stopped processes too
    this.#child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString()).slice(-4000);
    });
    this.#child.on('message', (message: CandidateMessage) => this.#onMessage(message));
    this.#exited = new Promise((resolve) => {
      this.#child.once('exit', () => {
        this.exited = true;
        resolve();
      });
    });
    this.#closed = new Promise((resolve) => this.#child.once('close', () => resolve()));
  }

  static spawn(build: ChildBuild, options: CandidateOptions, recorder: LeadershipRecorder): CandidateProcess {
    return new CandidateProcess(build, options, recorder);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Alive, not paused, and heard from within `staleMs`. */
  isResponsive(staleMs: number, nowMs = sharedNow()): boolean {
    return this.ready && !this.exited && !this.paused && nowMs - this.lastReportAt <= staleMs;
  }

  #onMessage(message: CandidateMessage): void {
    this.lastReportAt = Math.max(this.lastReportAt, message.at);
    switch (message.t) {
      case 'sample':
        this.selected = message.selected;
        this.token = message.token;
        this.#recorder.sample(this.id, message.selected, message.token, message.at);
        break;
      case 'view':
        this.view = message.leader;
        break;
      case 'error':
        this.errors.set(message.code, (this.errors.get(message.code) ?? 0) + 1);
        this.lastErrors.push(`${message.code}: ${message.message}`);
        if (this.lastErrors.length > 5) this.lastErrors.shift();
        if (message.code === 'STALE_VIEW') this.staleViews.push({ atMs: message.at, message: message.message });
        break;
      case 'ready':
        this.ready = true;
        break;
      case 'fence':
        this.#onFence?.(this.id, message);
        break;
      case 'bye':
        break;
    }
  }

  pause(): void {
    if (this.exited || this.paused || this.pid === undefined) return;
    process.kill(this.pid, 'SIGSTOP');
    this.paused = true;
  }

  resume(): void {
    if (this.exited || !this.paused || this.pid === undefined) return;
    process.kill(this.pid, 'SIGCONT');
    this.paused = false;
  }

  /** SIGKILL (a crash); resolves when the process is gone and its last messages are in. */
  async kill(): Promise<void> {
    if (!this.exited && this.pid !== undefined) {
      try {
        process.kill(this.pid, 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    await this.#exited;
    await this.#closed;
    this.paused = false;
  }

  /** Graceful: the candidate resigns and exits; killed if it takes longer than `timeoutMs`. */
  async stop(timeoutMs = 8000): Promise<void> {
    if (this.exited) return;
    this.resume();
    const message: HarnessMessage = { t: 'stop' };
    if (this.#child.connected) this.#child.send(message);
    const timer = setTimeout(() => void this.kill(), timeoutMs);
    await this.#exited;
    clearTimeout(timer);
    await this.#closed;
  }

  /** The candidate's leadership as last reported is final: a dead process leads no more. */
  get leading(): boolean {
    return !this.exited && this.selected;
  }
}
