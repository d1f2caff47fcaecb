import { execFileSync } from 'node:child_process';
import { ensureEtcd } from '../../src/testing/etcd-binary.js';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';

/**
 * A 1-member etcd with authentication on: user `root` (password `root-pw`,
 * role root) and user `app` (password `app-pw`), whose role `jobs` may only
 * read and write under `/jobs/` (etcdctl role grant-permission --prefix).
 * The caller stops it.
 */
export async function startAuthEtcd(): Promise<EtcdCluster> {
  const etcd = await EtcdCluster.start({ size: 1 });
  const etcdctl = (...args: string[]): void => {
    execFileSync(ensureEtcd().etcdctl, ['--endpoints', etcd.endpoints, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  };
  try {
    etcdctl('user', 'add', 'root', '--new-user-password', 'root-pw', '--interactive=false');
    etcdctl('user', 'grant-role', 'root', 'root');
    etcdctl('role', 'add', 'jobs');
    etcdctl('role', 'grant-permission', 'jobs', 'readwrite', '/jobs/', '--prefix=true');
    etcdctl('user', 'add', 'app', '--new-user-password', 'app-pw', '--interactive=false');
    etcdctl('user', 'grant-role', 'app', 'jobs');
    etcdctl('auth', 'enable');
  } catch (err) {
    await etcd.stop();
    throw err;
  }
  return etcd;
}
