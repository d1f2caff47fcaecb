/**
 * The CLI against an etcd with authentication on, as a user whose role may
 * only read and write the election's prefix (etcdctl role grant-permission
 * --prefix). Everything inside the prefix works; outside it, and with a wrong
 * password, the CLI exits 4 with one line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { startAuthEtcd } from './auth-etcd.js';
import { killAllCli, runCli, startCli } from './cli-support.js';

let etcd: EtcdCluster;

beforeAll(async () => {
  etcd = await startAuthEtcd();
});

afterAll(async () => {
  killAllCli();
  await etcd?.stop();
});

const at = (): string[] => ['--endpoints', etcd.endpoints];
const oneLine = (stderr: string): string => {
  const lines = stderr.split('\n').filter((l) => l !== '');
  expect(lines, stderr).toHaveLength(1);
  return lines[0]!;
};

describe('locked with etcd auth and a prefix-limited role', () => {
  it('run, observe, status and resign work inside the prefix', async () => {
    const observer = startCli(['observe', ...at(), '--user', 'app:app-pw', '--path', '/jobs/nightly', '--json']);
    await waitFor('observe to print the first view', () => observer.out.stdout.includes('"leader":null') || null, {
      timeoutMs: 15_000,
    });

    // The password from the environment (ETCDCTL_PASSWORD), as etcdctl takes it.
    const runner = startCli(
      [
        'run',
        ...at(),
        '--user',
        'app',
        '--path',
        '/jobs/nightly',
        '--id',
        'job-runner',
        '--ttl',
        '2',
        '--',
        'sleep',
        '60',
      ],
      {
        env: { ETCDCTL_PASSWORD: 'app-pw' },
      },
    );
    await waitFor('observe to see job-runner lead', () => observer.out.stdout.includes('"id":"job-runner"') || null, {
      timeoutMs: 15_000,
    });

    // LOCKED_PASSWORD works too.
    const status = await runCli(['status', ...at(), '--user', 'app', '--path', '/jobs/nightly', '--json'], {
      env: { LOCKED_PASSWORD: 'app-pw' },
    });
    expect(status.code).toBe(0);
    const view = JSON.parse(status.stdout);
    expect(view.leader.id).toBe('job-runner');
    expect(view.candidates).toHaveLength(1);

    // An operator's forced resign: the runner stops its command, then campaigns again (and leads again).
    const resign = await runCli([
      'resign',
      ...at(),
      '--user',
      'app:app-pw',
      '--path',
      '/jobs/nightly',
      '--token',
      view.leader.token,
    ]);
    expect(resign.code, resign.stderr).toBe(0);
    expect(resign.stdout).toContain(`resigned job-runner (token ${view.leader.token}`);
    await waitFor(
      'the runner to lead again with a newer token',
      () => {
        const tokens = observer.out.stdout
          .split('\n')
          .filter((l) => l.includes('"id":"job-runner"'))
          .map((l) => BigInt(JSON.parse(l).leader.token));
        return tokens.length >= 2 && tokens.at(-1)! > tokens[0]! ? true : null;
      },
      { timeoutMs: 15_000 },
    );
    expect(runner.out.stderr).toMatch(/stopping the command .*the term ended/);

    process.kill(runner.pid, 'SIGTERM');
    expect((await runner.exited).code).toBe(143);
    process.kill(observer.pid, 'SIGINT');
    expect((await observer.exited).code).toBe(0);
    const lastLine = observer.out.stdout.trim().split('\n').at(-1)!;
    expect(JSON.parse(lastLine).leader).toBeNull();
  });

  it('outside the prefix: permission denied, exit 4, one line', async () => {
    const status = await runCli(['status', ...at(), '--user', 'app:app-pw', '--path', '/other']);
    expect(status.code).toBe(4);
    expect(oneLine(status.stderr)).toMatch(/^locked status: .*permission denied/i);

    const run = await runCli(['run', ...at(), '--user', 'app:app-pw', '--path', '/other', '--ttl', '2', '--', 'true']);
    expect(run.code).toBe(4);
    expect(run.stderr).toMatch(/permission denied/i);
    expect(run.stderr).not.toMatch(/\n\s+at /);
  });

  it('a wrong password: authentication failed, exit 4, one line', async () => {
    const res = await runCli(['status', ...at(), '--user', 'app:wrong', '--path', '/jobs/nightly']);
    expect(res.code).toBe(4);
    expect(oneLine(res.stderr)).toMatch(/^locked status: .*auth/i);
  });

  it('observe with a wrong password or outside the prefix: exit 4 at once, one line, no retries', async () => {
    for (const [user, path] of [
      ['app:wrong', '/jobs/nightly'],
      ['app:app-pw', '/other'],
    ] as const) {
      const res = await runCli(['observe', ...at(), '--user', user, '--path', path], { timeoutMs: 15_000 });
      expect(res.code, res.stderr).toBe(4);
      expect(oneLine(res.stderr)).toMatch(/^locked observe: .*(auth|permission denied)/i);
      expect(res.stdout).toBe('');
    }
  });

  it('no credentials at all against an auth-enabled etcd: exit 4', async () => {
    const res = await runCli(['status', ...at(), '--path', '/jobs/nightly']);
    expect(res.code).toBe(4);
    oneLine(res.stderr);
  });
});
