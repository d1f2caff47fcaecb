import type { LockedClient } from '../../src/api.js';
import { Transport } from '../../src/transport/transport.js';

export interface SpiedCall {
  readonly what: string;
  readonly startMs: number;
  doneMs: number | null;
  failed: boolean;
}

export interface TransportSpy {
  readonly calls: SpiedCall[];
  /** Most calls of this client in flight at once. */
  readonly maxInFlight: number;
  of(what: string): SpiedCall[];
  restore(): void;
}

type Unary = (this: Transport, req: unknown, what?: string) => Promise<unknown>;

/**
 * Records the unary calls (`txn`, `range`) one client's transports make, by
 * their label, and can fail chosen ones before they are sent. Wraps
 * Transport.prototype (every transport view of a client shares it) and tells
 * clients apart by their etcd3 client; `restore()` puts the prototype back.
 */
export function spyTransport(client: LockedClient, fail?: (what: string, nth: number) => Error | null): TransportSpy {
  const proto = Transport.prototype as unknown as Record<'txn' | 'range', Unary>;
  const calls: SpiedCall[] = [];
  const counts = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const originals = { txn: proto.txn, range: proto.range };
  for (const method of ['txn', 'range'] as const) {
    const original = originals[method];
    proto[method] = async function (this: Transport, req: unknown, what: string = method): Promise<unknown> {
      if (this.client !== client.transport.client) return original.call(this, req, what);
      const nth = (counts.get(what) ?? 0) + 1;
      counts.set(what, nth);
      const call: SpiedCall = { what, startMs: performance.now(), doneMs: null, failed: false };
      calls.push(call);
      const injected = fail?.(what, nth);
      if (injected) {
        call.failed = true;
        call.doneMs = performance.now();
        throw injected;
      }
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      try {
        return await original.call(this, req, what);
      } catch (err) {
        call.failed = true;
        throw err;
      } finally {
        inFlight--;
        call.doneMs = performance.now();
      }
    };
  }
  return {
    calls,
    get maxInFlight() {
      return maxInFlight;
    },
    of: (what) => calls.filter((c) => c.what === what),
    restore() {
      proto.txn = originals.txn;
      proto.range = originals.range;
    },
  };
}

type StreamOpener = 'openWatch' | 'openKeepAlive';
type OpenedStream<M extends StreamOpener> = Awaited<ReturnType<Transport[M]>>;

/**
 * Calls `onStream` with each stream of kind `method` (watch or keepalive) that
 * `client` opens, before the library uses it, so a test can wrap its `write`
 * or `cancel`. Returns the function that puts Transport.prototype back.
 */
export function onStreams<M extends StreamOpener>(
  client: LockedClient,
  method: M,
  onStream: (stream: OpenedStream<M>) => void,
): () => void {
  const proto = Transport.prototype as unknown as Record<M, (this: Transport) => Promise<OpenedStream<M>>>;
  const original = proto[method];
  proto[method] = async function (this: Transport): Promise<OpenedStream<M>> {
    const stream = await original.call(this);
    if (this.client === client.transport.client) onStream(stream);
    return stream;
  };
  return () => {
    proto[method] = original;
  };
}
