import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LockedClient, locked, type Locker, type LockedNode } from '../../src/api.js';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { killAllCli, runCli, startCli, type CliProcess } from './cli-support.js';
import { monotonicNow } from './processes.js';

// `locked run --priority` on a 3-member etcd: it preempts a lower leader, shows in
// `locked status`, and the faults around a preemption (the preemptor crashing, the
// leader frozen while asked) never leave two leaders and always recover.
let cluster: EtcdCluster;
const clients: LockedClient[] = [];
const lockers: Locker[] = [];
const nodes: LockedNode[] = [];

beforeAll(async () => {
  cluster = await EtcdCluster.start({ size: 3 });
});
afterEach(async () => {
  killAllCli();
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
  await Promise.all(lockers.splice(0).map((l) => l.close()));
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  killAllCli();
  await cluster?.stop();
});

function client(ttl = 2): LockedClient {
  const c = new LockedClient({ endpoints: cluster.endpoints, ttl });
  clients.push(c);
  return c;
}

/** `locked run` printing "started <token>" when its command starts, in its own process group. */
function run(path: string, ...flags: string[]): CliProcess {
  const command = ['sh', '-c', 'echo started $LOCKED_TOKEN; exec sleep 1000'];
  return startCli(['run', '--endpoints', cluster.endpoints, '--path', path, '--ttl', '2', ...flags, '--', ...command], {
    group: true,
  });
}

async function queued(path: string, count: number): Promise<void> {
  const reader = client();
  await waitFor(
    `${count} candidates in ${path}`,
    async () => (await reader.election(path).candidates()).length === count,
    {
      timeoutMs: 15_000,
    },
  );
}

describe('locked run --priority', () => {
  it('preempts a lower leader after --preempt-after; locked status shows each priority', async () => {
    const path = '/cli-prio/preempt';
    const leader = await client().election(path).campaign('low', { priority: -1 });
    const runner = run(path, '--id', 'high', '--priority', '2.5', '--preempt-after', '300ms');
    await waitFor('the runner leads and starts its command', () => runner.out.stdout.includes('started'), {
      timeoutMs: 15_000,
    });
    expect(leader.signal.aborted).toBe(true);
    const status = await runCli(['status', '--endpoints', cluster.endpoints, '--path', path, '-w', 'json']);
    expect(status.code).toBe(0);
    const shown = JSON.parse(status.stdout) as { leader: { id: string; priority: number } };
    expect(shown.leader).toMatchObject({ id: 'high', priority: 2.5 });
    const text = await runCli(['status', '--endpoints', cluster.endpoints, '--path', path]);
    expect(text.stdout).toMatch(/leader {3}high {2}token \d+ {2}priority 2\.5/);
  });

  it('LOCKED_PRIORITY and LOCKED_PREEMPT_AFTER set the same; bad values exit 2 naming the source', async () => {
    const bad = await runCli([
      'run',
      '--endpoints',
      cluster.endpoints,
      '--path',
      '/cli-prio/bad',
      '--priority',
      'high',
      '--',
      'true',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--priority must be a finite number .*got "high"/);
    const env = await runCli(['run', '--endpoints', cluster.endpoints, '--path', '/cli-prio/bad', '--', 'true'], {
      env: { LOCKED_PRIORITY: 'Infinity' },
    });
    expect(env.code).toBe(2);
    expect(env.stderr).toMatch(/LOCKED_PRIORITY must be a finite number/);
    const after = await runCli(['run', '--endpoints', cluster.endpoints, '--path', '/cli-prio/bad', '--', 'true'], {
      env: { LOCKED_PREEMPT_AFTER: 'soon' },
    });
    expect(after.code).toBe(2);
    expect(after.stderr).toMatch(/LOCKED_PREEMPT_AFTER must be a duration/);
    const path = '/cli-prio/env';
    const leader = await client().election(path).campaign('low');
    const runner = startCli(
      [
        'run',
        '--endpoints',
        cluster.endpoints,
        '--path',
        path,
        '--ttl',
        '2',
        '--',
        'sh',
        '-c',
        'echo started; exec sleep 1000',
      ],
      { env: { LOCKED_PRIORITY: '1', LOCKED_PREEMPT_AFTER: '200ms' }, group: true },
    );
    await waitFor('the runner preempts through its environment', () => runner.out.stdout.includes('started'), {
      timeoutMs: 15_000,
    });
    expect(leader.signal.aborted).toBe(true);
  });

  it('a preemptor that crashes before its preempt-after costs the leader nothing', async () => {
    const path = '/cli-prio/crash-early';
    const leader = await client().election(path).campaign('low');
    const runner = run(path, '--priority', '1', '--preempt-after', '3s');
    await queued(path, 2);
    process.kill(-runner.pid, 'SIGKILL');
    await queued(path, 1); // its key expires with its lease (TTL 2 s)
    expect(leader.isValid()).toBe(true);
    expect(leader.signal.aborted).toBe(false);
  });

  it('a preemptor that crashes as the leader hands over: the leader (a seed node) leads again, one at a time', async () => {
    const path = '/cli-prio/crash-late';
    const l = locked(cluster.endpoints);
    lockers.push(l);
    const node = l({ id: 'seed', path, value: 'v', ttl: 2 });
    nodes.push(node);
    let selected = 0;
    node.on('select', () => selected++);
    await node.start();
    await waitFor('the seed node leads', () => node.isSelected());
    const runner = run(path, '--priority', '1', '--preempt-after', '200ms');
    await waitFor('the seed node is preempted', () => !node.isSelected(), { timeoutMs: 15_000 });
    process.kill(-runner.pid, 'SIGKILL'); // before or just after it took over: its term dies with it
    const killedAt = monotonicNow();
    await waitFor('the seed node leads again', () => node.isSelected(), { timeoutMs: 20_000 });
    // Named heir, the dead runner may have led unclaimed: the seed node waits out its TTL, at most twice.
    expect(monotonicNow() - killedAt).toBeLessThan(2 * 2000 * 1.1 + 3000);
    expect(selected).toBe(2);
  });

  it('a leader frozen (SIGSTOP) while a higher candidate asks it: the candidate leads only after the frozen lease can have expired', async () => {
    const path = '/cli-prio/frozen';
    const runner = run(path, '--id', 'frozen', '--priority', '0');
    await waitFor('the runner leads', () => runner.out.stdout.includes('started'), { timeoutMs: 15_000 });
    process.kill(-runner.pid, 'SIGSTOP');
    const frozenAt = monotonicNow();
    try {
      const term = await client().election(path).campaign('high', { priority: 5, preemptAfterMs: 100 });
      // The frozen leader cannot resign: its key goes with its lease (TTL 2 s), then the successor waits out its
      // deadline (one more TTL, its term record says it did not resign).
      expect(monotonicNow() - frozenAt).toBeGreaterThanOrEqual(2000 * 0.99);
      expect(term.isValid()).toBe(true);
    } finally {
      process.kill(-runner.pid, 'SIGCONT');
    }
    // Resumed, the runner finds its term over and stops its command (it says so), then campaigns again.
    await waitFor('the resumed runner saw its term end', () => /leadership lost/.test(runner.out.stderr), {
      timeoutMs: 15_000,
    });
  });
});
