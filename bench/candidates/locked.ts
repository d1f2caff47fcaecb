import { locked } from '../../src/api.js';
import type { Adapter, Connect } from './adapter.js';

/** locked's seed facade: `locked(endpoints)({ path, value, ttl })`, one locker per process. */
export const connect: Connect = async (endpoints, trace) => {
  const locker = locked(endpoints);
  if (trace) locker.client.transport.trace.add(trace);
  await locker.client.transport.range({ key: Buffer.from('/bench/warmup') }); // connect before timing
  const adapter: Adapter = {
    join(config, hooks) {
      const node = locker({ path: config.name, value: config.value, ttl: config.ttlSec });
      node.on('select', () => hooks.elected());
      node.on('deselect', () => hooks.deposed());
      node.on('refresh', () => hooks.renewed());
      node.on('error', (err) => hooks.error(err));
      return {
        start: () => void node.start(),
        stop: () => node.stop(),
      };
    },
    close: () => locker.close(),
  };
  return adapter;
};
