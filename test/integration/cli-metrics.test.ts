/**
 * `locked run --metrics-port`: Prometheus metrics and a /healthz that fails
 * (503) while the session cannot prove a live lease, here during a network cut
 * between the runner and etcd (a TCP proxy); and `locked observe`'s text lines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TcpProxy } from '../../src/testing/tcp-proxy.js';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { killAllCli, startCli } from './cli-support.js';

let etcd: EtcdCluster;
let proxy: TcpProxy;

beforeAll(async () => {
  etcd = await EtcdCluster.start({ size: 1 });
  proxy = await TcpProxy.start(etcd.endpoint(0));
});

afterAll(async () => {
  killAllCli();
  await proxy?.close();
  await etcd?.stop();
});

/** The value of the series `name` (with `election="/m"` among its labels) in a Prometheus text page. */
function metric(page: string, name: string, labels = ''): number | null {
  for (const line of page.split('\n')) {
    if (!line.startsWith(`${name}{`) || !line.includes('election="/m"') || !line.includes(labels)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return null;
}

describe('locked run --metrics-port', () => {
  it('serves metrics; /healthz is 503 while no lease can be proven live, 200 again after the heal', async () => {
    const observer = startCli(['observe', '--endpoints', etcd.endpoints, '--path', '/m']);
    const runner = startCli([
      'run',
      '--endpoints',
      proxy.endpoint,
      '--path',
      '/m',
      '--id',
      'm1',
      '--value',
      'v1',
      '--ttl',
      '2',
      '--grace',
      '300',
      '--metrics-port',
      '0',
      '--',
      'sleep',
      '60',
    ]);
    const port = await waitFor(
      'the metrics address',
      () => /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(runner.out.stderr)?.[1],
      {
        timeoutMs: 15_000,
      },
    );
    const base = `http://127.0.0.1:${port}`;
    const page = async (): Promise<string> => (await fetch(`${base}/metrics`)).text();
    const health = async (): Promise<number> => (await fetch(`${base}/healthz`)).status;

    await waitFor('the runner to lead', async () => metric(await page(), 'locked_is_leader') === 1 || null, {
      timeoutMs: 15_000,
    });
    await waitFor(
      'a renewal to be measured',
      async () => (metric(await page(), 'locked_renew_latency_seconds_count') ?? 0) > 0 || null,
      {
        timeoutMs: 10_000,
      },
    );
    // The token comes from a separate leader tracker: its watch may deliver the runner's key a moment later.
    await waitFor(
      'the tracker to see the leader',
      async () => (metric(await page(), 'locked_leader_token') ?? 0) > 0 || null,
      {
        timeoutMs: 10_000,
      },
    );
    const first = await page();
    expect(metric(first, 'locked_terms_total')).toBe(1);
    expect(metric(first, 'locked_transitions_total', 'to="leader"')).toBe(1);
    expect(metric(first, 'locked_session_live')).toBe(1);
    expect(metric(first, 'locked_leader_token')).toBeGreaterThan(0);
    expect(await health()).toBe(200);

    proxy.cut();
    await waitFor('/healthz to fail during the cut', async () => (await health()) === 503 || null, {
      timeoutMs: 10_000,
    });
    const cut = await page();
    expect(metric(cut, 'locked_is_leader')).toBe(0);
    expect(metric(cut, 'locked_session_live')).toBe(0);
    expect(metric(cut, 'locked_transitions_total', 'to="follower"')).toBe(1);

    proxy.heal();
    await waitFor('/healthz to pass after the heal', async () => (await health()) === 200 || null, {
      timeoutMs: 20_000,
    });
    await waitFor('a second term', async () => metric(await page(), 'locked_terms_total') === 2 || null, {
      timeoutMs: 20_000,
    });

    process.kill(runner.pid, 'SIGTERM');
    expect((await runner.exited).code).toBe(143);
    await waitFor('observe to see nobody lead', () => observer.out.stdout.trim().endsWith('no leader') || null, {
      timeoutMs: 10_000,
    });
    process.kill(observer.pid, 'SIGTERM');
    expect((await observer.exited).code).toBe(0);
    const lines = observer.out.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z (no leader|leader m1 token \d+ priority 0 value "v1")$/);
    const leaderLines = lines.filter((l) => l.includes(' leader m1 '));
    expect(leaderLines.length).toBeGreaterThanOrEqual(2); // one per term
    const tokens = leaderLines.map((l) => BigInt(/token (\d+)/.exec(l)![1]!));
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]!).toBeGreaterThan(tokens[i - 1]!);
  }, 90_000);
});
