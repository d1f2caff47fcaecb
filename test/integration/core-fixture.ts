import { afterAll, afterEach, beforeAll } from 'vitest';
import { Etcd3 } from 'etcd3';
import { LockedClient, type Candidate } from '../../src/api.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';

export interface CoreFixture {
  /** The file's 1-member etcd (started before its first test). */
  readonly cluster: EtcdCluster;
  /** A plain etcd3 client on it, to look at and change etcd behind the library's back. */
  readonly raw: Etcd3;
  /** A new LockedClient on the cluster, closed after the test that made it. */
  client(this: void, ttl?: number): LockedClient;
}

/**
 * Registers, for the calling test file, a 1-member etcd started before all
 * tests and stopped after them, a raw etcd3 client on it, and the clients the
 * tests make, closed after each test. Call at the top level of the file.
 */
export function useCoreFixture(): CoreFixture {
  let cluster: EtcdCluster | undefined;
  let raw: Etcd3 | undefined;
  const clients: LockedClient[] = [];
  beforeAll(async () => {
    cluster = await EtcdCluster.start({ size: 1 });
    raw = new Etcd3({ hosts: cluster.endpoints });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });
  afterAll(async () => {
    raw?.close();
    await cluster?.stop();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the fixture is used before its beforeAll ran');
    return value;
  };
  return {
    get cluster() {
      return started(cluster);
    },
    get raw() {
      return started(raw);
    },
    client(ttl = 5): LockedClient {
      const c = new LockedClient({ endpoints: started(cluster).endpoints, ttl });
      clients.push(c);
      return c;
    },
  };
}

/** Waits until election `name`, read through `c`, has `count` candidates; returns them, leader first. */
export async function queued(c: LockedClient, name: string, count: number): Promise<Candidate[]> {
  return waitFor(`${count} candidates queued in ${name}`, async () => {
    const candidates = await c.election(name).candidates();
    return candidates.length === count ? candidates : null;
  });
}
