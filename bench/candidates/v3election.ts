import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Etcd3, type Lease } from 'etcd3';
import type { Adapter, Connect } from './adapter.js';

/**
 * etcd's own election, server side (the v3election gRPC service runs Go's
 * concurrency.Election inside etcd): the candidate grants a lease and keeps it
 * alive (etcd3's Lease: a keepalive every ttl/3, like Go's session; one lease per
 * TTL for all the process's candidacies), then calls
 * Campaign, which returns when it leads; graceful leave is Resign. This is what
 * Go programs and `etcdctl elect` run, with a TTL we choose.
 */
interface LeaderKey {
  name: Buffer;
  key: Buffer;
  rev: string;
  lease: string;
}

type Callback<T> = (err: grpc.ServiceError | null, res?: T) => void;

interface ElectionClient extends grpc.Client {
  Campaign(
    req: { name: Buffer; lease: string; value: Buffer },
    cb: Callback<{ leader: LeaderKey }>,
  ): grpc.ClientUnaryCall;
  Resign(req: { leader: LeaderKey }, cb: Callback<unknown>): grpc.ClientUnaryCall;
}

type ElectionCtor = new (address: string, credentials: grpc.ChannelCredentials) => ElectionClient;

function loadService(): ElectionCtor {
  const definition = protoLoader.loadSync(join(__dirname, 'v3election.proto'), {
    longs: String,
    bytes: Buffer,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as { v3electionpb: { Election: ElectionCtor } };
  return pkg.v3electionpb.Election;
}

export const connect: Connect = async (endpoints) => {
  const Election = loadService();
  const hosts = endpoints.split(',');
  const etcd = new Etcd3({ hosts });
  const election = new Election(hosts[0]!, grpc.credentials.createInsecure());
  await etcd.get('/bench/warmup').string(); // connect before timing
  await new Promise<void>((resolve, reject) =>
    election.waitForReady(Date.now() + 5000, (err) => (err ? reject(err) : resolve())),
  );
  // One lease per TTL shared by the process's candidacies, as a Go program shares one session.
  const shared = new Map<number, { lease: Lease; users: number }>();
  const acquire = (ttlSec: number): Lease => {
    let entry = shared.get(ttlSec);
    if (!entry) {
      entry = { lease: etcd.lease(ttlSec), users: 0 };
      entry.lease.setMaxListeners(0); // one listener pair per candidacy on the shared lease
      shared.set(ttlSec, entry);
    }
    entry.users++;
    return entry.lease;
  };
  const release = async (ttlSec: number): Promise<void> => {
    const entry = shared.get(ttlSec);
    if (!entry || --entry.users > 0) return;
    shared.delete(ttlSec);
    await entry.lease.revoke().catch(() => undefined);
  };
  const adapter: Adapter = {
    join(config, hooks) {
      let lease: Lease | null = null;
      let call: grpc.ClientUnaryCall | null = null;
      let leader: LeaderKey | null = null;
      const onRenewed = (): void => hooks.renewed();
      const onLost = (err: unknown): void => {
        hooks.error(err);
        hooks.deposed();
      };
      return {
        start() {
          const l = acquire(config.ttlSec);
          lease = l;
          l.on('keepaliveSucceeded', onRenewed);
          l.on('lost', onLost);
          l.grant().then(
            (id) => {
              if (lease !== l) return;
              call = election.Campaign(
                { name: Buffer.from(config.name), lease: id, value: Buffer.from(config.value) },
                (err, res) => {
                  call = null;
                  if (err || !res) {
                    if (lease === l) hooks.error(err ?? new Error('empty Campaign response'));
                    return;
                  }
                  leader = res.leader;
                  hooks.elected();
                },
              );
            },
            (err: unknown) => hooks.error(err),
          );
        },
        async stop() {
          const l = lease;
          lease = null;
          call?.cancel();
          if (leader) {
            const key = leader;
            leader = null;
            await new Promise<void>((resolve) => election.Resign({ leader: key }, () => resolve()));
          }
          if (l) {
            l.off('keepaliveSucceeded', onRenewed);
            l.off('lost', onLost);
            await release(config.ttlSec);
          }
        },
      };
    },
    async close() {
      election.close();
      etcd.close();
    },
  };
  return adapter;
};
