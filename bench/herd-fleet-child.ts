/**
 * One process of `npm run bench:herd-fleet` (`node --import tsx herd-fleet-child.ts <endpoints> <path>`),
 * driven by the parent over IPC. It hosts lockers, each `locked(endpoints)` its own client with one
 * seed node on the election `path` (id `n<k>`, k its place in the queue, TTL 5 s), and counts per
 * locker what its client's transport took and sent: watch events delivered, keepalive replies, and
 * unary requests by the library's label. It exits when told, or when the parent goes away.
 */
import { locked, type LockedNode, type Locker } from '../src/api.js';
import {
  nodeId,
  viewKey,
  type Command,
  type LockerCounters,
  type Reply,
  type Request,
  type Results,
} from './lib/herd-fleet-protocol.js';

interface Hosted {
  readonly locker: Locker;
  readonly node: LockedNode;
  readonly counters: Omit<LockerCounters, 'k'> & { events: number; keepaliveReplies: number; inFlight: number };
  stopped: boolean;
}

const [endpoints, path] = process.argv.slice(2) as [string, string];
const hosted = new Map<number, Hosted>();

const count = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

function host(k: number): Hosted {
  const locker = locked(endpoints);
  const counters: Hosted['counters'] = {
    events: 0,
    keepaliveReplies: 0,
    errors: {},
    requests: {},
    failed: {},
    inFlight: 0,
    opened: {},
  };
  locker.client.transport.trace.add({
    received(r) {
      if (r.kind === 'watch') counters.events += r.message.events.length;
      else counters.keepaliveReplies++;
    },
    request(call) {
      count(counters.requests, call.what);
      counters.inFlight++;
    },
    opened: (o) => count(counters.opened, o.kind),
    settled(call, error) {
      counters.inFlight--;
      if (error) count(counters.failed, `${call.what}: ${error.code}`);
    },
  });
  const node = locker({ id: nodeId(k), path, value: `v${k}`, ttl: 5 });
  node.on('error', (err) => count(counters.errors, `${err.code}: ${err.message.replace(/\d+/g, 'N')}`));
  const entry = { locker, node, counters, stopped: false };
  hosted.set(k, entry);
  return entry;
}

function hostedAt(k: number): Hosted {
  const entry = hosted.get(k);
  if (!entry) throw new Error(`no locker ${k} in process ${process.pid}`);
  return entry;
}

async function run(cmd: Command): Promise<Results[Command['op']]> {
  switch (cmd.op) {
    case 'add':
      await host(cmd.k).node.start();
      return null;
    case 'stop': {
      const entry = hostedAt(cmd.k);
      entry.stopped = true;
      await entry.node.stop();
      return null;
    }
    case 'proclaim':
      await hostedAt(cmd.k).node.proclaim(cmd.value);
      return null;
    case 'counters':
      return [...hosted].map(([k, { counters: c }]) => ({
        k,
        ...c,
        errors: { ...c.errors },
        requests: { ...c.requests },
        failed: { ...c.failed },
        opened: { ...c.opened },
      }));
    case 'views': {
      const views: Record<string, number> = {};
      for (const { node, stopped } of hosted.values()) {
        if (stopped) continue;
        const key = viewKey(node.id(), node.value());
        views[key] = (views[key] ?? 0) + 1;
      }
      return views;
    }
    case 'exit': {
      const closing = Promise.all([...hosted.values()].map((h) => h.locker.close().catch(() => undefined)));
      await Promise.race([closing, new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
      setImmediate(() => process.exit(0));
      return null;
    }
  }
}

process.on('message', (req: Request) => {
  run(req).then(
    (result) => process.send?.({ seq: req.seq, result } satisfies Reply),
    (err: unknown) =>
      process.send?.({ seq: req.seq, error: err instanceof Error ? err.message : String(err) } satisfies Reply),
  );
});
process.on('disconnect', () => process.exit(1));
process.send?.({ seq: 0, result: 'up' } satisfies Reply);
