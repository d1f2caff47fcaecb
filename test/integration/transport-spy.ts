import type { LockedClient } from '../../src/api.js';
import type { KeepAliveStream, WatchStream } from '../../src/transport/transport.js';
import type { TracedCall, TracedMessage } from '../../src/transport/trace.js';

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

/**
 * Records the unary calls (`txn`, `range`) one client's transports make, by
 * their label, and can fail chosen ones before they are sent (`fail` returns
 * the error to fail the nth call of that label with). A trace on the client's
 * transport (every view of a client reports to it); `restore()` removes it.
 */
export function spyTransport(client: LockedClient, fail?: (what: string, nth: number) => Error | null): TransportSpy {
  const calls: SpiedCall[] = [];
  const spied = new Map<TracedCall, SpiedCall>();
  const counts = new Map<string, number>();
  let inFlight = 0;
  let maxInFlight = 0;
  const restore = client.transport.trace.add({
    request(call) {
      if (call.method !== 'txn' && call.method !== 'range') return;
      const { what } = call;
      const nth = (counts.get(what) ?? 0) + 1;
      counts.set(what, nth);
      const spiedCall: SpiedCall = { what, startMs: performance.now(), doneMs: null, failed: false };
      calls.push(spiedCall);
      const injected = fail?.(what, nth);
      if (injected) {
        spiedCall.failed = true;
        spiedCall.doneMs = performance.now();
        throw injected;
      }
      spied.set(call, spiedCall);
      maxInFlight = Math.max(maxInFlight, ++inFlight);
    },
    settled(call, error) {
      const spiedCall = spied.get(call);
      if (!spiedCall) return;
      spied.delete(call);
      inFlight--;
      spiedCall.failed = error !== null;
      spiedCall.doneMs = performance.now();
    },
  });
  return {
    calls,
    get maxInFlight() {
      return maxInFlight;
    },
    of: (what) => calls.filter((c) => c.what === what),
    restore,
  };
}

interface Streams {
  watch: WatchStream;
  keepalive: KeepAliveStream;
}

/**
 * Calls `onStream` with each stream of `kind` (watch or keepalive) that
 * `client` opens, before the library uses it, so a test can wrap its `write`
 * or `cancel`. Returns the function that removes the trace.
 */
export function onStreams<K extends keyof Streams>(
  client: LockedClient,
  kind: K,
  onStream: (stream: Streams[K]) => void,
): () => void {
  return client.transport.trace.add({
    opened(opened) {
      if (opened.kind === kind) onStream(opened.stream as Streams[K]);
    },
  });
}

/**
 * Counts what `client` takes from its streams from now on: watch events
 * delivered to its live watches (as `events`, each with its revision), and
 * keepalive replies on its sessions' streams. `stop()` removes the trace.
 */
export function countReceived(client: LockedClient): {
  readonly events: bigint[];
  readonly keepaliveReplies: number;
  stop(): void;
} {
  const events: bigint[] = [];
  let keepaliveReplies = 0;
  const stop = client.transport.trace.add({
    received(received: TracedMessage) {
      if (received.kind === 'keepalive') keepaliveReplies++;
      else for (const e of received.message.events) events.push(BigInt(e.kv.mod_revision));
    },
  });
  return {
    events,
    get keepaliveReplies() {
      return keepaliveReplies;
    },
    stop,
  };
}
