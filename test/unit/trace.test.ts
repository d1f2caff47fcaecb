import { describe, expect, it } from 'vitest';
import type * as etcd from 'etcd3';
import { LockedError } from '../../src/errors.js';
import { Traces, type TracedCall, type TransportTrace } from '../../src/transport/trace.js';
import { Transport } from '../../src/transport/transport.js';
import { decodeWatchResponse } from '../../src/transport/watch-response.js';

/** A Transport over a stand-in for the etcd3 client: its kv calls record what was sent. */
function fakeTransport(txnResult: () => Promise<etcd.ITxnResponse> = async () => ({}) as etcd.ITxnResponse): {
  transport: Transport;
  sent: unknown[];
  stream: object;
} {
  const sent: unknown[] = [];
  const stream = { fake: 'stream', on: () => stream };
  // etcd3's pool as a watch call uses it (watch-call.ts): a member's gRPC client of the Watch service.
  class WatchService {
    static service = { Watch: { path: '/etcdserverpb.Watch/Watch', requestSerialize: () => Buffer.alloc(0) } };
    makeBidiStreamRequest(path: string, _serialize: unknown, deserialize: unknown): object {
      sent.push({ path, deserialize });
      return stream;
    }
  }
  const client = {
    pool: {
      withConnection: (_service: string, fn: (a: object) => unknown) =>
        Promise.resolve(fn({ resource: null, client: new WatchService(), metadata: {} })),
      callOptionsFactory: undefined,
    },
    kv: {
      txn: (req: unknown) => (sent.push(req), txnResult()),
      range: async (req: unknown) => (sent.push(req), {}),
    },
    leaseClient: {
      leaseGrant: async (req: unknown) => (sent.push(req), { ID: '0', TTL: '0', error: 'no lease for you' }),
      leaseKeepAlive: async () => stream,
    },
  };
  const transport = new Transport(client as unknown as etcd.Etcd3, false, { requestTimeoutMs: 1000 });
  return { transport, sent, stream };
}

/** A trace that logs what each hook saw. */
function logger(log: string[], name = ''): TransportTrace {
  return {
    request: (call) => void log.push(`${name}request ${call.method} ${call.what}`),
    settled: (call, error) => void log.push(`${name}settled ${call.what} ${error ? error.code : 'ok'}`),
    opened: (opened) => void log.push(`${name}opened ${opened.kind}`),
  };
}

describe('Traces', () => {
  it('calls each added trace until its remove function is called', () => {
    const traces = new Traces();
    const log: string[] = [];
    const call: TracedCall = { method: 'range', what: 'read', request: {} };
    const remove = traces.add(logger(log));
    traces.add({}); // every hook is optional
    expect(traces.size).toBe(2);
    traces.settled(call, null);
    remove();
    traces.settled(call, null);
    expect(traces.size).toBe(1);
    expect(log).toEqual(['settled read ok']);
  });
});

describe('a transport with traces', () => {
  it('reports each unary call before it is sent and when it settles, from every view of the client', async () => {
    const { transport, sent } = fakeTransport();
    const log: string[] = [];
    transport.trace.add({
      ...logger(log),
      request: (call) => void log.push(`request ${call.what} (${sent.length} sent)`),
    });
    await transport.txn({ compare: [] }, 'resign');
    await transport.withTimeout(50).range({ key: Buffer.from('k') }, 'read next candidate');
    expect(log).toEqual([
      'request resign (0 sent)',
      'settled resign ok',
      'request read next candidate (1 sent)',
      'settled read next candidate ok',
    ]);
  });

  it('a throwing request hook fails that call before it is sent, classified; every trace still sees it', async () => {
    const { transport, sent } = fakeTransport();
    const log: string[] = [];
    transport.trace.add({
      request: (call) => {
        if (call.what === 'resign') throw new Error('injected');
      },
    });
    transport.trace.add(logger(log, 'b: '));
    const err = await transport.txn({}, 'resign').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LockedError);
    expect(err).toMatchObject({ code: 'UNAVAILABLE', message: 'resign: injected' });
    expect(sent).toEqual([]);
    expect(log).toEqual(['b: request txn resign', 'b: settled resign UNAVAILABLE']);
    await transport.txn({}, 'claim term'); // other calls go through
    expect(sent).toHaveLength(1);
  });

  it('a LockedError thrown by a hook is the call’s error as it is', async () => {
    const { transport } = fakeTransport();
    const injected = new LockedError('LEASE_LOST', 'injected: lease gone');
    transport.trace.add({
      request: () => {
        throw injected;
      },
    });
    await expect(transport.range({ key: Buffer.from('k') })).rejects.toBe(injected);
  });

  it('a request hook may hold the call with a promise, change the request, or fail it by rejecting', async () => {
    const { transport, sent } = fakeTransport();
    let release = (): void => undefined;
    transport.trace.add({
      request: (call) => {
        if (call.method === 'range') call.request.revision = '7';
        if (call.what === 'held') return new Promise<void>((resolve) => (release = resolve));
        if (call.what === 'refused') return Promise.reject(new Error('no'));
        return undefined;
      },
    });
    const held = transport.range({ key: Buffer.from('k') }, 'held');
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([]);
    release();
    await held;
    expect(sent).toEqual([{ key: Buffer.from('k'), revision: '7' }]);
    await expect(transport.txn({}, 'refused')).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'refused: no' });
    expect(sent).toHaveLength(1);
  });

  it('reports a failure of etcd classified, and a grant etcd refused as failed', async () => {
    const { transport } = fakeTransport(() => Promise.reject(new Error('etcdserver: requested lease not found')));
    const log: string[] = [];
    transport.trace.add(logger(log));
    await expect(transport.txn({}, 'confirm leader keys')).rejects.toMatchObject({ code: 'LEASE_LOST' });
    await expect(transport.grant(5)).rejects.toMatchObject({ message: 'lease grant: no lease for you' });
    expect(log).toEqual([
      'request txn confirm leader keys',
      'settled confirm leader keys LEASE_LOST',
      'request grant lease grant',
      'settled lease grant UNAVAILABLE',
    ]);
  });

  it('hands each stream it opens to the traces before it returns it', async () => {
    const { transport, stream, sent } = fakeTransport();
    const opened: unknown[] = [];
    transport.trace.add({ opened: (o) => void opened.push([o.kind, o.stream]) });
    expect(await transport.openWatch()).toBe(stream);
    expect(await transport.openKeepAlive()).toBe(stream);
    expect(opened).toEqual([
      ['watch', stream],
      ['keepalive', stream],
    ]);
    // The watch call is etcd's Watch, its responses decoded by locked's own decoder.
    expect(sent).toEqual([{ path: '/etcdserverpb.Watch/Watch', deserialize: decodeWatchResponse }]);
  });
});
