import { createRequire } from 'node:module';
import type * as Grpc from '@grpc/grpc-js';

/**
 * etcdctl's --insecure-skip-tls-verify for the etcd3 client, which builds its
 * TLS credentials itself with `grpc.credentials.createSsl(ca, key, cert)` and
 * has no option for verify options. While `build` runs (synchronously: etcd3
 * makes its credentials in its constructor), createSsl of the very grpc-js
 * etcd3 loads adds `rejectUnauthorized: false`, so any server certificate is
 * accepted. Only the CLI uses this, and only when asked to.
 */
export function withoutTlsVerification<T>(build: () => T): T {
  const grpc = createRequire(require.resolve('etcd3'))('@grpc/grpc-js') as typeof Grpc;
  const credentials = grpc.credentials;
  const createSsl = credentials.createSsl;
  credentials.createSsl = (rootCerts, privateKey, certChain) =>
    createSsl(rootCerts, privateKey, certChain, { rejectUnauthorized: false, checkServerIdentity: () => undefined });
  try {
    return build();
  } finally {
    credentials.createSsl = createSsl;
  }
}
