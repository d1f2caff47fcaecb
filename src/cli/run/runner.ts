import { encodeData, type LockedClient, type Term } from '../../api.js';
import { delay, whenAborted } from '../../core/abort.js';
import { Backoff } from '../../core/backoff.js';
import { CampaignRetry } from '../../core/campaign-retry.js';
import { randomOf } from '../../core/clock.js';
import { classify } from '../../transport/classify.js';
import { oneLine } from '../client.js';
import { EXIT, signalExitCode } from '../exit-codes.js';
import type { Log } from '../log.js';
import { RetryLog } from '../retry-log.js';
import type { RunMetrics } from '../metrics.js';
import { StopWindow } from './stop-window.js';
import { SupervisedCommand, type CommandEnd } from './supervised-command.js';

export interface RunConfig {
  readonly path: string;
  readonly id: string;
  readonly value: string;
  readonly graceMs: number;
  readonly restart: boolean;
  readonly command: readonly string[];
  readonly priority: number;
  readonly preemptAfterMs: number;
}

type TermEnd =
  | { readonly kind: 'command'; readonly end: CommandEnd; readonly ranMs: number }
  | { readonly kind: 'lost'; readonly reason: string; readonly heldMs: number }
  | { readonly kind: 'stopped' };

/** A child that ran this long before exiting resets the --restart backoff. */
const STABLE_RUN_MS = 10_000;

/**
 * `locked run`: campaigns, runs the command only while leading, stops it
 * (SIGTERM, SIGKILL after the grace) no later than the term's validity
 * deadline, resigns after the command is gone, and campaigns again after a lost
 * term. `run()` resolves with the exit code: the command's own when it exited
 * by itself, 128+N when the runner was stopped by signal N.
 */
export class Runner {
  readonly #client: LockedClient;
  readonly #config: RunConfig;
  readonly #log: Log;
  readonly #metrics: RunMetrics | null;
  readonly #stop = new AbortController();
  readonly #hurry = new AbortController();
  #stopSignal: NodeJS.Signals = 'SIGTERM';
  #command: SupervisedCommand | null = null;

  constructor(client: LockedClient, config: RunConfig, log: Log, metrics: RunMetrics | null) {
    this.#client = client;
    this.#config = config;
    this.#log = log;
    this.#metrics = metrics;
  }

  /** First SIGTERM/SIGINT: stop the command within the grace, resign, exit. A second one: SIGKILL it now. */
  requestStop(signal: NodeJS.Signals): void {
    if (!this.#stop.signal.aborted) {
      this.#stopSignal = signal;
      this.#log.info(`${signal} received: stopping`);
      this.#stop.abort(new Error(`${signal} received`));
    } else if (!this.#hurry.signal.aborted) {
      this.#log.info(`${signal} received again: killing the command now`);
      this.#hurry.abort(new Error(`${signal} received twice`));
    }
  }

