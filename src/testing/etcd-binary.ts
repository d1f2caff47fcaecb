import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The etcd builds the tests, the demo, chaos and the benchmarks can run on, chosen with the
 * environment variable LOCKED_ETCD (`npm run chaos -- --etcd 3.5` sets it):
 *   3.4      Debian's system etcd-server/etcd-client (bookworm: 3.4.23), the default
 *   3.5      Debian trixie's 3.5.x, unpacked by scripts/fetch-etcd.sh into a cache dir
 *   3.5-sid  Debian sid's newest 3.5.x, the same way (when sid still has a 3.5)
 */
export const ETCD_BUILDS = ['3.4', '3.5', '3.5-sid'] as const;
export type EtcdBuild = (typeof ETCD_BUILDS)[number];

export interface EtcdBinaries {
  /** Path of the `etcd` server binary. */
  readonly etcd: string;
  /** Path of the `etcdctl` of the same build. */
  readonly etcdctl: string;
  readonly build: EtcdBuild;
  /** What `etcd --version` reports, e.g. `3.5.16`. */
  readonly version: string;
}

/** The build LOCKED_ETCD asks for (3.4 when unset or empty); an Error naming the variable otherwise. */
export function etcdBuild(env: NodeJS.ProcessEnv = process.env): EtcdBuild {
  const text = env.LOCKED_ETCD;
  if (text === undefined || text === '') return '3.4';
  const build = ETCD_BUILDS.find((b) => b === text);
  if (!build) throw new Error(`LOCKED_ETCD must be one of ${ETCD_BUILDS.join(', ')}, got ${JSON.stringify(text)}`);
  return build;
}

/** The package root: this file is src/testing/etcd-binary.ts or dist/testing/etcd-binary.js. */
const PACKAGE_ROOT = join(__dirname, '..', '..');
export const FETCH_SCRIPT = join(PACKAGE_ROOT, 'scripts', 'fetch-etcd.sh');

/** Where scripts/fetch-etcd.sh unpacks a build (LOCKED_ETCD_CACHE, default ~/.cache/locked-etcd). */
export function etcdCacheDir(build: EtcdBuild, env: NodeJS.ProcessEnv = process.env): string {
  const root = env.LOCKED_ETCD_CACHE || join(homedir(), '.cache', 'locked-etcd');
  return join(root, build);
}

const found = new Map<EtcdBuild, EtcdBinaries>();

/**
 * Paths of `etcd` and `etcdctl` of the build LOCKED_ETCD names (or `build`), and the version
 * etcd reports. Build 3.4 is whatever `etcd` is on the PATH; when it is missing,
 * scripts/fetch-etcd.sh installs Debian's packages (as root) or says what to run. Builds 3.5
 * and 3.5-sid come from the script's cache, which it fills on first use (a few seconds).
 */
export function ensureEtcd(build: EtcdBuild = etcdBuild()): EtcdBinaries {
  const known = found.get(build);
  if (known) return known;
  let bin: string;
  if (build === '3.4') {
    const etcd = onPath('etcd');
    const etcdctl = onPath('etcdctl');
    if (etcd && etcdctl) {
      const binaries = { etcd, etcdctl, build, version: versionOf(etcd) };
      found.set(build, binaries);
      return binaries;
    }
    bin = fetchBuild(build);
  } else {
    const cached = join(etcdCacheDir(build), 'usr', 'bin');
    const complete = ['etcd', 'etcdctl'].every((name) => existsSync(join(cached, name)));
    bin = complete && existsSync(join(etcdCacheDir(build), 'VERSION')) ? cached : fetchBuild(build);
  }
  const etcd = join(bin, 'etcd');
  const etcdctl = join(bin, 'etcdctl');
  for (const path of [etcd, etcdctl]) {
    if (!existsSync(path)) throw new Error(`${FETCH_SCRIPT} ${build} reported ${bin}, which has no ${path}`);
  }
  const binaries = { etcd, etcdctl, build, version: versionOf(etcd) };
  found.set(build, binaries);
  return binaries;
}

function onPath(name: string): string | null {
  const res = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return res.status === 0 && res.stdout.trim() !== '' ? res.stdout.trim() : null;
}

/** `etcd --version`'s version, e.g. `3.5.16`; an Error when the binary does not run. */
function versionOf(etcd: string): string {
  const res = spawnSync(etcd, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  const version = /^etcd Version:\s*(\S+)/m.exec(res.stdout ?? '')?.[1];
  if (res.status !== 0 || !version) {
    const why = res.error?.message ?? `exit ${res.status}: ${(res.stderr ?? '').trim().slice(0, 300)}`;
    throw new Error(`${etcd} --version did not report a version (${why})`);
  }
  return version;
}

/** Runs scripts/fetch-etcd.sh for `build`; returns the bin dir it prints last on stdout. */
function fetchBuild(build: EtcdBuild): string {
  if (!existsSync(FETCH_SCRIPT)) throw new Error(`etcd build ${build} needs ${FETCH_SCRIPT}, which is missing`);
  process.stderr.write(`locked: providing etcd build ${build} with ${FETCH_SCRIPT}…\n`);
  const res = spawnSync('bash', [FETCH_SCRIPT, build], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    timeout: 600_000,
  });
  const stderr = (res.stderr ?? '').trim();
  if (stderr) process.stderr.write(`${stderr}\n`);
  const bin = (res.stdout ?? '').trim().split('\n').pop()?.trim() ?? '';
  if (res.status === 0 && bin !== '') return bin;
  const last = stderr.split('\n').slice(-3).join('; ');
  const what =
    res.status === 3
      ? `etcd build ${build} is not available`
      : `${FETCH_SCRIPT} ${build} failed (${res.error?.message ?? `exit ${res.status}`})`;
  throw new Error(last ? `${what}: ${last}` : what);
}
