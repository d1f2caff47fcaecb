import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { UsageError } from './usage.js';

/**
 * Prometheus metrics of `locked run` (prom-client, a registry of our own).
 * Every series carries the election path as the label `election`.
 */
export class RunMetrics {
  readonly registry = new Registry();
  readonly isLeader: Gauge;
  readonly terms: Counter;
  readonly transitions: Counter<'to'>;
  readonly renewLatency: Histogram;
  readonly failovers: Counter;
  readonly leaderToken: Gauge;
  readonly sessionLive: Gauge;

  /** `sessionLive` is read at each scrape. */
  constructor(election: string, sessionLive: () => boolean) {
    this.registry.setDefaultLabels({ election });
    const registers = [this.registry];
    this.isLeader = new Gauge({
      name: 'locked_is_leader',
      help: '1 while this runner holds a provable term (its command may run), else 0',
      registers,
    });
    this.terms = new Counter({ name: 'locked_terms_total', help: 'Terms won by this runner', registers });
    this.transitions = new Counter({
      name: 'locked_transitions_total',
      help: 'Leadership transitions of this runner, by the state entered',
      labelNames: ['to'],
      registers,
    });
    this.renewLatency = new Histogram({
      name: 'locked_renew_latency_seconds',
      help: 'Round trip of successful lease keepalives (send to reply)',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.failovers = new Counter({
      name: 'locked_failovers_total',
      help: 'Changes of the election leader to another candidate seen by this runner (the first leader seen is not counted)',
      registers,
    });
    this.leaderToken = new Gauge({
      name: 'locked_leader_token',
      help: 'Fencing token (create revision) of the election leader as last seen; 0 when none',
      registers,
    });
    this.sessionLive = new Gauge({
      name: 'locked_session_live',
      help: '1 while the session has a lease it can prove live, else 0',
      registers,
      collect() {
        this.set(sessionLive() ? 1 : 0);
      },
    });
    this.transitions.inc({ to: 'leader' }, 0);
    this.transitions.inc({ to: 'follower' }, 0);
    collectDefaultMetrics({ register: this.registry });
  }
}

export interface MetricsAddress {
  readonly host: string;
  readonly port: number;
}

/** `--metrics-port [HOST:]PORT`; the host defaults to 127.0.0.1 (loopback only). */
export function parseMetricsAddress(command: string, text: string): MetricsAddress {
  const match = /^(?:(.+):)?(\d{1,5})$/.exec(text.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || !(port >= 0 && port <= 65535)) {
    throw new UsageError(
      `${command}: --metrics-port must be [HOST:]PORT with a port from 0 to 65535, got ${JSON.stringify(text)}`,
    );
  }
  return { host: match[1] ?? '127.0.0.1', port };
}

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Serves `/metrics` (Prometheus text format) and `/healthz`, which answers 200
 * while `healthy()` holds and 503 otherwise.
 */
export async function serveMetrics(
  address: MetricsAddress,
  registry: Registry,
  healthy: () => boolean,
): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/metrics') {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        (err: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`${err instanceof Error ? err.message : String(err)}\n`);
        },
      );
    } else if (path === '/healthz') {
      const ok = healthy();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' });
      res.end(ok ? 'ok\n' : 'no live lease: the session cannot be proven live\n');
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found: try /metrics or /healthz\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = server.address();
  return {
    port: typeof bound === 'object' && bound ? bound.port : address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
