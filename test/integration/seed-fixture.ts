import { afterAll, afterEach, beforeAll } from 'vitest';
import type { Etcd3 } from 'etcd3';
import { locked, type LockedNode, type Locker, type NodeOptions } from '../../src/api.js';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';

export interface SeedFixture {
  /** The 1-member etcd the file's tests share (started before them). */
  readonly cluster: EtcdCluster;
  /** A locker on the fixture's etcd (or on `hosts`), closed after the test. */
  newLocker(this: void, hosts?: string | string[] | Etcd3): Locker;
  /** A node of `l`, stopped after the test. */
  node(this: void, l: Locker, opts: NodeOptions): LockedNode;
  /** Takes a node made another way (e.g. `locker(path, opts)`) to stop after the test. */
  adopt(this: void, node: LockedNode): LockedNode;
  /** Stops every node so far, then closes every locker (what runs after each test). */
  release(this: void): Promise<void>;
  /** A fresh election path: `/<prefix>-<n>`. */
  path(this: void): string;
}

/**
 * The seed facade's tests against a real 1-member etcd: one cluster per file,
 * and every node and locker a test made stopped and closed after it (nodes
 * first), even when the test failed.
 */
export function useSeedFixture(prefix: string): SeedFixture {
  let cluster: EtcdCluster | undefined;
  const lockers: Locker[] = [];
  const nodes: LockedNode[] = [];
  let pathSeq = 0;
  const started = (): EtcdCluster => {
    if (!cluster) throw new Error('the seed fixture is used before its etcd started (outside a test?)');
    return cluster;
  };
  beforeAll(async () => {
    cluster = await EtcdCluster.start({ size: 1 });
  });
  const release = async (): Promise<void> => {
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
    await Promise.all(lockers.splice(0).map((l) => l.close()));
  };
  afterEach(release);
  afterAll(async () => {
    await cluster?.stop();
  });
  return {
    get cluster() {
      return started();
    },
    newLocker(hosts = started().endpoints) {
      const l = locked(hosts);
      lockers.push(l);
      return l;
    },
    node(l, opts) {
      const n = l(opts);
      nodes.push(n);
      return n;
    },
    adopt(n) {
      nodes.push(n);
      return n;
    },
    release,
    path() {
      return `/${prefix}-${++pathSeq}`;
    },
  };
}
