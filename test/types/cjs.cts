// A CommonJS consumer (nodenext, node16): `import locked = require('locked')` is the seed's
// function, its API and types hang off it, and named type imports work too.
import locked = require('locked');
import type { NodeOptions, ClientOptions, CampaignOptions, LockedErrorCode, Candidate, LockerOptions } from 'locked';

const lockerOptions: locked.LockerOptions = { marginMs: 50 };
const sameLockerOptions: LockerOptions = lockerOptions;
const locker: locked.Locker = locked('127.0.0.1:2379', sameLockerOptions);
const options: locked.NodeOptions = { path: '/master', value: 'a' };
const named: NodeOptions = options;
const node: locked.LockedNode = locker(named);
const clientOptions: ClientOptions & locked.ClientOptions = { endpoints: '127.0.0.1:2379' };
const client: locked.LockedClient = new locked.LockedClient(clientOptions);
const campaign: CampaignOptions = {} satisfies locked.CampaignOptions;
const code: LockedErrorCode = 'CLOSED' satisfies locked.LockedErrorCode;
const leader: Promise<Candidate | null> = client.election('/jobs').leader();
const events: locked.LockedNodeEvents['change'] = ['value', 'leaderid'];
const types: [locked.ConnectionOptions, locked.TimingOptions, locked.LeaderTracker | null] = [{}, {}, null];
void [campaign, code, leader, events, types, locked.locked, locked.LockedError, locked.isLockedError];

node.on('change', (value, nodeid) => void [value satisfies string, nodeid satisfies string]);
// @ts-expect-error a misspelt event
node.on('chnage', () => undefined);
// @ts-expect-error value is a string or a number
locker({ path: '/master', value: { x: 1 } });
// @ts-expect-error a type is not a value
void locked.NodeOptions;

void node.start().then(() => locker.close());
