// A bundler consumer (moduleResolution: bundler): the import condition's types, named and default.
import locked, { LockedClient, type NodeOptions, type LockerOptions, type Candidate } from 'locked';

const lockerOptions: LockerOptions = { driftRate: 0.01 };
const options: NodeOptions = { path: '/master' };
const node = locked('127.0.0.1:2379', lockerOptions)(options);
const client: LockedClient = new locked.LockedClient({ endpoints: '127.0.0.1:2379' });
const leader: Promise<Candidate | null> = client.election('/jobs').leader();
void leader;

node.on('select', (value, leaderid) => void [value satisfies string, leaderid satisfies string]);
// @ts-expect-error a misspelt event
node.on('selected', () => undefined);
// @ts-expect-error stopOnError is a boolean
locked('127.0.0.1:2379')({ path: '/master', stopOnError: 'yes' });
