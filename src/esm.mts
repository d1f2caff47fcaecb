/**
 * The ESM entry. The default export is the object `require('locked')` returns
 * (the seed's function carrying the API); the named exports are the same
 * classes and functions, read from the same CommonJS modules (one copy of
 * each). Named one by one, so that CommonJS's `__esModule` marker is not
 * exported; test/types/run.mjs checks that both entries export the same names.
 */
import locked from './index.js';

export default locked;
export { locked, encodeData, decodeData, SEPARATOR, LockedClient, LockedError, isLockedError } from './api.js';
export type * from './api.js';
