// An ESM consumer (nodenext, node16, bundler): the default export is the seed's function carrying
// the API, the named exports are the same, and every public type is importable by name.
import locked, { LockedClient, LockedError, isLockedError, type LockedNode } from 'locked';
import type {
  CampaignOptions,
  Candidate,
  ClientOptions,
  ConnectionOptions,
  LeaderTracker,
  Locker,
  LockerOptions,
  LockedErrorCode,
  LockedNodeEvents,
  NodeOptions,
  Term,
  TimingOptions,
} from 'locked';

const lockerOptions: LockerOptions = { requestTimeoutMs: 5000, auth: { username: 'u', password: 'p' } };
const locker: Locker = locked('127.0.0.1:2379', lockerOptions);
const nodeOptions: NodeOptions = { path: '/master', value: 10, ttl: 10 };
const node: LockedNode = locker(nodeOptions);
const viaDefault: LockedClient = new locked.LockedClient({ endpoints: ['127.0.0.1:2379'] });
const clientOptions: ClientOptions = { endpoints: '127.0.0.1:2379', ttl: 5 };
const client = new LockedClient(clientOptions);
const connection: ConnectionOptions = { tls: { ca: 'pem' } };
const timing: TimingOptions = { marginMs: 50 };
const campaign: CampaignOptions = { signal: AbortSignal.timeout(1000) };
const code: LockedErrorCode = 'NOT_LEADER';
const first: Candidate | null = await client.election('/jobs').leader();
const tracker: LeaderTracker = client.election('/jobs').track((leader) => leader?.token satisfies bigint | undefined);
const seedEvent: keyof LockedNodeEvents = 'ping';
void [viaDefault, connection, timing, campaign, code, first, tracker, seedEvent];

// Typed events: each listener gets the seed's arguments.
node.on('change', (value, nodeid) => {
  value satisfies string;
  nodeid satisfies string;
});
node.once('select', (value: string, leaderid: string) => void [value, leaderid]);
node.on('deselect', () => undefined);
node.on('refresh', (value) => value.toUpperCase());
node.on('ping', (value, leaderid) => void [value, leaderid]);
node.on('error', (err) => {
  err satisfies LockedError;
  if (isLockedError(err, 'PERMISSION')) err.code satisfies LockedErrorCode;
});
node.off('change', () => undefined);

// Misuse does not compile.
// @ts-expect-error a misspelt event
node.on('selcet', () => undefined);
// @ts-expect-error change gives strings, not numbers
node.on('change', (value: number) => value);
// @ts-expect-error deselect has no arguments
node.once('deselect', (value: string) => value);
// @ts-expect-error error gives a LockedError, not a string
node.on('error', (err: string) => err);
// @ts-expect-error emit checks its arguments too
node.emit('change', 1, 'node1');
// @ts-expect-error ttl is a number of seconds
locker({ path: '/master', ttl: '10' });
// @ts-expect-error an unknown option
locker({ path: '/master', tll: 10 });
// @ts-expect-error requestTimeoutMs is a number
locked('127.0.0.1:2379', { requestTimeoutMs: '5s' });
// @ts-expect-error endpoints are required
new LockedClient({ ttl: 5 });
// @ts-expect-error not an error code
const wrongCode: LockedErrorCode = 'NOT_A_CODE';
void wrongCode;

// Internals are not on the public types (stripInternal): the client's transport, watch hub, timing
// and clock, a term's and a lease's mechanics, and constructors of objects the API hands out.
// @ts-expect-error the client's etcd calls are internal
void client.transport;
// @ts-expect-error the client's watch hub is internal
void client.hub;
// @ts-expect-error the resolved timing is internal
void client.timing;
const term: Term = await client.election('/jobs').campaign('v');
// @ts-expect-error a term ends by resign() (or its session's close), not end()
term.end('x');
// @ts-expect-error confirmations are the session's business
term.confirmed({ mono: 0, wall: 0 });
// @ts-expect-error a lease ends by its session
term.lease.end('x');
const session = client.session(5);
// @ts-expect-error the session's keepalive listeners are internal
session.renewed.add(() => undefined);
// @ts-expect-error Term is a type, not a value: terms come from campaign()
void locked.Term;
// @ts-expect-error LockedNode is a type: nodes come from a locker
void locked.LockedNode;
term.token satisfies bigint;
term.lease.hex satisfies string;

await node.start();
await locker.close();
await client.close();
