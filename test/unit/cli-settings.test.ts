/**
 * The CLI's settings as pure functions: etcdctl's duration syntax, flags over
 * ETCDCTL_* variables, the write-out format, and `locked run`'s look-up of its
 * command (on PATH, executable) that happens before it campaigns; and the
 * reference (docs/CLI.md) showing the --help texts as they are.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CONNECTION_FLAGS, connectionFrom } from '../../src/cli/connection.js';
import * as help from '../../src/cli/help.js';
import { commandProblem } from '../../src/cli/run/resolve-command.js';
import { parseFlags } from '../../src/cli/usage.js';
import { parseDuration } from '../../src/cli/values.js';
import { WRITE_OUT_FLAGS, writeOutFrom } from '../../src/cli/write-out.js';

const flagsOf = (args: string[]) =>
  parseFlags('locked status', args, { ...CONNECTION_FLAGS, ...WRITE_OUT_FLAGS }).flags;

describe('durations, as etcdctl takes them', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1m30s', 90_000],
    ['1.5h', 5_400_000],
    ['1500us', 2],
    ['3', 3000],
    ['596h', 2_145_600_000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration('locked status', '--dial-timeout', text)).toBe(ms));

  it.each(['', '0', '0s', '-1s', '250us', '597h', '1d', '2 s', 's', '1s2'])('%j is refused', (text) => {
    expect(() => parseDuration('locked status', '--dial-timeout', text)).toThrow(/--dial-timeout must be a duration/);
  });
});

describe('flags win over the ETCDCTL_* variables', () => {
  it('durations: --command-timeout and --dial-timeout over their variables; defaults otherwise', () => {
    const env = { ETCDCTL_COMMAND_TIMEOUT: '9s', ETCDCTL_DIAL_TIMEOUT: '8s' };
    const both = connectionFrom(flagsOf(['--command-timeout', '1s', '--dial-timeout', '300ms']), env);
    expect([both.client.requestTimeoutMs, both.dialTimeoutMs]).toEqual([1000, 300]);
    const fromEnv = connectionFrom(flagsOf([]), env);
    expect([fromEnv.client.requestTimeoutMs, fromEnv.dialTimeoutMs]).toEqual([9000, 8000]);
    const none = connectionFrom(flagsOf([]), {});
    expect([none.client.requestTimeoutMs, none.dialTimeoutMs]).toEqual([undefined, 2000]);
    expect(connectionFrom(flagsOf([]), {}, null).dialTimeoutMs).toBeNull();
  });

  it('endpoints, user and the TLS switch', () => {
    const env = {
      ETCDCTL_ENDPOINTS: '10.0.0.1:2379',
      ETCDCTL_USER: 'env:pw',
      ETCDCTL_INSECURE_SKIP_TLS_VERIFY: 'false',
    };
    const flagged = connectionFrom(
      flagsOf(['--endpoints', '10.0.0.2:2379', '--user', 'flag:pw2', '--insecure-skip-tls-verify']),
      env,
    );
    expect(flagged.hosts).toEqual(['10.0.0.2:2379']);
    expect(flagged.client.auth).toEqual({ username: 'flag', password: 'pw2' });
    expect(flagged.insecureSkipTlsVerify).toBe(true);
    const fromEnv = connectionFrom(flagsOf([]), { ...env, ETCDCTL_INSECURE_SKIP_TLS_VERIFY: 'true' });
    expect(fromEnv.hosts).toEqual(['10.0.0.1:2379']);
    expect(fromEnv.client.auth).toEqual({ username: 'env', password: 'pw' });
    expect(fromEnv.insecureSkipTlsVerify).toBe(true);
    expect(connectionFrom(flagsOf([]), env).insecureSkipTlsVerify).toBe(false);
  });

  it('write-out: -w, then --json, then ETCDCTL_WRITE_OUT, then simple', () => {
    expect(writeOutFrom(flagsOf(['-w', 'simple']), { ETCDCTL_WRITE_OUT: 'json' })).toBe('simple');
    expect(writeOutFrom(flagsOf(['--write-out=json']), {})).toBe('json');
    expect(writeOutFrom(flagsOf(['--json']), { ETCDCTL_WRITE_OUT: 'simple' })).toBe('json');
    expect(writeOutFrom(flagsOf(['--json', '-w', 'json']), {})).toBe('json');
    expect(writeOutFrom(flagsOf([]), { ETCDCTL_WRITE_OUT: 'json' })).toBe('json');
    expect(writeOutFrom(flagsOf([]), { ETCDCTL_WRITE_OUT: '' })).toBe('simple');
  });
});

describe("locked run's command look-up", () => {
  const dir = mkdtempSync(join(tmpdir(), 'locked-resolve-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  mkdirSync(join(bin, 'adir'));
  writeFileSync(join(bin, 'tool'), '#!/bin/sh\n');
  chmodSync(join(bin, 'tool'), 0o755);
  writeFileSync(join(bin, 'plain'), 'not executable\n');
  chmodSync(join(bin, 'plain'), 0o644);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds executables on PATH, by absolute path and relative to the working directory', () => {
    expect(commandProblem('tool', `/nonexistent:${bin}`, '/')).toBeNull();
    expect(commandProblem(join(bin, 'tool'), '', '/')).toBeNull();
    expect(commandProblem('./bin/tool', '', dir)).toBeNull();
    expect(commandProblem('tool', `:/nonexistent`, bin)).toBeNull(); // an empty PATH entry is the working directory
  });

  it('127 when not found, 126 when found but not executable', () => {
    expect(commandProblem('no-such-tool', bin, '/')).toEqual({
      code: 127,
      message: 'no-such-tool: command not found in PATH',
    });
    expect(commandProblem('./tool', bin, '/')).toEqual({ code: 127, message: './tool: no such file' });
    expect(commandProblem('tool', bin, '/')).toBeNull();
    expect(commandProblem('tool', '/nonexistent', bin)?.code).toBe(127); // the working directory is not searched
    expect(commandProblem('adir', bin, '/')?.code).toBe(126);
    expect(commandProblem(join(bin, 'adir'), '', '/')).toEqual({
      code: 126,
      message: `${join(bin, 'adir')}: cannot execute (a directory)`,
    });
    // (root too: access(X_OK) fails for a file without any execute bit)
    expect(commandProblem(join(bin, 'plain'), '', '/')?.code).toBe(126);
    expect(commandProblem('plain', bin, '/')?.message).toMatch(/plain: cannot execute \(permission denied\)$/);
  });
});

describe('docs/CLI.md and --help', () => {
  it('the reference shows every --help text verbatim', () => {
    const doc = readFileSync(new URL('../../docs/CLI.md', import.meta.url), 'utf8');
    for (const [name, text] of Object.entries(help)) {
      if (name.endsWith('_HELP')) expect(doc.includes(`\`\`\`\n${text as string}\`\`\``), name).toBe(true);
    }
  });
});
