/**
 * The CLI against an etcd that requires TLS client certificates
 * (--client-cert-auth), with a CA, a server and a client certificate made here
 * with openssl. EtcdCluster speaks plain http, so this one etcd is started by
 * the test itself, tracked by PID and killed in afterAll.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureEtcd } from '../../src/testing/etcd-binary.js';
import { freePort } from '../../src/testing/free-port.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { killAllCli, runCli } from './cli-support.js';

let dir: string;
let etcd: ChildProcess | null = null;
let endpoint: string;
let tlsFlags: string[];

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A P-256 key and a certificate for `cn` signed by the test CA, with `ext` extensions. */
function issue(name: string, cn: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${cn}`,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-out',
    `${name}.crt`,
    '-extfile',
    `${name}.ext`,
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'locked-cli-tls-'));
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=locked test CA',
  );
  issue('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue('client', 'locked-cli', 'extendedKeyUsage=clientAuth\n');

  const [clientPort, peerPort] = [await freePort(), await freePort()];
  endpoint = `127.0.0.1:${clientPort}`;
  const { etcd: binary } = ensureEtcd();
  etcd = spawn(
    binary,
    [
      '--name=tls0',
      `--data-dir=${join(dir, 'data')}`,
      `--listen-client-urls=https://${endpoint}`,
      `--advertise-client-urls=https://${endpoint}`,
      `--listen-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${peerPort}`,
      `--initial-cluster=tls0=http://127.0.0.1:${peerPort}`,
      '--client-cert-auth',
      `--trusted-ca-file=${join(dir, 'ca.crt')}`,
      `--cert-file=${join(dir, 'server.crt')}`,
      `--key-file=${join(dir, 'server.key')}`,
      '--log-level=warn',
    ],
    { stdio: 'ignore' },
  );
  tlsFlags = [
    '--endpoints',
    endpoint,
    '--cacert',
    join(dir, 'ca.crt'),
    '--cert',
    join(dir, 'client.crt'),
    '--key',
    join(dir, 'client.key'),
  ];
  await waitFor(
    'etcd with TLS to answer',
    async () => (await runCli(['status', '--path', '/tls', ...tlsFlags, '--command-timeout', '2s'])).code === 0,
    {
      timeoutMs: 30_000,
      intervalMs: 200,
    },
  );
});

afterAll(async () => {
  killAllCli();
  if (etcd?.pid !== undefined && etcd.exitCode === null) {
    const exited = new Promise((resolve) => etcd?.once('exit', resolve));
    process.kill(etcd.pid, 'SIGKILL');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('locked with TLS client certificates', () => {
  it('run: elected over TLS, the command gets its token, its exit code is passed on', async () => {
    const res = await runCli([
      'run',
      ...tlsFlags,
      '--path',
      '/tls',
      '--id',
      'tls-runner',
      '--ttl',
      '2',
      '--',
      'sh',
      '-c',
      'echo "token=$LOCKED_TOKEN id=$LOCKED_ID"; exit 5',
    ]);
    expect(res.code).toBe(5);
    const token = /token=(\d+) id=tls-runner/.exec(res.stdout);
    expect(token, res.stdout + res.stderr).not.toBeNull();
    expect(BigInt(token![1]!)).toBeGreaterThan(0n);
    const status = await runCli(['status', ...tlsFlags, '--path', '/tls', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toEqual({ path: '/tls', leader: null, candidates: [] }); // resigned
  });

  it('the ETCDCTL_* environment variables stand for the flags', async () => {
    const res = await runCli(['status', '--path', '/tls'], {
      env: {
        ETCDCTL_ENDPOINTS: endpoint,
        ETCDCTL_CACERT: join(dir, 'ca.crt'),
        ETCDCTL_CERT: join(dir, 'client.crt'),
        ETCDCTL_KEY: join(dir, 'client.key'),
      },
    });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('leader   none');
  });

  it('without a client certificate etcd refuses: exit 1, one line', async () => {
    const res = await runCli([
      'status',
      '--endpoints',
      endpoint,
      '--cacert',
      join(dir, 'ca.crt'),
      '--path',
      '/tls',
      '--command-timeout',
      '2s',
    ]);
    expect(res.code).toBe(1);
    const lines = res.stderr.split('\n').filter((l) => l !== '');
    expect(lines, res.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^locked status: /);
  });

  it('--insecure-skip-tls-verify (or ETCDCTL_INSECURE_SKIP_TLS_VERIFY) accepts a server certificate of an unknown CA', async () => {
    const clientCert = ['--cert', join(dir, 'client.crt'), '--key', join(dir, 'client.key')];
    const args = ['status', '--endpoints', endpoint, ...clientCert, '--path', '/tls', '--command-timeout', '2s'];
    const unverified = await runCli(args); // no --cacert: the system's roots do not know the test CA
    expect(unverified.code).toBe(1);
    expect(unverified.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
    const skipped = await runCli([...args, '--insecure-skip-tls-verify']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stdout).toContain('leader   none');
    const fromEnv = await runCli(args, { env: { ETCDCTL_INSECURE_SKIP_TLS_VERIFY: 'true' } });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
  });

  it('plain http to the TLS port fails: exit 1, one line', async () => {
    const res = await runCli(['status', '--endpoints', endpoint, '--path', '/tls', '--command-timeout', '2s']);
    expect(res.code).toBe(1);
    expect(res.stderr.split('\n').filter((l) => l !== '')).toHaveLength(1);
  });
});
