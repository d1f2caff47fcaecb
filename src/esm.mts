import cjs from './index.js';

export default cjs.locked;
export const {
  locked,
  LockedNode,
  encodeData,
  decodeData,
  SEPARATOR,
  LockedClient,
  Election,
  Term,
  Session,
  Lease,
  deadlineFrom,
  LockedError,
  isLockedError,
} = cjs;
export type * from './api.js';
