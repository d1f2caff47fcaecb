import { LockedClient, type Term } from '../../src/api.js';
import type { Adapter, Connect } from './adapter.js';

/**
 * locked's core API: one LockedClient per process, `client.election(name)`
 * on the client's shared session (one lease, one keepalive per renewal for all
 * elections), `campaign(value)` resolves with the term, `term.resign()`.
 */
export const connect: Connect = async (endpoints, trace) => {
  let client: LockedClient | null = null;
  const clients = new Map<number, LockedClient>();
  const clientFor = (ttlSec: number): LockedClient => {
    let c = clients.get(ttlSec);
    if (!c) {
      c = new LockedClient({ endpoints, ttl: ttlSec });
      if (trace) c.transport.trace.add(trace);
      clients.set(ttlSec, c);
    }
    return c;
  };
  client = clientFor(10);
  await client.transport.range({ key: Buffer.from('/bench/warmup') }); // connect before timing
  const adapter: Adapter = {
    join(config, hooks) {
      const election = clientFor(config.ttlSec).election(config.name);
      const stop = new AbortController();
      let term: Term | null = null;
      let offRenewed: (() => void) | null = null;
      return {
        start() {
          election.campaign(config.value, { signal: stop.signal }).then(
            (t) => {
              term = t;
              offRenewed = election.session.renewed.add((lease) => {
                if (lease.id === t.lease.id) hooks.renewed();
              });
              t.onEnd(() => hooks.deposed());
              hooks.elected();
            },
            (err: unknown) => {
              if (!stop.signal.aborted) hooks.error(err);
            },
          );
        },
        async stop() {
          stop.abort();
          offRenewed?.();
          await term?.resign().catch(() => undefined);
        },
      };
    },
    async close() {
      await Promise.all([...clients.values()].map((c) => c.close()));
    },
  };
  return adapter;
};
