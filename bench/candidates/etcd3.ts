import { Etcd3, type Campaign, type Lease } from 'etcd3';
import type { Adapter, Connect } from './adapter.js';

/**
 * npm etcd3's Election: `client.election(name, ttl).campaign(value)`, resigned
 * with `campaign.resign()` (which revokes the campaign's own lease). The
 * campaign's lease is private in etcd3's types; we only listen to its events.
 */
export const connect: Connect = async (endpoints) => {
  const client = new Etcd3({ hosts: endpoints.split(',') });
  await client.get('/bench/warmup').string(); // connect before timing
  const adapter: Adapter = {
    join(config, hooks) {
      const election = client.election(config.name, config.ttlSec);
      let campaign: Campaign | null = null;
      return {
        start() {
          const c = election.campaign(config.value);
          campaign = c;
          c.on('elected', () => hooks.elected());
          c.on('error', (err) => {
            hooks.error(err);
            hooks.deposed();
          });
          const lease = (c as unknown as { lease: Lease }).lease;
          lease.on('keepaliveSucceeded', () => hooks.renewed());
        },
        async stop() {
          await campaign?.resign();
        },
      };
    },
    close: async () => client.close(),
  };
  return adapter;
};
