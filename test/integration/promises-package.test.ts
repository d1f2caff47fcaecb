/**
 * README promises about the built package and the CLI that no other test checked, on a real etcd:
 * `import locked from 'locked'` works at runtime (dist/esm.mjs through the package's exports);
 * `locked run` gives CMD LOCKED_PATH, LOCKED_VALUE, LOCKED_ID, LOCKED_KEY and LOCKED_TOKEN of the live
 * term; `locked resign --token` with a stale token changes nothing. Runs the build in dist/
 * (`npm test` builds first).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockedClient } from '../../src/api.js';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { killAllCli, runCli, startCli } from './cli-support.js';
import { ChildCandidate } from './processes.js';

const ROOT = resolve(__dirname, '../..');
let cluster: EtcdCluster;
let observer: LockedClient;
let dir: string;

/** No etcd settings of the caller's environment leak into the CLI. */
const ENV = { ETCDCTL_ENDPOINTS: '', ETCDCTL_USER: '', ETCDCTL_PASSWORD: '', LOCKED_PASSWORD: '' };

beforeAll(async () => {
  cluster = await EtcdCluster.start({ size: 1 });
  observer = new LockedClient({ endpoints: cluster.endpoints, ttl: 2 });
  dir = mkdtempSync(join(tmpdir(), 'locked-promises-'));
});
afterAll(async () => {
  killAllCli();
  await observer?.close();
  await cluster?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("ESM (README: import locked from 'locked')", () => {
  it('a consumer module imports the built package by name: the default export is require("locked"), the named exports its classes, and a node is elected', async () => {
    expect(existsSync(join(ROOT, 'dist', 'esm.mjs')), 'run `npm run build` first').toBe(true);
    // A consumer project: node_modules/locked is this package, resolved through its "exports".
    const app = join(dir, 'esm-app');
    mkdirSync(join(app, 'node_modules'), { recursive: true });
    symlinkSync(ROOT, join(app, 'node_modules', 'locked'), 'dir');
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'esm-app', type: 'module', private: true }));
    writeFileSync(
      join(app, 'app.js'),
      `
import locked, { locked as named, LockedClient, LockedError, isLockedError } from 'locked';
import { createRequire } from 'node:module';
const cjs = createRequire(import.meta.url)('locked');
const [endpoints, path] = process.argv.slice(2);
const same = {
  default: locked === cjs,
  locked: named === cjs.locked,
  LockedClient: LockedClient === cjs.LockedClient,
  LockedError: LockedError === cjs.LockedError,
  isLockedError: isLockedError(new LockedError('CLOSED', 'x'), 'CLOSED'),
};
const node = locked(endpoints)({ id: 'esm', path, value: 'from-esm', ttl: 2 });
node.on('select', async () => {
  const client = new LockedClient({ endpoints, ttl: 2 });
  const leader = await client.election(path).leader();
  await client.close();
  process.stdout.write(JSON.stringify({ event: 'selected', same, token: String(node.token()), stored: leader?.value }) + '\\n');
  await node.stop();
});
node.start();
`,
    );
    const child = new ChildCandidate(process.execPath, [join(app, 'app.js'), cluster.endpoints, '/promise-esm']);
    try {
      await waitFor('the ESM app to exit by itself', () => !child.alive, { timeoutMs: 20_000 });
      expect(child.process.exitCode).toBe(0);
      const [selected] = child.events('selected');
      expect(selected).toMatchObject({
        same: { default: true, locked: true, LockedClient: true, LockedError: true, isLockedError: true },
        stored: 'esm:::from-esm',
      });
      expect(BigInt(selected!.token as string)).toBeGreaterThan(0n);
    } finally {
      await child.kill();
    }
  });
});

describe('locked run: the environment of CMD (README: LOCKED_TOKEN, LOCKED_ID, LOCKED_PATH, LOCKED_VALUE)', () => {
  it("CMD sees the election's path, the runner's id and value, and the live term's key and token", async () => {
    const p = '/promise-run-env';
    const done = join(dir, 'run-env-done');
    // Prints its LOCKED_* variables, then holds the term until the test has compared them with etcd.
    const cmd = `
const fs = require('fs');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('LOCKED_')));
process.stdout.write('ENV ' + JSON.stringify(env) + '\\n');
const timer = setInterval(() => { if (fs.existsSync(${JSON.stringify(done)})) { clearInterval(timer); process.exit(0); } }, 20);
`;
    const runner = startCli(
      [
        'run',
        '--endpoints',
        cluster.endpoints,
        '--path',
        p,
        '--id',
        'env-runner',
        '--value',
        'the value',
        '--ttl',
        '2',
        '--',
        process.execPath,
        '-e',
        cmd,
      ],
      { env: ENV },
    );
    const line = await waitFor('CMD to print its environment', () => /^ENV (.*)$/m.exec(runner.out.stdout)?.[1], {
      timeoutMs: 20_000,
    });
    const env = JSON.parse(line) as Record<string, string>;
    const leader = await observer.election(p).leader();
    expect(leader).not.toBeNull();
    expect(env).toMatchObject({
      LOCKED_PATH: p,
      LOCKED_VALUE: 'the value',
      LOCKED_ID: 'env-runner',
      LOCKED_KEY: leader!.key,
      LOCKED_TOKEN: leader!.token.toString(),
    });
    writeFileSync(done, '');
    const { code, signal } = await runner.exited;
    expect({ code, signal }).toEqual({ code: 0, signal: null }); // CMD's own exit code, passed on
    expect(await observer.election(p).leader()).toBeNull(); // and the runner resigned
  });
});

describe('locked resign --token (README: "a guarded delete")', () => {
  it("with a stale token changes nothing (exit 3, one line); with the leader's token ends its term", async () => {
    const p = '/promise-resign';
    const first = await observer.election(p).campaign('first');
    const staleToken = first.token;
    await first.resign();
    const other = new LockedClient({ endpoints: cluster.endpoints, ttl: 2 });
    try {
      const current = await other.election(p).campaign('current');
      expect(current.token).toBeGreaterThan(staleToken);
      const resign = (token?: bigint) =>
        runCli(
          [
            'resign',
            '--endpoints',
            cluster.endpoints,
            '--path',
            p,
            ...(token === undefined ? [] : ['--token', token.toString()]),
          ],
          { env: ENV },
        );

      const stale = await resign(staleToken);
      expect(stale.code, stale.stderr).toBe(3);
      expect(stale.stderr.trim().split('\n')).toEqual([
        `locked resign: the leader of ${p} has token ${current.token}, not ${staleToken}; nothing done`,
      ]);
      expect(current.isValid()).toBe(true);
      expect((await observer.election(p).leader())?.key).toBe(current.key);

      const right = await resign(current.token);
      expect(right.code, right.stderr).toBe(0);
      await waitFor('the forced-out term to end', () => current.signal.aborted, { timeoutMs: 5_000 });
      expect(await observer.election(p).leader()).toBeNull();

      const none = await resign();
      expect(none.code).toBe(3);
      expect(none.stderr).toContain('has no leader');
    } finally {
      await other.close();
    }
  });
});
