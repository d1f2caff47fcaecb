import { Etcd3 } from 'etcd3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';
import { sharedNow } from '../../src/testing/history.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { KeyObserver } from '../harness/key-observer.js';

/** The etcd-side half of the checker: deletions are noted by the deleted key's create revision (the token). */
describe('KeyObserver', () => {
  let cluster: EtcdCluster;
  let admin: Etcd3;
  beforeAll(async () => {
    cluster = await EtcdCluster.start({ size: 1 });
    admin = new Etcd3({ hosts: cluster.endpoints });
  });
  afterAll(async () => {
    admin?.close();
    await cluster?.stop();
  });

  it('notes each deletion under the prefix by the key create revision, after it happened', async () => {
    const observer = await KeyObserver.start(admin, '/obs/');
    try {
      const put = await admin.kv.put({ key: Buffer.from('/obs/a'), value: Buffer.from('x') });
      const token = put.header.revision;
      await admin.kv.put({ key: Buffer.from('/obs/a'), value: Buffer.from('y') }); // a later put keeps the create revision
      await admin.kv.put({ key: Buffer.from('/other'), value: Buffer.from('z') });
      const beforeDelete = sharedNow();
      await admin.kv.deleteRange({ key: Buffer.from('/obs/a') });
      await admin.kv.deleteRange({ key: Buffer.from('/other') });
      const at = await waitFor('the deletion to be observed', () => observer.deletedAt.get(token), { timeoutMs: 5000 });
      expect(at).toBeGreaterThanOrEqual(beforeDelete);
      expect(observer.deletedAt.size).toBe(1); // nothing outside the prefix
    } finally {
      await observer.close();
    }
  });
});
