/**
 * Every flag of every command, and every ETCDCTL_* variable we read, with at
 * least one bad value: each fails before any connection with a UsageError
 * (exit 2) whose one line names the flag or the variable and the rule. The
 * commands are called in-process; the environment points at a closed port
 * with a short dial timeout, so a case that wrongly passed validation fails
 * fast instead of reaching an etcd.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { exitCodeFor } from '../../src/cli/client.js';
import { CONNECTION_FLAGS } from '../../src/cli/connection.js';
import { demoCommand, FLAGS as DEMO_FLAGS } from '../../src/cli/demo/command.js';
import { EXIT } from '../../src/cli/exit-codes.js';
import { observeCommand, FLAGS as OBSERVE_FLAGS } from '../../src/cli/observe.js';
import { resignCommand, FLAGS as RESIGN_FLAGS } from '../../src/cli/resign.js';
import { runCommand, FLAGS as RUN_FLAGS } from '../../src/cli/run/command.js';
import { statusCommand, FLAGS as STATUS_FLAGS } from '../../src/cli/status.js';
import { isUsageError, type FlagSpec } from '../../src/cli/usage.js';

type Command = (args: readonly string[]) => Promise<number>;
const COMMANDS: Record<string, [Command, FlagSpec]> = {
  run: [runCommand, RUN_FLAGS],
  observe: [observeCommand, OBSERVE_FLAGS],
  status: [statusCommand, STATUS_FLAGS],
  resign: [resignCommand, RESIGN_FLAGS],
  demo: [demoCommand, DEMO_FLAGS],
};

/** [flag or variable under test, arguments after the command's required ones, environment, expected line]. */
type Case = [subject: string, args: string[], env: Record<string, string>, message: RegExp];

const CONNECTION_CASES: Case[] = [
  ['endpoints', ['--endpoints', 'a b'], {}, /--endpoints entry "a b" is not of the form \[scheme:\/\/\]host\[:port\]$/],
  ['endpoints', ['--endpoints', '127.0.0.1:0'], {}, /--endpoints entry "127.0.0.1:0" has port "0"; a port must be/],
  ['cacert', ['--cacert', '/nonexistent/ca.pem'], {}, /cannot read --cacert file "\/nonexistent\/ca.pem" \(ENOENT\)$/],
  [
    'cert',
    ['--cert', 'client.pem'],
    {},
    /--cert needs --key \(or ETCDCTL_KEY\): a client certificate goes with its key$/,
  ],
  [
    'key',
    ['--key', 'client.key'],
    {},
    /--key needs --cert \(or ETCDCTL_CERT\): a private key goes with its certificate$/,
  ],
  ['insecure-skip-tls-verify', ['--insecure-skip-tls-verify=yes'], {}, /--insecure-skip-tls-verify takes no value/],
  ['user', ['--user', ':secret'], {}, /--user needs a user name, as name\[:password\]$/],
  ['password', ['--password', 'secret'], {}, /--password needs --user$/],
  ['dial-timeout', ['--dial-timeout', '0s'], {}, /--dial-timeout must be a duration from 1ms to 596h, .*got "0s"$/],
  ['dial-timeout', ['--dial-timeout', '2 s'], {}, /--dial-timeout must be a duration/],
  ['command-timeout', ['--command-timeout', '900h'], {}, /--command-timeout must be a duration from 1ms to 596h/],
  ['command-timeout', ['--command-timeout', 'soon'], {}, /--command-timeout must be a duration/],
  ['ETCDCTL_ENDPOINTS', [], { ETCDCTL_ENDPOINTS: 'http://' }, /ETCDCTL_ENDPOINTS entry "http:\/\/" is not of the form/],
  ['ETCDCTL_CACERT', [], { ETCDCTL_CACERT: '/nonexistent/ca.pem' }, /cannot read ETCDCTL_CACERT file/],
  ['ETCDCTL_CERT', [], { ETCDCTL_CERT: '/nonexistent/c.pem' }, /ETCDCTL_CERT needs --key/],
  ['ETCDCTL_KEY', [], { ETCDCTL_KEY: 'k.pem' }, /ETCDCTL_KEY needs --cert/],
  [
    'ETCDCTL_INSECURE_SKIP_TLS_VERIFY',
    [],
    { ETCDCTL_INSECURE_SKIP_TLS_VERIFY: 'yes' },
    /ETCDCTL_INSECURE_SKIP_TLS_VERIFY must be true or false/,
  ],
  ['ETCDCTL_USER', [], { ETCDCTL_USER: ':secret' }, /ETCDCTL_USER needs a user name/],
  [
    'ETCDCTL_USER',
    [],
    { ETCDCTL_USER: 'app' },
    /ETCDCTL_USER=app needs a password: --user app:PASSWORD, .*ETCDCTL_PASSWORD or LOCKED_PASSWORD$/,
  ],
  ['ETCDCTL_DIAL_TIMEOUT', [], { ETCDCTL_DIAL_TIMEOUT: '-2s' }, /ETCDCTL_DIAL_TIMEOUT must be a duration/],
  ['ETCDCTL_COMMAND_TIMEOUT', [], { ETCDCTL_COMMAND_TIMEOUT: '5' + 'x' }, /ETCDCTL_COMMAND_TIMEOUT must be a duration/],
];

