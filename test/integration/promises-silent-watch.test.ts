/**
 * A watch stream that goes silent (the connection stays open, nothing arrives: a hung member, a
 * half-dead TCP path) is not waited on forever. DESIGN.md: the keepalive watchdog abandons a stream
 * whose keepalive goes unanswered for half a renew interval, and that failure makes the watch stream
 * prove itself (a progress request answered within 2 s, watch-hub.ts `probe`), else every watch is
 * failed and its owner reads again on a new stream. Real etcd behind the harness's cuttable proxy.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LockedClient, type LockedError } from '../../src/api.js';
import { EtcdCluster } from '../../src/testing/etcd-cluster.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { TcpProxy } from '../../src/testing/tcp-proxy.js';
import { onStreams } from './transport-spy.js';

let cluster: EtcdCluster;
let proxy: TcpProxy;
const clients: LockedClient[] = [];

function client(endpoints: string): LockedClient {
  const c = new LockedClient({ endpoints, ttl: 3 }); // renew every second: the watchdog judges after 0.5 s
  clients.push(c);
  return c;
}

beforeAll(async () => {
  cluster = await EtcdCluster.start({ size: 1 });
  proxy = await TcpProxy.start(cluster.members[0]!.clientPort);
});
afterEach(async () => {
  proxy.heal();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});
afterAll(async () => {
  await proxy?.close();
  await cluster?.stop();
});

describe('a watch stream that goes silent', () => {
  it('is failed once a keepalive goes unanswered and the stream does not answer a progress request; the tracker reads again and reports the leader that changed meanwhile', async () => {
    const name = '/promise/silent';
    const watcher = client(proxy.endpoint); // every byte from etcd to it passes the proxy
    const direct = client(cluster.endpoints);
    let streams = 0;
    const restore = onStreams(watcher, 'watch', () => streams++);
    try {
      await watcher.session().lease(); // its keepalives are what notice the silence
      const first = await direct.election(name).campaign('first');
      const leaders: (string | null)[] = [];
      const errors: LockedError[] = [];
      const tracker = watcher.election(name).track(
        (leader) => leaders.push(leader?.value ?? null),
        (err) => errors.push(err),
      );
      await waitFor('the tracker reports the first leader', () => leaders.at(-1) === 'first');
      expect(streams).toBe(1);

      proxy.cut('down'); // etcd → watcher: held, connections open
      await first.resign();
      const second = await client(cluster.endpoints).election(name).campaign('second');
      // A stream trusted forever would report nothing until the heal; the watchdog fails it during the silence.
      await waitFor('the silent stream failed', () => errors.length > 0, { timeoutMs: 15_000 });
      expect(errors[0]!.code).toBe('UNAVAILABLE');
      // The progress probe's verdict, or, when the cut came before etcd acknowledged the tracker's watch
      // (the tracker reports the snapshot's leader before that; a loaded machine can put the cut in
      // between), the create's: either way the hub failed a stream that stayed silent.
      expect(errors[0]!.message).toMatch(/watch stream silent|etcd did not acknowledge a watch/);
      expect(leaders.at(-1)).toBe('first');

      proxy.uncut('down');
      await waitFor('the tracker reports the new leader', () => leaders.at(-1) === 'second', { timeoutMs: 15_000 });
      expect(streams).toBeGreaterThanOrEqual(2); // followed on a new stream, after a new read
      tracker.close();
      await second.resign();
    } finally {
      restore();
    }
  });
});
