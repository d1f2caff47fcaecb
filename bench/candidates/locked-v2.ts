import lockedV2 from 'locked-v2';
import type { Adapter, Connect } from './adapter.js';

/**
 * The original locked@2.4.1 (etcd v2 HTTP API via etcdjs), used exactly as its
 * README says: `locked(hosts)({ path, value, ttl })`. Its `stop()` releases
 * nothing (the key stays until its TTL), which the handover numbers show.
 * A node's key is written only when it wins (its refresh always fails), so
 * `select` and `refresh` are the moments its key's TTL restarts.
 */
export const connect: Connect = async (endpoints) => {
  const locker = lockedV2(endpoints);
  const adapter: Adapter = {
    join(config, hooks) {
      const node = locker({ path: config.name, value: config.value, ttl: config.ttlSec });
      node.on('select', () => {
        hooks.elected();
        hooks.renewed();
      });
      node.on('refresh', () => hooks.renewed());
      node.on('deselect', () => hooks.deposed());
      node.on('error', (err) => hooks.error(err));
      return {
        start: () => node.start(),
        stop: async () => node.stop(),
      };
    },
    close: async () => undefined,
  };
  return adapter;
};
