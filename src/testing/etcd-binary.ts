import { execFileSync, spawnSync } from 'node:child_process';

/**
 * Finds `etcd` (Debian's etcd-server, 3.4) and `etcdctl`; installs them with
 * apt-get when missing and we are root. Throws with the command to run otherwise.
 */
export function ensureEtcd(): { etcd: string; etcdctl: string } {
  const find = (name: string): string | null => {
    const res = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    return res.status === 0 ? res.stdout.trim() : null;
  };
  let etcd = find('etcd');
  let etcdctl = find('etcdctl');
  if (etcd && etcdctl) return { etcd, etcdctl };
  if (process.getuid?.() !== 0) {
    throw new Error('etcd is not installed; run: sudo apt-get install -y etcd-server etcd-client');
  }
  process.stderr.write('locked: installing etcd-server and etcd-client from Debian (apt-get)…\n');
  execFileSync('apt-get', ['update'], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync('apt-get', ['install', '-y', 'etcd-server', 'etcd-client'], {
    stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  etcd = find('etcd');
  etcdctl = find('etcdctl');
  if (!etcd || !etcdctl) throw new Error('apt-get install etcd-server etcd-client did not provide etcd and etcdctl');
  return { etcd, etcdctl };
}
