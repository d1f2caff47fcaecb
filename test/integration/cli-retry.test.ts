/**
 * `locked run` and `locked observe` while etcd is unreachable (a closed
 * loopback port): they keep saying what fails, on every retry, rate-limited —
 * one line per kind of failure every 2 s at most — and end cleanly on SIGTERM.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/testing/free-port.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { killAllCli, startCli } from './cli-support.js';

afterAll(() => {
  killAllCli();
});

const failureLines = (stderr: string): string[] => stderr.split('\n').filter((l) => l.includes('(retrying'));

describe('etcd unreachable', () => {
  it.each([
    ['run', ['--ttl', '2', '--', 'true'], 'campaign failed'],
    ['observe', [], 'watch failed'],
  ])('%s reports failures again and again, at most one line per 2 s', async (command, extra, what) => {
    const endpoints = `127.0.0.1:${await freePort()}`;
    const startedAt = performance.now();
    const cli = startCli([command, '--endpoints', endpoints, '--path', '/retry', ...extra]);
    await waitFor('three failure lines', () => failureLines(cli.out.stderr).length >= 3, { timeoutMs: 20_000 });
    const elapsedMs = performance.now() - startedAt;
    const lines = failureLines(cli.out.stderr);
    for (const line of lines) expect(line).toMatch(new RegExp(`^locked ${command}: ${what}: .*UNAVAILABLE`));
    // The first at once, then one per 2 s at most (less a timer's slack).
    expect(lines.length).toBeLessThanOrEqual(1 + Math.floor(elapsedMs / 1_950));
    expect(lines.slice(1).some((l) => /more failed since the last line/.test(l))).toBe(true);
    process.kill(cli.pid, 'SIGTERM');
    const { code } = await cli.exited;
    expect(code).toBe(command === 'run' ? 143 : 0);
  });
});
