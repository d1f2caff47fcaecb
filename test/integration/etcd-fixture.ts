import { afterAll, beforeAll } from 'vitest';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';

/**
 * Registers, for the calling test file, a 1-member etcd started before all its
 * tests and stopped after them, once `atEnd` (closing the file's clients,
 * killing its child processes) is done. Call at the top level of the file.
 */
export function useEtcd(atEnd: () => Promise<unknown>): { readonly cluster: EtcdCluster } {
  let cluster: EtcdCluster | undefined;
  beforeAll(async () => {
    cluster = await EtcdCluster.start({ size: 1 });
  });
  afterAll(async () => {
    await atEnd();
    await cluster?.stop();
  });
  return {
    get cluster() {
      if (!cluster) throw new Error('the etcd fixture is used before its beforeAll ran');
      return cluster;
    },
  };
}
