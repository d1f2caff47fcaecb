import { readFileSync } from 'node:fs';
import type { ClientOptions } from '../api.js';
import { durationMs, UsageError, type Flags, type FlagSpec } from './usage.js';

/**
 * The connection flags every command shares, in etcdctl's style and with
 * etcdctl's environment variables as fallbacks: --endpoints (ETCDCTL_ENDPOINTS),
 * --cacert/--cert/--key (ETCDCTL_CACERT/_CERT/_KEY), --user name[:password]
 * (ETCDCTL_USER) with the password also from --password, ETCDCTL_PASSWORD or
 * LOCKED_PASSWORD.
 */
export const CONNECTION_FLAGS: FlagSpec = {
  endpoints: { type: 'string' },
  cacert: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  user: { type: 'string' },
  password: { type: 'string' },
  'command-timeout': { type: 'string' },
};

export const DEFAULT_ENDPOINTS = '127.0.0.1:2379';

export type Connection = Pick<ClientOptions, 'endpoints' | 'tls' | 'auth' | 'requestTimeoutMs'> & {
  readonly endpoints: string;
};

type Env = Readonly<Record<string, string | undefined>>;

export function connectionFrom(flags: Flags, env: Env = process.env): Connection {
  const cmd = flags.command;
  const pick = (flag: string, envName: string): string | undefined => {
    const v = flags.string(flag) ?? env[envName];
    return v === '' ? undefined : v;
  };
  let endpoints = pick('endpoints', 'ETCDCTL_ENDPOINTS') ?? DEFAULT_ENDPOINTS;
  const cacert = pick('cacert', 'ETCDCTL_CACERT');
  const cert = pick('cert', 'ETCDCTL_CERT');
  const key = pick('key', 'ETCDCTL_KEY');
  if ((cert === undefined) !== (key === undefined)) {
    throw new UsageError(`${cmd}: --cert and --key go together (a client certificate needs its private key)`);
  }
  const read = (flag: string, path: string | undefined): Buffer | undefined => {
    if (path === undefined) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      const reason = (err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err));
      throw new UsageError(`${cmd}: cannot read --${flag} file ${JSON.stringify(path)} (${reason})`);
    }
  };
  const tlsFlags = cacert !== undefined || cert !== undefined;
  if (tlsFlags) {
    // Certificates mean TLS: endpoints without a scheme are https.
    endpoints = endpoints
      .split(',')
      .map((e) => e.trim())
      .filter((e) => e !== '')
      .map((e) => (/^https?:\/\//.test(e) ? e : `https://${e}`))
      .join(',');
  }
  const ca = read('cacert', cacert);
  const certPem = read('cert', cert);
  const keyPem = read('key', key);
  const tls = tlsFlags
    ? { ...(ca ? { ca } : {}), ...(certPem ? { cert: certPem } : {}), ...(keyPem ? { key: keyPem } : {}) }
    : undefined;

  let auth: { username: string; password: string } | undefined;
  const user = pick('user', 'ETCDCTL_USER');
  if (user !== undefined) {
    const at = user.indexOf(':');
    const username = at < 0 ? user : user.slice(0, at);
    const fromEnv = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
    const password =
      at < 0
        ? (flags.string('password') ?? fromEnv('ETCDCTL_PASSWORD') ?? fromEnv('LOCKED_PASSWORD'))
        : user.slice(at + 1);
    if (username === '') throw new UsageError(`${cmd}: --user needs a user name, as name[:password]`);
    if (password === undefined) {
      throw new UsageError(
        `${cmd}: --user ${username} needs a password: --user ${username}:PASSWORD, --password, ETCDCTL_PASSWORD or LOCKED_PASSWORD`,
      );
    }
    auth = { username, password };
  } else if (flags.string('password') !== undefined) {
    throw new UsageError(`${cmd}: --password needs --user`);
  }

  const timeout = flags.string('command-timeout');
  const timeoutMs = timeout === undefined ? undefined : durationMs(cmd, 'command-timeout', timeout);
  return {
    endpoints,
    ...(tls ? { tls } : {}),
    ...(auth ? { auth } : {}),
    ...(timeoutMs !== undefined ? { requestTimeoutMs: timeoutMs } : {}),
  };
}
