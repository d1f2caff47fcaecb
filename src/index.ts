/**
 * `const locked = require('locked')` is the seed's function; the rest of the
 * API hangs off it (`locked.LockedClient`, `locked.LockedError`, …) and is
 * also exported by name for ESM (`import locked, { LockedClient } from 'locked'`).
 */
import * as api from './api.js';

function locked(...args: Parameters<typeof api.locked>): ReturnType<typeof api.locked> {
  return api.locked(...args);
}

const entry = Object.assign(locked, api, { default: locked });

export = entry;
