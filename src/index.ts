/**
 * `const locked = require('locked')` is the seed's function; the rest of the
 * API hangs off it (`locked.LockedClient`, `locked.LockedError`, …) and is
 * also exported by name for ESM (`import locked, { LockedClient } from 'locked'`).
 */
import * as api from './api.js';

const entry = Object.assign(api.locked.bind(null) as typeof api.locked, api, { default: api.locked });

export = entry;
