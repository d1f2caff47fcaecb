/**
 * Counters from etcd's Prometheus /metrics, summed over the cluster's
 * members, and the differences between two scrapes. Metric lines are kept
 * whole (`name{labels}`) so callers can group by method.
 */
export type Counters = Map<string, number>;

export async function scrape(urls: string[]): Promise<Counters> {
  const total: Counters = new Map();
  for (const url of urls) {
    const text = await fetch(url).then(
      (r) => r.text(),
      () => '',
    );
    for (const line of text.split('\n')) {
      if (line.startsWith('#') || line === '') continue;
      const space = line.lastIndexOf(' ');
      const key = line.slice(0, space);
      const value = Number(line.slice(space + 1));
      if (Number.isFinite(value)) total.set(key, (total.get(key) ?? 0) + value);
    }
  }
  return total;
}

export function diff(before: Counters, after: Counters): Counters {
  const out: Counters = new Map();
  for (const [key, value] of after) out.set(key, value - (before.get(key) ?? 0));
  return out;
}

/** Sum of the counters whose line starts with `name` and contains every `labels` fragment. */
export function sum(counters: Counters, name: string, ...labels: string[]): number {
  let total = 0;
  for (const [key, value] of counters) {
    if ((key === name || key.startsWith(`${name}{`)) && labels.every((l) => key.includes(l))) total += value;
  }
  return total;
}

/** What clients asked of etcd between two scrapes. */
export interface Traffic {
  /** gRPC messages received (unary requests and stream messages, e.g. each keepalive) plus v2 HTTP requests. */
  readonly requests: number;
  readonly keepalives: number;
  /** Reads: KV Range calls plus v2 GETs that are not long-poll watches. */
  readonly ranges: number;
  readonly writes: number;
  /** Watch-stream messages received (creates and cancels), plus v2 long-poll watch requests. */
  readonly watchRequests: number;
  readonly v2Requests: number;
  /** Watch events etcd sent to watchers (v3 mvcc). */
  readonly watchEvents: number;
}

export function traffic(d: Counters): Traffic {
  const received = (method: string): number => sum(d, 'grpc_server_msg_received_total', `grpc_method="${method}"`);
  // etcd counts v2 long-poll watches (GET ?wait=true) apart from its other v2 requests.
  const v2Watches = sum(d, 'etcd_debugging_store_watch_requests_total');
  const v2Requests = sum(d, 'etcd_http_received_total') + v2Watches;
  return {
    requests: sum(d, 'grpc_server_msg_received_total') + v2Requests,
    keepalives: received('LeaseKeepAlive'),
    ranges: received('Range') + sum(d, 'etcd_http_received_total', 'method="GET"'),
    writes:
      received('Txn') +
      received('Put') +
      received('DeleteRange') +
      received('LeaseGrant') +
      received('LeaseRevoke') +
      sum(d, 'etcd_http_received_total', 'method="PUT"') +
      sum(d, 'etcd_http_received_total', 'method="DELETE"') +
      sum(d, 'etcd_http_received_total', 'method="POST"'),
    watchRequests: received('Watch') + v2Watches,
    v2Requests,
    watchEvents: sum(d, 'etcd_debugging_mvcc_events_total'),
  };
}
