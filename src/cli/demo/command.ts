import { writeFileSync } from 'node:fs';
import { etcdBuild } from '../../testing/etcd-binary.js';
import { EXIT, signalExitCode } from '../exit-codes.js';
import { DEMO_HELP } from '../help.js';
import { UsageError, parseFlags, type FlagSpec } from '../usage.js';
import { Demo } from './demo.js';
import { summaryLines } from './summary.js';
import { timelineSvg } from './timeline-svg.js';
import { LiveView } from './view.js';

export const FLAGS: FlagSpec = {
  duration: { type: 'string' },
  candidates: { type: 'string' },
  ttl: { type: 'string' },
  timeline: { type: 'string' },
  etcd: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** `locked demo`: exit 0 when the split-brain check passed, 1 when it did not. */
export async function demoCommand(args: readonly string[]): Promise<number> {
  const name = 'locked demo';
  const { flags } = parseFlags(name, args, FLAGS);
  if (flags.boolean('help')) {
    process.stdout.write(DEMO_HELP);
    return EXIT.OK;
  }
  const durationSec = flags.integer('duration', 36, 5, 3600);
  const candidates = flags.integer('candidates', 5, 2, 9);
  const ttlSec = flags.integer('ttl', 2, 1, 30);
  const timeline = flags.string('timeline');
  if (timeline !== undefined && !timeline.toLowerCase().endsWith('.svg')) {
    throw new UsageError(`${name}: --timeline must name an .svg file, got ${JSON.stringify(timeline)}`);
  }
  // --etcd picks the etcd build the demo's cluster runs (as LOCKED_ETCD does); checked before anything starts.
  const etcd = flags.string('etcd');
  try {
    if (etcd !== undefined) process.env.LOCKED_ETCD = etcdBuild({ LOCKED_ETCD: etcd });
    else etcdBuild();
  } catch {
    const got = etcd === undefined ? `LOCKED_ETCD=${JSON.stringify(process.env.LOCKED_ETCD)}` : JSON.stringify(etcd);
    throw new UsageError(`${name}: --etcd (or LOCKED_ETCD) must be 3.4, 3.5 or 3.5-sid, got ${got}`);
  }

  const view = new LiveView(process.stdout);
  const demo = new Demo(
    {
      durationMs: durationSec * 1000,
      candidates,
      ttlSec,
      path: '/locked-demo',
      // After a crash, pause or cut the successor leads within two TTLs (lease expiry, then its hold-off).
      faultEveryMs: 2 * ttlSec * 1000 + 2000,
      firstFaultAfterMs: 3000,
    },
    view,
  );
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    interrupts++;
    if (interrupts === 1) {
      view.note(`${signal}: stopping the faults, restoring and judging what was recorded (again to quit at once)`);
      demo.interrupt();
      return;
    }
    demo.killNow();
    view.close();
    process.exit(signalExitCode(signal)); // etcd members are SIGKILLed by EtcdCluster's exit hook
  };
  const onExit = (): void => demo.killNow();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', onExit);
  try {
    const report = await demo.run();
    view.close();
    process.stdout.write(`\n${summaryLines(report).join('\n')}\n`);
    if (timeline !== undefined) {
      const title = `locked demo: who led when (${report.candidates.length} candidates, 3-member etcd, ttl ${ttlSec} s) · split-brain check ${report.verdict.ok ? 'OK' : 'FAILED'}`;
      writeFileSync(timeline, timelineSvg(report, title));
      process.stdout.write(`timeline written to ${timeline}\n`);
    }
    if (!report.verdict.ok || report.rejectedSamples > 0) return EXIT.FAILURE;
    return report.interrupted ? signalExitCode('SIGINT') : EXIT.OK;
  } finally {
    view.close();
    await demo.teardown();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', onExit);
  }
}
