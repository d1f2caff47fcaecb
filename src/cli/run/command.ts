import { hostname } from 'node:os';
import { SEPARATOR, type LockedClient } from '../../api.js';
import { resolveTiming } from '../../core/options.js';
import { exitCodeFor, oneLine, openClient } from '../client.js';
import { CONNECTION_FLAGS, connectionFrom } from '../connection.js';
import { EXIT } from '../exit-codes.js';
import { RUN_HELP } from '../help.js';
import { Log } from '../log.js';
import { RunMetrics, parseMetricsAddress, serveMetrics, type MetricsServer } from '../metrics.js';
import { UsageError, parseFlags, splitCommand, type FlagSpec } from '../usage.js';
import { checkGrace, defaultGraceMs } from './grace.js';
import { rankFrom } from './rank-flags.js';
import { commandProblem } from './resolve-command.js';
import { Runner } from './runner.js';

export const FLAGS: FlagSpec = {
  ...CONNECTION_FLAGS,
  path: { type: 'string' },
  id: { type: 'string' },
  value: { type: 'string' },
  ttl: { type: 'string' },
  grace: { type: 'string' },
  priority: { type: 'string' },
  'preempt-after': { type: 'string' },
  restart: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'metrics-port': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const DEFAULT_TTL_SEC = 10;
const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
const FORWARDED_SIGNALS = ['SIGHUP', 'SIGUSR1', 'SIGUSR2'] as const;

/** `locked run …`: returns the exit code. */
export async function runCommand(args: readonly string[]): Promise<number> {
  const name = 'locked run';
  const [head, command] = splitCommand(name, args, FLAGS);
  const { flags } = parseFlags(name, head, FLAGS);
  if (flags.boolean('help')) {
    process.stdout.write(RUN_HELP);
    return EXIT.OK;
  }
  const path = flags.electionPath();
  const program = command[0];
  if (program === undefined || program === '') {
    throw new UsageError(`${name}: give the command to run after --, e.g. ${name} --path /job -- ./serve.sh`);
  }
  const id = flags.string('id') ?? `${hostname()}-${process.pid}`;
  if (id.includes(SEPARATOR))
    throw new UsageError(`${name}: --id must not contain "${SEPARATOR}", got ${JSON.stringify(id)}`);
  const value = flags.string('value') ?? '';
  const ttlSec = flags.integer('ttl', DEFAULT_TTL_SEC, 1, 86_400);
  const connection = connectionFrom(flags, process.env, null);
  const { priority, preemptAfterMs } = rankFrom(name, flags, process.env);
  const metricsText = flags.string('metrics-port');
  const metricsAddress = metricsText === undefined ? null : parseMetricsAddress(name, metricsText);
  const timing = resolveTiming({ ttl: ttlSec }); // the client's, for the grace's check before connecting
  const graceText = flags.string('grace');
  const graceMs = graceText === undefined ? defaultGraceMs(timing) : flags.integer('grace', 0, 0);
  checkGrace(name, graceMs, timing);
  // A typo in CMD must not cost a term: refuse it before campaigning, with the shell's code.
  const problem = commandProblem(program);
  if (problem) {
    process.stderr.write(`${name}: ${problem.message}\n`);
    return problem.code;
  }
  const client = await openClient(name, connection, ttlSec);

  const log = new Log(name, flags.boolean('quiet'));
  const sessionLive = (): boolean => client.election(path).session.current() !== null;
  const metrics = metricsAddress ? new RunMetrics(path, sessionLive) : null;
  const runner = new Runner(
    client,
    { path, id, value, graceMs, restart: flags.boolean('restart'), command, priority, preemptAfterMs },
    log,
    metrics,
  );
  const onStop = (signal: NodeJS.Signals): void => runner.requestStop(signal);
  const onForward = (signal: NodeJS.Signals): void => runner.forward(signal);
  const onExit = (): void => runner.killNow();
  for (const s of STOP_SIGNALS) process.on(s, onStop);
  for (const s of FORWARDED_SIGNALS) process.on(s, onForward);
  process.on('exit', onExit);
  let server: MetricsServer | null = null;
  const stopTracking: (() => void)[] = [];
  try {
    if (metrics && metricsAddress) {
      stopTracking.push(...track(client, path, metrics));
      server = await serveMetrics(metricsAddress, metrics.registry, sessionLive);
      log.info(`metrics on http://${metricsAddress.host}:${server.port}/metrics, health on /healthz`);
    }
    return await runner.run();
  } catch (err) {
    log.warn(oneLine(err));
    return exitCodeFor(err);
  } finally {
    for (const off of stopTracking) off();
    await server?.close();
    await client.close();
    for (const s of STOP_SIGNALS) process.off(s, onStop);
    for (const s of FORWARDED_SIGNALS) process.off(s, onForward);
    process.off('exit', onExit);
  }
}

/** Feeds the metrics from the session (renew latency, liveness) and a leader tracker (failovers, token). */
function track(client: LockedClient, path: string, metrics: RunMetrics): (() => void)[] {
  const election = client.election(path);
  const session = election.session;
  const { driftRate, marginMs } = client.timing;
  const offRenewed = session.renewed.add((lease) => {
    // A renewal sets validUntil = sentAt + ttl×(1−drift) − margin (deadline.ts), so the send time is recoverable.
    const sentAt = lease.validUntil - (lease.ttlSec * 1000 * (1 - driftRate) - marginMs);
    metrics.renewLatency.observe(Math.max(0, client.clock.now() - sentAt) / 1000);
  });
  let previous: string | null = null;
  const tracker = election.track((leader) => {
    metrics.leaderToken.set(leader ? Number(leader.token) : 0);
    if (!leader) return;
    if (previous !== null && leader.key !== previous) metrics.failovers.inc();
    previous = leader.key;
  });
  return [offRenewed, () => tracker.close()];
}
