import { locked } from '../../api.js';
import { sharedNow } from '../../testing/history.js';
import { LeadershipSampler } from '../../testing/sampler.js';
import { CONFIG_ENV, type CandidateConfig, type CandidateMessage } from './protocol.js';

/**
 * One candidate of `locked demo`, as its own process (so SIGSTOP and SIGKILL
 * hit it for real): a seed-API node (`locked(hosts)(opts)`) in the demo's
 * election. It samples `isSelected()`/`token()` every `sampleMs` and reports
 * each change (with the last sample before it, so intervals end exactly) and a
 * heartbeat. SIGTERM: stop the node (resign), send the last sample, exit.
 * When the demo goes away (IPC closed), it exits at once.
 */
const raw = process.env[CONFIG_ENV];
if (!raw || !process.send) {
  process.stderr.write('locked demo candidate: started by `locked demo` only\n');
  process.exit(2);
}
const config = JSON.parse(raw) as CandidateConfig;

function send(message: CandidateMessage, then?: () => void): void {
  if (process.connected && process.send) process.send(message, undefined, {}, () => then?.());
  else then?.();
}

const locker = locked(config.endpoints);
const node = locker({
  id: config.id,
  path: config.path,
  value: config.id,
  ttl: config.ttlSec,
  priority: config.priority ?? 0,
});

const sampler = new LeadershipSampler(
  () => {
    const selected = node.isSelected();
    return { selected, token: selected ? (node.token()?.toString() ?? null) : null };
  },
  (s) => send({ t: 'sample', selected: s.selected, token: s.token, at: s.at }),
  config.heartbeatMs,
  sharedNow,
);
const sample = (): void => {
  sampler.sample();
};

node.on('select', sample);
node.on('deselect', sample);
node.on('error', (err: unknown) => {
  send({ t: 'error', message: err instanceof Error ? err.message.slice(0, 200) : String(err), at: sharedNow() });
});
void node.start();
const timer = setInterval(sample, config.sampleMs);
sample();

process.on('disconnect', () => process.exit(0));
process.once('SIGTERM', () => {
  const forced = setTimeout(() => process.exit(3), 3000);
  node
    .stop()
    .catch(() => undefined)
    .then(async () => {
      clearInterval(timer);
      sample();
      sampler.flush();
      await locker.close().catch(() => undefined);
      clearTimeout(forced);
      send({ t: 'bye', at: sharedNow() }, () => process.exit(0));
    })
    .catch(() => process.exit(4));
});
