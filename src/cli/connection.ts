import { readFileSync } from 'node:fs';
import type { ClientOptions } from '../api.js';
import { parseEndpoints } from '../core/endpoints.js';
import { UsageError, type Flags, type FlagSpec } from './usage.js';
import { flagOrEnv, parseBoolean, parseDuration, type Env, type Setting } from './values.js';

/**
 * The connection flags every command shares, in etcdctl's style and with
 * etcdctl's environment variables as fallbacks (a flag wins): --endpoints
 * (ETCDCTL_ENDPOINTS), --cacert/--cert/--key (ETCDCTL_CACERT/_CERT/_KEY),
 * --insecure-skip-tls-verify (ETCDCTL_INSECURE_SKIP_TLS_VERIFY), --user
 * name[:password] (ETCDCTL_USER) with the password also from --password,
 * ETCDCTL_PASSWORD or LOCKED_PASSWORD, --dial-timeout (ETCDCTL_DIAL_TIMEOUT),
 * --command-timeout (ETCDCTL_COMMAND_TIMEOUT).
 */
export const CONNECTION_FLAGS: FlagSpec = {
  endpoints: { type: 'string' },
  cacert: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'insecure-skip-tls-verify': { type: 'boolean' },
  user: { type: 'string' },
  password: { type: 'string' },
  'dial-timeout': { type: 'string' },
  'command-timeout': { type: 'string' },
};

export const DEFAULT_ENDPOINTS = '127.0.0.1:2379';
/** etcdctl's default --dial-timeout, used by the one-shot commands (status, resign). */
export const DEFAULT_DIAL_TIMEOUT_MS = 2000;

export interface Connection {
  /** What the core client is opened with. */
  readonly client: Pick<ClientOptions, 'tls' | 'auth' | 'requestTimeoutMs'> & { readonly endpoints: string };
  /** The endpoints as `host:port`. */
  readonly hosts: readonly string[];
  /** How long to wait for a first connection to etcd before giving up (null: no limit). */
  readonly dialTimeoutMs: number | null;
  /** Accept any server certificate (etcdctl's --insecure-skip-tls-verify); only for TLS endpoints. */
  readonly insecureSkipTlsVerify: boolean;
}

/**
 * The connection settings from flags and environment, all validated here. `defaultDialMs` is the
 * dial timeout when neither --dial-timeout nor ETCDCTL_DIAL_TIMEOUT is given (null: wait for etcd).
 */
export function connectionFrom(
  flags: Flags,
  env: Env = process.env,
  defaultDialMs: number | null = DEFAULT_DIAL_TIMEOUT_MS,
): Connection {
  const cmd = flags.command;
  // An empty --cacert= (or --cert, --key, --user) means none, as in etcdctl.
  const pick = (flag: string, envName: string): Setting | undefined => {
    const setting = flagOrEnv(flags, flag, envName, env);
    return setting?.text === '' ? undefined : setting;
  };
  const endpointsSetting = flagOrEnv(flags, 'endpoints', 'ETCDCTL_ENDPOINTS', env);
  let endpoints = endpointsSetting?.text ?? DEFAULT_ENDPOINTS;
  let hosts: readonly string[];
  try {
    hosts = parseEndpoints(endpoints, endpointsSetting?.source ?? '--endpoints').hosts;
  } catch (err) {
    throw new UsageError(`${cmd}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const cacert = pick('cacert', 'ETCDCTL_CACERT');
  const cert = pick('cert', 'ETCDCTL_CERT');
  const key = pick('key', 'ETCDCTL_KEY');
  if (cert !== undefined && key === undefined) {
    throw new UsageError(`${cmd}: ${cert.source} needs --key (or ETCDCTL_KEY): a client certificate goes with its key`);
  }
  if (key !== undefined && cert === undefined) {
    throw new UsageError(
      `${cmd}: ${key.source} needs --cert (or ETCDCTL_CERT): a private key goes with its certificate`,
    );
  }
  const read = (file: Setting | undefined): Buffer | undefined => {
    if (file === undefined) return undefined;
    try {
      return readFileSync(file.text);
    } catch (err) {
      const reason = (err as { code?: string }).code ?? (err instanceof Error ? err.message : String(err));
      throw new UsageError(`${cmd}: cannot read ${file.source} file ${JSON.stringify(file.text)} (${reason})`);
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
  const ca = read(cacert);
  const certPem = read(cert);
  const keyPem = read(key);
  const tls = tlsFlags
    ? { ...(ca ? { ca } : {}), ...(certPem ? { cert: certPem } : {}), ...(keyPem ? { key: keyPem } : {}) }
    : undefined;

  let auth: { username: string; password: string } | undefined;
  const userSetting = pick('user', 'ETCDCTL_USER');
  if (userSetting !== undefined) {
    const user = userSetting.text;
    const at = user.indexOf(':');
    const username = at < 0 ? user : user.slice(0, at);
    const fromEnv = (name: string): string | undefined => (env[name] === '' ? undefined : env[name]);
    const password =
      at < 0
        ? (flags.string('password') ?? fromEnv('ETCDCTL_PASSWORD') ?? fromEnv('LOCKED_PASSWORD'))
        : user.slice(at + 1);
    if (username === '') throw new UsageError(`${cmd}: ${userSetting.source} needs a user name, as name[:password]`);
    if (password === undefined) {
      throw new UsageError(
        `${cmd}: ${userSetting.source === '--user' ? '--user ' : 'ETCDCTL_USER='}${username} needs a password: --user ${username}:PASSWORD, --password, ETCDCTL_PASSWORD or LOCKED_PASSWORD`,
      );
    }
    auth = { username, password };
  } else if (flags.string('password') !== undefined) {
    throw new UsageError(`${cmd}: --password needs --user`);
  }

  const duration = (flag: string, envName: string): number | undefined => {
    const setting = flagOrEnv(flags, flag, envName, env);
    return setting && parseDuration(cmd, setting.source, setting.text);
  };
  const timeoutMs = duration('command-timeout', 'ETCDCTL_COMMAND_TIMEOUT');
  const dialTimeoutMs = duration('dial-timeout', 'ETCDCTL_DIAL_TIMEOUT') ?? defaultDialMs;
  const skipEnv = env.ETCDCTL_INSECURE_SKIP_TLS_VERIFY;
  const insecureSkipTlsVerify =
    flags.boolean('insecure-skip-tls-verify') ||
    (skipEnv !== undefined && skipEnv !== '' && parseBoolean(cmd, 'ETCDCTL_INSECURE_SKIP_TLS_VERIFY', skipEnv));
  return {
    client: {
      endpoints,
      ...(tls ? { tls } : {}),
      ...(auth ? { auth } : {}),
      ...(timeoutMs !== undefined ? { requestTimeoutMs: timeoutMs } : {}),
    },
    hosts,
    dialTimeoutMs,
    insecureSkipTlsVerify,
  };
}
