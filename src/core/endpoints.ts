import { describe } from './validate.js';

/**
 * Parses the seed's `etcdhosts`: a comma-separated string or an array of
 * `host:port`, each with an optional `http://` or `https://` scheme. A missing
 * port means etcd's client port 2379. Returns `host:port` strings without scheme
 * and whether any entry asked for TLS.
 */
export interface Endpoints {
  readonly hosts: string[];
  readonly tls: boolean;
}

const ENTRY = /^(?:(https?):\/\/)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+)(?::([^/]*))?\/?$/;

export function parseEndpoints(input: unknown, field = 'hosts'): Endpoints {
  let entries: unknown[];
  if (typeof input === 'string') entries = input.split(',');
  else if (Array.isArray(input)) entries = input.flatMap((e: unknown) => (typeof e === 'string' ? e.split(',') : [e]));
  else
    throw new TypeError(
      `${field} must be a comma-separated string or an array of "host:port" strings (or an Etcd3 client), got ${describe(input)}`,
    );
  const hosts: string[] = [];
  let tls = false;
  for (const entry of entries) {
    if (typeof entry !== 'string') throw new TypeError(`${field} entries must be strings, got ${describe(entry)}`);
    const trimmed = entry.trim();
    if (trimmed === '') continue;
    const match = ENTRY.exec(trimmed);
    if (!match)
      throw new TypeError(`${field} entry ${JSON.stringify(trimmed)} is not of the form [scheme://]host[:port]`);
    const [, scheme, host, portText] = match;
    let port = 2379;
    if (portText !== undefined) {
      port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
      if (!(port >= 1 && port <= 65535)) {
        throw new RangeError(
          `${field} entry ${JSON.stringify(trimmed)} has port ${JSON.stringify(portText)}; a port must be an integer from 1 to 65535`,
        );
      }
    }
    if (scheme === 'https') tls = true;
    hosts.push(`${host}:${port}`);
  }
  if (hosts.length === 0) throw new TypeError(`${field} must name at least one etcd endpoint, got ${describe(input)}`);
  return { hosts, tls };
}
