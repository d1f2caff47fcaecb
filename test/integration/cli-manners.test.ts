/**
 * The CLI's manners against a real etcd: --version, `run` refusing a command
 * it cannot start before it campaigns (no key, no lease, not one write), -w
 * json on status and observe, and the ETCDCTL_* variables with flags winning
 * over them (dial and request timeouts included).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';
import { freePort } from '../../src/testing/free-port.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { CLEAN_ENV, killAllCli, runCleanCli, startCli } from './cli-support.js';

let etcd: EtcdCluster;
let raw: Etcd3;
let dir: string;
let closedPort: number;
/** Accepts TCP connections and never answers: a dial succeeds, every request hangs. */
let silent: Server;
const held = new Set<Socket>();

const cli = runCleanCli;

function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l !== '');
  expect(lines, stderr).toHaveLength(1);
  return lines[0]!;
}

/** The store's revision: it moves with every write, to any key. */
async function storeRevision(): Promise<bigint> {
  return BigInt((await raw.get('/').exec()).header.revision);
}

beforeAll(async () => {
  etcd = await EtcdCluster.start({ size: 1 });
  raw = new Etcd3({ hosts: etcd.endpoints });
  dir = mkdtempSync(join(tmpdir(), 'locked-cli-manners-'));
  writeFileSync(join(dir, 'not-executable.sh'), '#!/bin/sh\necho ran\n');
  chmodSync(join(dir, 'not-executable.sh'), 0o644);
  closedPort = await freePort();
  silent = createServer((socket) => {
    held.add(socket);
    socket.once('close', () => held.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  killAllCli();
  for (const socket of held) socket.destroy();
  await new Promise((resolve) => silent?.close(resolve));
  raw?.close();
  await etcd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const silentEndpoint = () => {
  const address = silent.address();
  if (address === null || typeof address === 'string') throw new Error('the silent server is not listening');
  return `127.0.0.1:${address.port}`;
};

describe('locked --version', () => {
  it.each(['--version', '-v'])('%s prints the version of package.json', async (flag) => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    const res = await cli([flag]);
    expect(res).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });
});

describe('locked run: a command it cannot start is refused before campaigning', () => {
  it.each([
    ['a typo', ['no-such-command-zq'], 127, /^locked run: no-such-command-zq: command not found in PATH$/],
    ['a missing path', ['./no/such/script.sh'], 127, /^locked run: \.\/no\/such\/script\.sh: no such file$/],
    ['a directory', ['/tmp'], 126, /^locked run: \/tmp: cannot execute \(a directory\)$/],
    ['a file without x bit', ['NOT_EXECUTABLE'], 126, /not-executable\.sh: cannot execute \(permission denied\)$/],
  ])('%s %j: exit %d, one line, and etcd saw no write and no lease', async (_what, cmd, code, message) => {
    const argv = cmd.map((a) => (a === 'NOT_EXECUTABLE' ? join(dir, 'not-executable.sh') : a));
    const before = await storeRevision();
    const res = await cli(['run', '--endpoints', etcd.endpoints, '--path', '/typo', '--ttl', '2', '--', ...argv]);
    expect(res.code).toBe(code);
    expect(oneLine(res.stderr)).toMatch(message);
    expect(res.stderr).not.toMatch(/campaigning|elected/);
    expect(await storeRevision()).toBe(before);
    expect((await raw.leaseClient.leaseLeases()).leases).toEqual([]);
    expect(await raw.getAll().prefix('/typo').count()).toBe(0);
  });

  it('a command that can start campaigns: the store moves (so the check above can see a campaign)', async () => {
    const before = await storeRevision();
    const res = await cli(['run', '--endpoints', etcd.endpoints, '--path', '/typo', '--ttl', '2', '--', 'true']);
    expect(res.code, res.stderr).toBe(0);
    expect(await storeRevision()).toBeGreaterThan(before);
  });
});

describe('-w/--write-out on status and observe', () => {
  it('status: -w json, --json, ETCDCTL_WRITE_OUT=json, and -w simple over the variable', async () => {
    const args = ['status', '--endpoints', etcd.endpoints, '--path', '/w'];
    const expected = { path: '/w', leader: null, candidates: [] };
    for (const [extra, env] of [
      [['-w', 'json'], {}],
      [['--write-out=json'], {}],
      [['--json'], {}],
      [[], { ETCDCTL_WRITE_OUT: 'json' }],
    ] as const) {
      const res = await cli([...args, ...extra], env);
      expect(res.code, res.stderr).toBe(0);
      expect(JSON.parse(res.stdout)).toEqual(expected);
    }
    const simple = await cli([...args, '-w', 'simple'], { ETCDCTL_WRITE_OUT: 'json' });
    expect(simple.stdout).toBe('election /w\nleader   none\nqueue    empty\n');
  });

  it('observe -w json: one JSON object per line; ETCDCTL_ENDPOINTS stands for --endpoints', async () => {
    const proc = startCli(['observe', '--path', '/w', '-w', 'json'], {
      env: { ...CLEAN_ENV, ETCDCTL_ENDPOINTS: etcd.endpoints },
    });
    const line = await waitFor('observe to print its first line', () => proc.out.stdout.split('\n')[0] || null);
    expect(JSON.parse(line)).toMatchObject({ path: '/w', leader: null });
    proc.child.kill('SIGTERM');
    expect((await proc.exited).code).toBe(0);
  });
});

describe('--dial-timeout and --command-timeout, and their variables', () => {
  it('status gives up on a closed port after the dial timeout; the flag wins over ETCDCTL_DIAL_TIMEOUT', async () => {
    const endpoint = `127.0.0.1:${closedPort}`;
    const flag = await cli(['status', '--path', '/d', '--endpoints', endpoint, '--dial-timeout', '300ms'], {
      ETCDCTL_DIAL_TIMEOUT: '1m',
    });
    expect(flag.code).toBe(1);
    expect(oneLine(flag.stderr)).toBe(
      `locked status: cannot connect to etcd within 300ms (--dial-timeout): ${endpoint} ECONNREFUSED`,
    );
    const env = await cli(['status', '--path', '/d'], { ETCDCTL_ENDPOINTS: endpoint, ETCDCTL_DIAL_TIMEOUT: '400ms' });
    expect(oneLine(env.stderr)).toMatch(/cannot connect to etcd within 400ms/);
  });

  it('observe (ETCDCTL_DIAL_TIMEOUT) and run (--dial-timeout) give up at a dial timeout given to them', async () => {
    const endpoint = `127.0.0.1:${closedPort}`;
    const observe = await cli(['observe', '--path', '/d', '--endpoints', endpoint], { ETCDCTL_DIAL_TIMEOUT: '300ms' });
    expect(observe.code).toBe(1);
    expect(oneLine(observe.stderr)).toMatch(/^locked observe: cannot connect to etcd within 300ms/);
    const run = await cli(['run', '--path', '/d', '--endpoints', endpoint, '--dial-timeout', '300ms', '--', 'true']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot connect to etcd within 300ms/);
  });

  it('a request that gets no answer ends at --command-timeout, which wins over ETCDCTL_COMMAND_TIMEOUT', async () => {
    const args = ['status', '--path', '/d', '--endpoints', silentEndpoint()];
    // With the variable alone (10 min) the request would outlive runCli's 30 s bound and be killed (code null).
    const flag = await cli([...args, '--command-timeout', '1s'], { ETCDCTL_COMMAND_TIMEOUT: '10m' });
    expect(flag.code).toBe(1);
    expect(oneLine(flag.stderr)).toMatch(/^locked status: .*(deadline|DEADLINE_EXCEEDED)/i);
    const env = await cli(args, { ETCDCTL_COMMAND_TIMEOUT: '1s' });
    expect(env.code).toBe(1);
    expect(oneLine(env.stderr)).toMatch(/deadline/i);
  });
});
