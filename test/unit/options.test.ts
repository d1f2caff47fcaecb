import { afterAll, describe, expect, it } from 'vitest';
import { LockedClient, locked, type Locker, type Session } from '../../src/api.js';

// Every option of locked(), locker(), LockedClient (and its session()), election() and campaign(),
// each with at least one bad value: it fails at once (nothing dials: the port is never used), with
// a message that names the field and the rule. Limits: ttl <= 2,147,483 s and timeouts <= 2^31-1
// ms (Node's timers), timeouts > 0, election names like the facade's path.
const HOSTS = '127.0.0.1:1';
const lockers: Locker[] = [];
const clients: LockedClient[] = [];
afterAll(async () => {
  await Promise.all([...lockers.map((l) => l.close()), ...clients.map((c) => c.close())]);
});
function locker(options: object = {}): Locker {
  const l = locked(HOSTS, options);
  lockers.push(l);
  return l;
}
function client(options: object = {}): LockedClient {
  const c = new LockedClient({ endpoints: HOSTS, ...options });
  clients.push(c);
  return c;
}

type Call = () => unknown;
const bad = (value: unknown): never => value as never;

const cases: [api: string, field: string, call: Call, message: RegExp][] = [
  // locked(hosts, options)
  ['locked', 'hosts', () => locked(''), /^hosts must name at least one etcd endpoint/],
  ['locked', 'hosts', () => locked('127.0.0.1:0'), /^hosts entry "127.0.0.1:0" has port "0"/],
  ['locked', 'options', () => locked(HOSTS, bad('fast')), /^locked options must be an object, got "fast"/],
  ['locked', 'unknown', () => locked(HOSTS, bad({ timeout: 1 })), /^locked options has an unknown option "timeout"/],
  ['locked', 'tls', () => locker({ tls: 'pem' }), /^tls must be an object \{ ca\?, cert\?, key\? \}/],
  ['locked', 'tls.ca', () => locker({ tls: { ca: 1 } }), /^tls.ca must be a PEM string or a Buffer, got 1/],
  ['locked', 'tls.*', () => locker({ tls: { pem: 'x' } }), /^tls has an unknown option "pem"/],
  ['locked', 'auth', () => locker({ auth: { username: '' } }), /^auth must be \{ username: non-empty string/],
  ['locked', 'driftRate', () => locker({ driftRate: 0.5 }), /^options.driftRate must be a number >= 0 and < 0.5/],
  [
    'locked',
    'marginMs',
    () => locker({ marginMs: -1 }),
    /^options.marginMs must be a finite number of milliseconds >= 0, got -1$/,
  ],
  ['locked', 'marginMs', () => locker({ marginMs: 7000 }), /^options.marginMs \(7000\) leaves no room in a ttl/],
  [
    'locked',
    'requestTimeoutMs',
    () => locker({ requestTimeoutMs: 0 }),
    /^options.requestTimeoutMs must be .* > 0, got 0$/,
  ],
  [
    'locked',
    'requestTimeoutMs',
    () => locker({ requestTimeoutMs: 2 ** 31 }),
    /^options.requestTimeoutMs must be at most 2147483647 ms/,
  ],
  // locker(opts) and locker(path, opts)
  ['locker', 'opts', () => locker()(bad(7)), /^locker takes \(opts\) or \(path, opts\); got 7/],
  ['locker', 'opts', () => locker()('/p', bad('x')), /^opts must be an object, got "x"/],
  ['locker', 'unknown', () => locker()(bad({ path: '/p', tll: 3 })), /^node options has an unknown option "tll"/],
  ['locker', 'path', () => locker()({}), /^path must be a non-empty string, got undefined/],
  ['locker', 'path', () => locker()('/a/'), /^path must not end with "\/"/],
  ['locker', 'path', () => locker()('/a', { path: '/b' }), /^path is given twice and differs/],
  ['locker', 'id', () => locker()({ path: '/p', id: 'a:::b' }), /^id must not contain ":::"/],
  ['locker', 'id', () => locker()({ path: '/p', id: bad(7) }), /^id must be a string, got 7/],
  ['locker', 'value', () => locker()({ path: '/p', value: bad({}) }), /^value must be a string or a finite number/],
  ['locker', 'value', () => locker()({ path: '/p', value: Number.NaN }), /^value must be a string or a finite number/],
  ['locker', 'ttl', () => locker()({ path: '/p', ttl: 0 }), /^ttl must be a finite number of seconds > 0, got 0$/],
  ['locker', 'ttl', () => locker()({ path: '/p', ttl: bad('10') }), /^ttl must be a finite number of seconds > 0/],
  ['locker', 'ttl', () => locker()({ path: '/p', ttl: 1e7 }), /^ttl must be at most 2147483 s .*, got 10000000$/],
  ['locker', 'ttl', () => locker()({ path: '/p', ttl: 9e9 + 1 }), /^ttl must be at most 2147483 s/],
  ['locker', 'ttl', () => locker({ marginMs: 700 })({ path: '/p', ttl: 1 }), /^node options.marginMs \(700\)/],
  ['locker', 'stopOnError', () => locker()({ path: '/p', stopOnError: bad('yes') }), /^stopOnError must be a boolean/],
  // new LockedClient(options)
  ['LockedClient', 'options', () => new LockedClient(bad(null)), /^options must be an object with endpoints/],
  ['LockedClient', 'unknown', () => client({ hosts: HOSTS }), /^LockedClient options has an unknown option "hosts"/],
  ['LockedClient', 'endpoints', () => new LockedClient(bad({})), /^endpoints must be a comma-separated string/],
  ['LockedClient', 'endpoints', () => client({ endpoints: [7] }), /^endpoints entries must be strings, got 7/],
  ['LockedClient', 'tls', () => client({ tls: { cert: {} } }), /^tls.cert must be a PEM string or a Buffer/],
  ['LockedClient', 'auth', () => client({ auth: { username: 'u' } }), /^auth must be \{ username: non-empty string/],
  ['LockedClient', 'ttl', () => client({ ttl: -1 }), /^options.ttl must be a finite number of seconds > 0, got -1$/],
  ['LockedClient', 'ttl', () => client({ ttl: 2147484 }), /^options.ttl must be at most 2147483 s/],
  ['LockedClient', 'driftRate', () => client({ driftRate: -0.1 }), /^options.driftRate must be a number >= 0/],
  ['LockedClient', 'marginMs', () => client({ marginMs: Infinity }), /^options.marginMs must be a finite number/],
  ['LockedClient', 'requestTimeoutMs', () => client({ requestTimeoutMs: -5 }), /^options.requestTimeoutMs must be/],
  [
    'LockedClient',
    'requestTimeoutMs',
    () => client({ requestTimeoutMs: 1e10 }),
    /^options.requestTimeoutMs must be at most/,
  ],
  ['LockedClient', 'clock', () => client({ clock: { now: () => 0 } }), /^clock must be an object with now, wallNow/],
  ['session', 'ttlSec', () => client().session(0), /^session ttlSec must be a finite number of seconds > 0/],
  ['session', 'ttlSec', () => client().session(1e7), /^session ttlSec must be at most 2147483 s/],
  // client.election(name, session)
  ['election', 'name', () => client().election(''), /^election name must be a non-empty string, got ""/],
  ['election', 'name', () => client().election('/jobs/'), /^election name must not end with "\/"/],
  ['election', 'name', () => client().election(bad(7)), /^election name must be a non-empty string, got 7/],
  ['election', 'session', () => client().election('/jobs', bad({})), /^election session must be a Session/],
  // election.campaign(value, options) and withLeadership
  ['campaign', 'value', () => client().election('/jobs').campaign(bad(7)), /^campaign value must be a string, got 7/],
  [
    'campaign',
    'options',
    () => client().election('/jobs').campaign('v', bad('x')),
    /^campaign options must be an object/,
  ],
  [
    'campaign',
    'unknown',
    () =>
      client()
        .election('/jobs')
        .campaign('v', bad({ timeout: 1 })),
    /unknown option "timeout"/,
  ],
  [
    'campaign',
    'signal',
    () =>
      client()
        .election('/jobs')
        .campaign('v', { signal: bad({}) }),
    /^campaign options.signal must be an AbortSignal/,
  ],
  [
    'campaign',
    'tracker',
    () =>
      client()
        .election('/jobs')
        .campaign('v', { tracker: bad({}) }),
    /options.tracker must be an open tracker/,
  ],
  [
    'withLeadership',
    'fn',
    () => client().election('/jobs').withLeadership('v', bad(null)),
    /^withLeadership: fn must be a function/,
  ],
];

async function failureOf(call: Call): Promise<Error> {
  try {
    await call();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a failure, got none');
}

describe('bad options fail at once, with a message naming the field and the rule', () => {
  it.each(cases)('%s %s', async (_api, field, call, message) => {
    const err = await failureOf(call);
    expect(err.message).toMatch(message);
    expect(err.message).toContain(field.replace('.*', '').replace('unknown', 'unknown option'));
  });

  it('covers every option of every entry point', () => {
    const fields = (api: string): string[] => cases.filter(([a]) => a === api).map(([, f]) => f);
    expect(new Set(fields('locked'))).toEqual(
      new Set([
        'hosts',
        'options',
        'unknown',
        'tls',
        'tls.ca',
        'tls.*',
        'auth',
        'driftRate',
        'marginMs',
        'requestTimeoutMs',
      ]),
    );
    expect(new Set(fields('locker'))).toEqual(
      new Set(['opts', 'unknown', 'path', 'id', 'value', 'ttl', 'stopOnError']),
    );
    expect(new Set(fields('LockedClient'))).toEqual(
      new Set([
        'options',
        'unknown',
        'endpoints',
        'tls',
        'auth',
        'ttl',
        'driftRate',
        'marginMs',
        'requestTimeoutMs',
        'clock',
      ]),
    );
    expect(new Set(fields('election'))).toEqual(new Set(['name', 'session']));
    expect(new Set(fields('campaign'))).toEqual(new Set(['value', 'options', 'unknown', 'signal', 'tracker']));
  });

  it('accepts the limits themselves', () => {
    expect(locker({ requestTimeoutMs: 2 ** 31 - 1 })({ path: '/p', ttl: 2147483 }).localid()).toMatch(/-/);
    expect(client({ ttl: 2147483 }).session(0.5).ttlSec).toBe(0.5);
    const session: Session = client().session(2147483);
    expect(client().election('/jobs', session).name).toBe('/jobs');
  });
});