const WRITE_OUT_CASES: Case[] = [
  [
    'write-out',
    ['--write-out', 'table'],
    {},
    /--write-out must be simple or json \(etcdctl's table is not supported\), got "table"$/,
  ],
  ['write-out', ['-w', 'yaml'], {}, /--write-out must be simple or json, got "yaml"$/],
  ['json', ['--json=true'], {}, /--json takes no value/],
  ['json', ['--json', '-w', 'simple'], {}, /--json means --write-out json; it contradicts -w simple$/],
  [
    'ETCDCTL_WRITE_OUT',
    [],
    { ETCDCTL_WRITE_OUT: 'fields' },
    /ETCDCTL_WRITE_OUT must be simple or json \(etcdctl's fields/,
  ],
];

const PATH_CASES: Case[] = [
  [
    'path',
    ['--path', '/jobs/'],
    {},
    /--path must not end with "\/" \(the candidates' keys live under P\/\), got "\/jobs\/"$/,
  ],
  ['path', ['--path='], {}, /--path is required$/],
  ['help', ['--help=please'], {}, /--help takes no value/],
];

const CASES: Record<string, Case[]> = {
  run: [
    ...CONNECTION_CASES,
    ...PATH_CASES,
    ['id', ['--id', 'web:::1'], {}, /--id must not contain ":::", got "web:::1"$/],
    ['value', ['--value'], {}, /--value needs a value/],
    ['ttl', ['--ttl', '0'], {}, /--ttl must be an integer from 1 to 86400, got "0"$/],
    ['ttl', ['--ttl', '1.5'], {}, /--ttl must be an integer from 1 to 86400, got "1.5"$/],
    ['grace', ['--grace=-1'], {}, /--grace must be an integer >= 0, got "-1"$/],
    [
      'priority',
      ['--priority', '1e999'],
      {},
      /--priority must be a finite number \(higher is elected first\), got "1e999"$/,
    ],
    ['priority', ['--priority', ''], { LOCKED_PRIORITY: 'x' }, /--priority must be a finite number/],
    ['preempt-after', ['--preempt-after', '0'], {}, /--preempt-after must be a duration from 1ms to 596h/],
    ['grace', ['--ttl', '2', '--grace', '1500'], {}, /--grace 1500 ms does not fit in --ttl 2 s/],
    ['restart', ['--restart=yes'], {}, /--restart takes no value/],
    ['quiet', ['--quiet=1'], {}, /--quiet takes no value/],
    [
      'metrics-port',
      ['--metrics-port', '70000'],
      {},
      /--metrics-port must be \[HOST:\]PORT with a port from 0 to 65535/,
    ],
  ],
  observe: [...CONNECTION_CASES, ...WRITE_OUT_CASES, ...PATH_CASES],
  status: [...CONNECTION_CASES, ...WRITE_OUT_CASES, ...PATH_CASES],
  resign: [
    ...CONNECTION_CASES,
    ...PATH_CASES,
    ['token', ['--token', 'latest'], {}, /--token must be a fencing token \(a positive integer\), got "latest"$/],
  ],
  demo: [
    ['duration', ['--duration', '4'], {}, /--duration must be an integer from 5 to 3600, got "4"$/],
    ['candidates', ['--candidates', '1'], {}, /--candidates must be an integer from 2 to 9, got "1"$/],
    ['ttl', ['--ttl', '31'], {}, /--ttl must be an integer from 1 to 30, got "31"$/],
    ['timeline', ['--timeline', 'run.png'], {}, /--timeline must name an .svg file, got "run.png"$/],
    ['etcd', ['--etcd', '3.6'], {}, /--etcd \(or LOCKED_ETCD\) must be 3.4, 3.5 or 3.5-sid, got "3.6"$/],
    ['help', ['--help=please'], {}, /--help takes no value/],
  ],
};

/** The arguments a command needs besides the case's own (a later --path wins over this one). */
function fullArgs(command: string, args: string[]): string[] {
  if (command === 'demo') return args;
  const base = args.some((a) => a.startsWith('--path')) ? args : ['--path', '/jobs', ...args];
  return command === 'run' ? [...base, '--', 'true'] : base;
}

const ETCDCTL_VARS = [
  'ETCDCTL_ENDPOINTS',
  'ETCDCTL_CACERT',
  'ETCDCTL_CERT',
  'ETCDCTL_KEY',
  'ETCDCTL_INSECURE_SKIP_TLS_VERIFY',
  'ETCDCTL_USER',
  'ETCDCTL_PASSWORD',
  'LOCKED_PASSWORD',
  'ETCDCTL_COMMAND_TIMEOUT',
  'ETCDCTL_WRITE_OUT',
];

beforeEach(() => {
  for (const name of ETCDCTL_VARS) vi.stubEnv(name, '');
  vi.stubEnv('ETCDCTL_ENDPOINTS', '127.0.0.1:1');
  vi.stubEnv('ETCDCTL_DIAL_TIMEOUT', '200ms');
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe.each(Object.keys(CASES))('locked %s: a bad value of each flag is a usage error', (command) => {
  const [run] = COMMANDS[command]!;
  it.each(CASES[command]!)('%s %j %j', async (subject, args, env, message) => {
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    const err: unknown = await run(fullArgs(command, args)).then(
      (code) => new Error(`exited ${code} instead of refusing the input`),
      (e: unknown) => e,
    );
    expect(isUsageError(err), String(err)).toBe(true);
    expect(exitCodeFor(err)).toBe(EXIT.USAGE);
    const line = (err as Error).message;
    expect(line).not.toContain('\n');
    expect(line.startsWith(`locked ${command}: `), line).toBe(true);
    expect(line).toMatch(message);
    expect(line).toContain(subject.startsWith('ETCDCTL_') ? subject : `--${subject}`);
  });

  it('covers every flag', () => {
    const [, spec] = COMMANDS[command]!;
    const covered = new Set(CASES[command]!.map(([subject]) => subject));
    expect(Object.keys(spec).filter((flag) => !covered.has(flag))).toEqual([]);
  });
});

it('covers every ETCDCTL_* variable that can hold a bad value (any ETCDCTL_PASSWORD is a password)', () => {
  const covered = new Set(Object.values(CASES).flatMap((cases) => cases.map(([subject]) => subject)));
  const expected = [...ETCDCTL_VARS, 'ETCDCTL_DIAL_TIMEOUT'].filter(
    (v) => v.startsWith('ETCDCTL_') && v !== 'ETCDCTL_PASSWORD',
  );
  expect(expected.filter((v) => !covered.has(v))).toEqual([]);
  expect(Object.keys(CONNECTION_FLAGS).filter((flag) => !covered.has(flag))).toEqual([]);
});