  /** Passes `signal` on to the running command (dropped, with a note, when none runs). */
  forward(signal: NodeJS.Signals): void {
    if (!this.#command?.signal(signal)) this.#log.info(`${signal} not forwarded: the command is not running`);
  }

  /** Last resort on abnormal exit of the runner: SIGKILL the command's group synchronously. */
  killNow(): void {
    this.#command?.killGroup();
  }

  async run(): Promise<number> {
    const { path, id, value, restart } = this.#config;
    const election = this.#client.election(path);
    const data = encodeData(id, value);
    const clock = this.#client.clock;
    const retry = new CampaignRetry(election.session.ttlSec, randomOf(clock));
    const restartBackoff = new Backoff(500, 10_000, randomOf(clock));
    const failures = new RetryLog(this.#log, 2_000, () => clock.now());
    for (;;) {
      if (this.#stop.signal.aborted) return signalExitCode(this.#stopSignal);
      let term: Term;
      try {
        this.#log.info(`campaigning for ${path} as ${JSON.stringify(id)}`);
        const { priority, preemptAfterMs } = this.#config;
        term = await election.campaign(data, { signal: this.#stop.signal, priority, preemptAfterMs });
        failures.recovered();
      } catch (err) {
        if (this.#stop.signal.aborted) return signalExitCode(this.#stopSignal);
        const next = retry.next({ kind: 'failed', error: classify(err, 'campaign') });
        if (next.kind === 'stop') throw next.error; // exit 4 (PERMISSION) or 1, with the message
        failures.failed('campaign failed', err);
        await delay(next.afterMs, this.#stop.signal, clock).catch(() => undefined);
        continue;
      }
      const end = await this.#hold(term);
      await term
        .resign()
        .catch((err: unknown) => this.#log.warn(`resign failed (the lease expiry will do): ${oneLine(err)}`));
      if (end.kind === 'stopped') return signalExitCode(this.#stopSignal);
      if (end.kind === 'lost') {
        // A term lost at once (renewals late, etcd flapping) must not turn into a tight campaign loop.
        const next = retry.next({ kind: 'ended', heldMs: end.heldMs });
        const wait = next.kind === 'again' ? next.afterMs : 0;
        this.#log.info(`leadership lost (${end.reason}); campaigning again in ${Math.round(wait)} ms`);
        await delay(wait, this.#stop.signal, clock).catch(() => undefined);
        continue;
      }
      retry.reset();
      const code = exitCodeOf(end.end);
      if (end.end.kind === 'spawn-failed') {
        this.#log.warn(`cannot start ${this.#config.command[0] ?? ''}: ${end.end.message}`);
        return code;
      }
      if (!restart || this.#stop.signal.aborted) {
        this.#log.info(`command exited with code ${code}; resigned`);
        return code;
      }
      if (end.ranMs >= STABLE_RUN_MS) restartBackoff.reset();
      const wait = restartBackoff.next();
      this.#log.info(`command exited with code ${code}; --restart: campaigning again in ${Math.round(wait)} ms`);
      await delay(wait, this.#stop.signal, clock).catch(() => undefined);
    }
  }

  /** One term: start the command, wait for its end or the end of the window, stop it in time. */
  async #hold(term: Term): Promise<TermEnd> {
    const { path, id, value, graceMs, command } = this.#config;
    const clock = this.#client.clock;
    const window = new StopWindow(term, graceMs, clock);
    const elected = clock.now();
    let offRenewed = (): void => undefined;
    this.#metrics?.isLeader.set(1);
    this.#metrics?.terms.inc();
    this.#metrics?.transitions.inc({ to: 'leader' });
    try {
      if (window.signal.aborted) return { kind: 'lost', reason: window.reason, heldMs: 0 };
      if (this.#stop.signal.aborted) return { kind: 'stopped' };
      this.#log.info(`elected: leading ${path} with token ${term.token}; starting ${command.join(' ')}`);
      const started = clock.now();
      const child = SupervisedCommand.start(command, {
        ...process.env,
        LOCKED_TOKEN: term.token.toString(),
        LOCKED_ID: id,
        LOCKED_PATH: path,
        LOCKED_VALUE: value,
        LOCKED_KEY: term.key,
      });
      this.#command = child;
      child.setDeadline(term.validUntil, clock);
      offRenewed = term.onRenewed(() => {
        if (!window.signal.aborted) child.setDeadline(term.validUntil, clock);
      });
      const first = await Promise.race([
        child.ended.then((end) => ({ kind: 'command' as const, end })),
        whenAborted(window.signal).then(() => ({ kind: 'window' as const })),
        whenAborted(this.#stop.signal).then(() => ({ kind: 'stop' as const })),
      ]);
      if (first.kind === 'command') return { kind: 'command', end: first.end, ranMs: clock.now() - started };
      // The stop sequence ends by the validity deadline; when etcd already says the lease is gone, at once.
      const deadline = term.lease.isLive() ? term.validUntil : clock.now();
      const killAt = Math.min(clock.now() + graceMs, deadline);
      const reason = first.kind === 'stop' ? `${this.#stopSignal} received` : window.reason;
      this.#log.info(
        `stopping the command (pid ${child.pid ?? '?'}): ${reason}; SIGTERM now, SIGKILL in ${Math.max(0, Math.round(killAt - clock.now()))} ms at most`,
      );
      this.#metrics?.isLeader.set(0);
      await child.stop(killAt, clock, this.#hurry.signal);
      return first.kind === 'stop' ? { kind: 'stopped' } : { kind: 'lost', reason, heldMs: clock.now() - elected };
    } finally {
      offRenewed();
      this.#command = null;
      window.dispose();
      this.#metrics?.isLeader.set(0);
      this.#metrics?.transitions.inc({ to: 'follower' });
    }
  }
}

function exitCodeOf(end: CommandEnd): number {
  switch (end.kind) {
    case 'exited':
      return end.code ?? (end.signal ? signalExitCode(end.signal) : EXIT.FAILURE);
    case 'spawn-failed':
      return end.errno === 'ENOENT' ? EXIT.NOT_FOUND_COMMAND : EXIT.CANNOT_EXECUTE;
    case 'killed':
      return signalExitCode('SIGKILL');
  }
}
