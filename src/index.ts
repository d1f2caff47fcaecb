/**
 * `const locked = require('locked')` is the seed's function; the rest of the
 * API hangs off it (`locked.LockedClient`, `locked.LockedError`, …), and its
 * types are reachable by name (`locked.NodeOptions`, or
 * `import type { NodeOptions } from 'locked'`). The ESM entry (esm.mts) makes
 * this same object its default export and re-exports api.ts by name.
 */
import * as api from './api.js';

function locked(...args: Parameters<typeof api.locked>): ReturnType<typeof api.locked> {
  return api.locked(...args);
}

// `export =` of a function can carry named types only through a namespace merged with it; its
// aliases also put the values on the function (`satisfies` below keeps the list complete).
// eslint-disable-next-line @typescript-eslint/no-namespace
namespace locked {
  export import locked = api.locked;
  export import encodeData = api.encodeData;
  export import decodeData = api.decodeData;
  export import SEPARATOR = api.SEPARATOR;
  export import LockedClient = api.LockedClient;
  export import LockedError = api.LockedError;
  export import isLockedError = api.isLockedError;

  export type LockedNode = api.LockedNode;
  export type Election = api.Election;
  export type Term = api.Term;
  export type Session = api.Session;
  export type Lease = api.Lease;
  export type Locker = api.Locker;
  export type LockerOptions = api.LockerOptions;
  export type NodeOptions = api.NodeOptions;
  export type LockedNodeEvents = api.LockedNodeEvents;
  export type ClientOptions = api.ClientOptions;
  export type ConnectionOptions = api.ConnectionOptions;
  export type CampaignOptions = api.CampaignOptions;
  export type Candidate = api.Candidate;
  export type QueuedCandidate = api.QueuedCandidate;
  export type LeaderTracker = api.LeaderTracker;
  export type LockedErrorCode = api.LockedErrorCode;
  export type TimingOptions = api.TimingOptions;
}

// `default` for consumers compiled without interop (`require('locked').default`). The `satisfies`
// fails to compile when a value api.ts exports is missing from the namespace.
Object.assign(locked, { default: locked }) satisfies Record<keyof typeof api, unknown>;

export = locked;
