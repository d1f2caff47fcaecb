/**
 * The CLI's front door: --help for every command, and every bad flag ends in
 * exactly one line on stderr (no stack trace) with a documented non-zero exit.
 * No etcd needed: these fail before connecting (or connect to a closed port).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/testing/free-port.js';
import { runCleanCli } from './cli-support.js';

let dir: string;
let closedPort: number;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'locked-cli-flags-'));
  writeFileSync(join(dir, 'cert.pem'), 'not a certificate');
  closedPort = await freePort();
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const cli = runCleanCli;

function expectOneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '');
  expect(lines, stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

describe('locked --help', () => {
  it.each(['run', 'observe', 'status', 'resign', 'demo'])(
    'locked %s --help prints its usage and exits 0',
    async (cmd) => {
      const { code, stdout, stderr } = await cli([cmd, '--help']);
      expect(code).toBe(0);
      expect(stdout).toContain(`Usage: locked ${cmd}`);
      expect(stdout).toContain('Exit codes');
      expect(stderr).toBe('');
    },
  );

  it('locked --help lists the commands; no command at all is a usage error', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    for (const cmd of ['run', 'observe', 'status', 'resign', 'demo']) expect(help.stdout).toContain(`locked ${cmd}`);
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage:');
  });

  it('--help after -- belongs to the command, not to locked run', async () => {
    const { code, stderr } = await cli(['run', '--endpoints', `127.0.0.1:${closedPort}`, '--', 'cmd', '--help']);
    expect(code).toBe(2);
    expect(expectOneLine(stderr)).toBe('locked run: --path is required');
  });
});

describe('bad flags: one line on stderr, a non-zero exit', () => {
  const cases: [string, string[], number, RegExp][] = [
    ['an unknown command', ['frobnicate'], 2, /^locked: unknown command "frobnicate"; commands: run, observe/],
    [
      'an unknown flag',
      ['status', '--path', '/p', '--bogus'],
      2,
      /^locked status: unknown flag --bogus \(see locked status --help\)$/,
    ],
    ['a flag without its value', ['observe', '--path'], 2, /^locked observe: --path needs a value/],
    [
      'a value for a boolean flag',
      ['observe', '--path', '/p', '--json=yes'],
      2,
      /^locked observe: --json takes no value/,
    ],
    ['a missing --path', ['status'], 2, /^locked status: --path is required$/],
    ['run without a command', ['run', '--path', '/p'], 2, /^locked run: give the command to run after --/],
    [
      'a non-numeric ttl',
      ['run', '--path', '/p', '--ttl', 'abc', '--', 'true'],
      2,
      /^locked run: --ttl must be an integer from 1 to 86400, got "abc"$/,
    ],
    ['a zero ttl', ['run', '--path', '/p', '--ttl', '0', '--', 'true'], 2, /--ttl must be an integer from 1/],
    [
      'a grace that does not fit in the ttl',
      ['run', '--path', '/p', '--ttl', '2', '--grace', '1500', '--', 'true'],
      2,
      /^locked run: --grace 1500 ms does not fit in --ttl 2 s: the grace must be < ttl×\(1−drift\) − margin − ttl\/3 = 2000×0\.99 − 50 − 667 = 1263\.3 ms/,
    ],
    ['a negative grace', ['run', '--path', '/p', '--grace=-5', '--', 'true'], 2, /--grace must be an integer >= 0/],
    [
      'a flag value that looks like a flag',
      ['run', '--path', '/p', '--grace', '-5', '--', 'true'],
      2,
      /--grace needs a value \(write --grace=-… for a value that starts with -\)/,
    ],
    [
      'an id with the separator',
      ['run', '--path', '/p', '--id', 'a:::b', '--', 'true'],
      2,
      /--id must not contain ":::"/,
    ],
    [
      'a malformed endpoint',
      ['status', '--path', '/p', '--endpoints', 'a b'],
      2,
      /^locked status: --endpoints entry "a b" is not of the form/,
    ],
    [
      'a port out of range',
      ['status', '--path', '/p', '--endpoints', '127.0.0.1:99999'],
      2,
      /has port "99999"; a port must be an integer from 1 to 65535/,
    ],
    [
      '--cert without --key',
      ['status', '--path', '/p', '--cert', 'x.pem'],
      2,
      /^locked status: --cert needs --key \(or ETCDCTL_KEY\)/,
    ],
    [
      'an unreadable --cacert',
      ['status', '--path', '/p', '--cacert', '/nonexistent/ca.pem'],
      2,
      /cannot read --cacert file "\/nonexistent\/ca.pem" \(ENOENT\)/,
    ],
    [
      '--user without a password',
      ['status', '--path', '/p', '--user', 'app'],
      2,
      /--user app needs a password: --user app:PASSWORD, --password, ETCDCTL_PASSWORD or LOCKED_PASSWORD/,
    ],
    ['--password without --user', ['status', '--path', '/p', '--password', 'x'], 2, /--password needs --user/],
    [
      'a bad --command-timeout',
      ['status', '--path', '/p', '--command-timeout', 'soon'],
      2,
      /--command-timeout must be a duration from 1ms to 596h, such as 500ms, 2s or 1m30s, got "soon"$/,
    ],
    [
      'a bad --metrics-port',
      ['run', '--path', '/p', '--metrics-port', 'x:y', '--', 'true'],
      2,
      /--metrics-port must be \[HOST:\]PORT/,
    ],
    ['a non-numeric --token', ['resign', '--path', '/p', '--token', 'latest'], 2, /--token must be a fencing token/],
    [
      'too many demo candidates',
      ['demo', '--candidates', '20'],
      2,
      /--candidates must be an integer from 2 to 9, got "20"/,
    ],
    ['a demo timeline that is not SVG', ['demo', '--timeline', 'x.png'], 2, /--timeline must name an .svg file/],
    ['a stray argument', ['status', '--path', '/p', 'extra'], 2, /unexpected argument "extra"/],
    ['a value for --help', ['status', '--help=1'], 2, /^locked status: --help takes no value/],
    ['an argument after --version', ['--version', 'now'], 2, /^locked: --version takes no arguments, got "now"$/],
  ];

  it.each(cases)('%s', async (_what, args, code, message) => {
    const res = await cli(args);
    expect(res.code).toBe(code);
    expect(expectOneLine(res.stderr)).toMatch(message);
    expect(res.stdout).toBe('');
  });

  it('a TLS certificate file that is not PEM fails in one line', async () => {
    const res = await cli([
      'status',
      '--path',
      '/p',
      '--endpoints',
      `127.0.0.1:${closedPort}`,
      '--cacert',
      join(dir, 'cert.pem'),
      '--command-timeout',
      '2s',
    ]);
    // Exit 1 (an etcd failure, docs/CLI.md), not merely "not 0": a run killed by runCli's timeout has code null.
    expect(res.code, res.stderr).toBe(1);
    expectOneLine(res.stderr);
  });

  it('an unreachable etcd: exit 1 after the dial timeout, one line', async () => {
    const res = await cli(['status', '--path', '/p', '--endpoints', `127.0.0.1:${closedPort}`, '--dial-timeout', '1s']);
    expect(res.code).toBe(1);
    expect(expectOneLine(res.stderr)).toBe(
      `locked status: cannot connect to etcd within 1s (--dial-timeout): 127.0.0.1:${closedPort} ECONNREFUSED`,
    );
  });

  it('ETCDCTL_ENDPOINTS is used when --endpoints is absent', async () => {
    const res = await cli(['status', '--path', '/p', '--command-timeout', '1s'], {
      ETCDCTL_ENDPOINTS: `127.0.0.1:${closedPort}`,
    });
    expect(res.code).toBe(1);
    expect(expectOneLine(res.stderr)).toContain(`127.0.0.1:${closedPort}`);
  });
});
