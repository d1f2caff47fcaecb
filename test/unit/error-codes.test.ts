import * as etcd from 'etcd3';
import { describe, expect, it } from 'vitest';
import { abortReason } from '../../src/core/abort.js';
import { LockedError, isLockedError, type LockedErrorCode } from '../../src/errors.js';
import { classify } from '../../src/transport/classify.js';

// README: "Errors are LockedErrors with a code (…) a transient flag and a cause". The one place that
// maps etcd3/gRPC failures to codes (classify.ts), and the caller's abort (core/abort.ts).
describe('classify: etcd3 failures to codes', () => {
  const cases: [string, unknown, LockedErrorCode, boolean][] = [
    [
      'a lease etcd no longer has',
      new etcd.EtcdLeaseInvalidError('etcdserver: requested lease not found'),
      'LEASE_LOST',
      true,
    ],
    [
      'a revision compacted away',
      new Error('9 FAILED_PRECONDITION: etcdserver: mvcc: required revision has been compacted'),
      'COMPACTED',
      true,
    ],
    ['permission denied', new etcd.EtcdPermissionDeniedError('etcdserver: permission denied'), 'PERMISSION', false],
    [
      'bad credentials',
      new etcd.EtcdAuthenticationFailedError('etcdserver: authentication failed'),
      'PERMISSION',
      false,
    ],
    [
      'an expired auth token (fetched anew on the next call)',
      new etcd.EtcdInvalidAuthTokenError('etcdserver: invalid auth token'),
      'UNAVAILABLE',
      true,
    ],
    ['a closed client', new etcd.ClientClosedError('kv'), 'CLOSED', false],
    [
      'a request etcd refuses as too large',
      new etcd.GRPCInvalidArgumentError('etcdserver: request is too large'),
      'INVALID_ARGUMENT',
      false,
    ],
    ['any other error etcd reports', new etcd.EtcdError('etcdserver: something new'), 'ETCD', true],
    ['a deadline', new etcd.GRPCDeadlineExceededError('4 DEADLINE_EXCEEDED: Deadline exceeded'), 'UNAVAILABLE', true],
    ['anything unknown', new Error('socket hang up'), 'UNAVAILABLE', true],
  ];

  it.each(cases)('%s', (_what, err, code, transient) => {
    const classified = classify(err, 'step');
    expect(classified).toBeInstanceOf(LockedError);
    expect(classified.code).toBe(code);
    expect(classified.transient).toBe(transient);
    expect(classified.cause).toBe(err);
    expect(classified.message).toMatch(/^step: /);
  });

  it('keeps a LockedError as it is', () => {
    const err = new LockedError('NOT_LEADER', 'x');
    expect(classify(err, 'step')).toBe(err);
  });
});

describe('abortReason: what a caller whose signal aborted gets', () => {
  it('ABORTED, non-transient, for abort() without a reason, AbortSignal.abort() and AbortSignal.timeout()', async () => {
    const plain = new AbortController();
    plain.abort();
    const timeout = AbortSignal.timeout(1);
    await new Promise<void>((resolve) => timeout.addEventListener('abort', () => resolve(), { once: true }));
    for (const signal of [plain.signal, AbortSignal.abort(), timeout]) {
      const err = abortReason(signal);
      expect(isLockedError(err, 'ABORTED')).toBe(true);
      expect((err as LockedError).transient).toBe(false);
      expect(err.cause).toBe(signal.reason);
    }
  });

  it("the caller's own Error as it is; a reason that is not an Error as the cause of ABORTED", () => {
    const mine = new LockedError('CLOSED', 'node stopped');
    expect(abortReason(AbortSignal.abort(mine))).toBe(mine);
    const text = abortReason(AbortSignal.abort('shutting down'));
    expect(isLockedError(text, 'ABORTED')).toBe(true);
    expect(text.cause).toBe('shutting down');
  });
});
