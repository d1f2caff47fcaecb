import type * as grpc from '@grpc/grpc-js';
import type * as etcd from 'etcd3';
import { serviceMethods } from './parked-txn.js';
import { decodeWatchResponse } from './watch-response.js';

/** The part of etcd3's connection pool a watch call needs: what etcd3's own `watchClient.watch()` uses. */
export type WatchPool = Pick<etcd.ICallable<unknown>, 'withConnection' | 'markFailed' | 'callOptionsFactory'>;

/**
 * Opens etcd's Watch call as etcd3's `watchClient.watch()` does — on a member the pool picks, with its
 * auth metadata and default call options, marking the member failed when the call errs while still
 * writable — but with locked's own decoder of the responses (watch-response.ts) in place of protobufjs's.
 * Requests are encoded by etcd3's codec, as before.
 */
export function openWatchCall(pool: WatchPool): Promise<etcd.IDuplexStream<etcd.IWatchRequest, etcd.IWatchResponse>> {
  return pool.withConnection('Watch', ({ resource, client, metadata }) => {
    const watch = serviceMethods(client)['Watch'];
    if (!watch) throw new Error('the Watch service has no Watch method');
    const stream: grpc.ClientDuplexStream<etcd.IWatchRequest, etcd.IWatchResponse> = client.makeBidiStreamRequest(
      watch.path,
      watch.requestSerialize,
      decodeWatchResponse,
      metadata,
      callOptions(pool),
    );
    stream.on('error', (err: Error) => {
      if (stream.writable) pool.markFailed(resource, err);
    });
    return stream;
  });
}

/** The pool's default call options for a watch stream (etcd3's `resolveCallOptions` with none of our own). */
function callOptions(pool: WatchPool): grpc.CallOptions | undefined {
  const defaults = pool.callOptionsFactory;
  if (defaults === undefined) return undefined;
  return typeof defaults === 'function' ? defaults({ service: 'Watch', method: 'watch', isStream: true }) : defaults;
}
