/** Named exports of the package (the default export is the seed's `locked` function). */
export { locked } from './locked/locker.js';
export type { Locker, LockerOptions, NodeOptions } from './locked/locker.js';
export type { LockedNode } from './locked/node.js';
export type { LockedNodeEvents } from './locked/node.js';
export { encodeData, decodeData, SEPARATOR } from './locked/data.js';
export { LockedClient } from './client.js';
export type { ClientOptions, ConnectionOptions } from './client.js';
export type { Election } from './election/election.js';
export type { CampaignOptions, QueuedCandidate } from './election/election.js';
export type { Candidate } from './election/candidates.js';
export type { LeaderTracker } from './election/tracker-registry.js';
// Objects the API hands out, not made by users: their types only (their constructors take internals).
export type { Term } from './election/term.js';
export type { Session } from './session/session.js';
export type { Lease } from './session/lease.js';
export { LockedError, isLockedError } from './errors.js';
export type { LockedErrorCode } from './errors.js';
export type { TimingOptions } from './core/options.js';
