/**
 * A long-lived locker or client keeps nothing of the nodes and sessions it is
 * done with: after they stop (close), a full collection frees them. The
 * per-cycle figure of many start/stop cycles is `npm run bench:cycles`.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LockedClient, locked, type Locker, type Session } from '../../src/api.js';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let cluster: EtcdCluster;
beforeAll(async () => {
  cluster = await EtcdCluster.start({ size: 1 });
});
afterAll(async () => {
  await cluster?.stop();
});

// Objects are made in helper functions that return only WeakRefs: a suspended async function keeps
// its registers, so a variable of the test's own frame would keep the last object alive.

/** How many of `refs` still hold their object after full collections (a WeakRef read in this job is kept until it ends). */
async function survivors(refs: WeakRef<object>[]): Promise<number> {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return refs.filter((r) => r.deref() !== undefined).length;
}

async function sessionCycle(client: LockedClient): Promise<WeakRef<Session>> {
  const session = client.session();
  await session.lease();
  await session.close();
  return new WeakRef(session);
}

/** Starts and stops one node; WeakRefs to it and to its term's lease. */
async function nodeCycle(locker: Locker, id: string): Promise<WeakRef<object>[]> {
  const node = locker({ id, path: '/memory/one-path', ttl: 5 });
  await node.start();
  expect(node.isSelected()).toBe(true);
  const refs = [new WeakRef(node), new WeakRef(node.term()!.lease)];
  await node.stop();
  return refs;
}

describe('nothing kept after stop', () => {
  it('a client forgets the sessions it made once they are closed', async () => {
    const client = new LockedClient({ endpoints: cluster.endpoints, ttl: 5 });
    try {
      const refs: WeakRef<Session>[] = [];
      for (let i = 0; i < 20; i++) refs.push(await sessionCycle(client));
      expect(await survivors(refs)).toBe(0);
    } finally {
      await client.close();
    }
  });

  it('a locker forgets its stopped nodes, and their sessions', async () => {
    const locker = locked(cluster.endpoints);
    try {
      const refs: WeakRef<object>[] = [];
      for (let i = 0; i < 20; i++) refs.push(...(await nodeCycle(locker, `n${i}`)));
      expect(await survivors(refs)).toBe(0);
    } finally {
      await locker.close();
    }
  });
});
