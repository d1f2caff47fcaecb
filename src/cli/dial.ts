import { connect } from 'node:net';
import { delay } from '../core/abort.js';

/**
 * etcdctl's --dial-timeout: resolves once a TCP connection to one of `hosts`
 * (`host:port`, IPv6 in brackets) opens; retries refused or failed connections
 * until `timeoutMs` has passed, then throws one line naming every endpoint and
 * its last error. Only the TCP dial is bounded here: TLS and etcd's answers
 * are the request deadline's (--command-timeout).
 */
export async function dial(hosts: readonly string[], timeoutMs: number, source: string): Promise<void> {
  const until = performance.now() + timeoutMs;
  const lastError = new Map<string, string>(hosts.map((h) => [h, 'no answer']));
  let pauseMs = 50;
  for (;;) {
    const leftMs = until - performance.now();
    if (leftMs <= 0) break;
    const done = new AbortController();
    const attempts = hosts.map((h) =>
      open(h, leftMs, done.signal).catch((err: unknown) => {
        lastError.set(h, (err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err)));
        throw err;
      }),
    );
    const connected = await Promise.any(attempts).then(
      () => true,
      () => false,
    );
    done.abort(); // the other endpoints' attempts are not needed any more
    if (connected) return;
    await delay(Math.min(pauseMs, Math.max(0, until - performance.now())));
    pauseMs = Math.min(pauseMs * 2, 500);
  }
  const reasons = [...lastError].map(([h, reason]) => `${h} ${reason}`).join(', ');
  throw new Error(`cannot connect to etcd within ${formatMs(timeoutMs)} (${source}): ${reasons}`);
}

/** Opens a TCP connection to `host:port` and closes it again; rejects on error, after `timeoutMs` or on `stop`. */
function open(hostPort: string, timeoutMs: number, stop: AbortSignal): Promise<void> {
  const at = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(hostPort.slice(at + 1));
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const end = (err?: Error): void => {
      clearTimeout(timer);
      stop.removeEventListener('abort', onStop);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    };
    const onStop = (): void => end(new Error('not needed'));
    const timer = setTimeout(() => end(new Error('timed out')), timeoutMs);
    stop.addEventListener('abort', onStop, { once: true });
    socket.once('connect', () => end());
    socket.once('error', end);
  });
}

function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}
