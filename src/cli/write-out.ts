import type { Flags, FlagSpec } from './usage.js';
import { UsageError } from './usage.js';
import { flagOrEnv, parseWriteOut, type Env, type WriteOut } from './values.js';

/** etcdctl's -w/--write-out (ETCDCTL_WRITE_OUT), of status and observe; --json is -w json. */
export const WRITE_OUT_FLAGS: FlagSpec = {
  'write-out': { type: 'string', short: 'w' },
  json: { type: 'boolean' },
};

/** The output format: --write-out, else --json, else ETCDCTL_WRITE_OUT, else simple. */
export function writeOutFrom(flags: Flags, env: Env = process.env): WriteOut {
  const cmd = flags.command;
  const given = flags.string('write-out');
  const format = given === undefined ? undefined : parseWriteOut(cmd, '--write-out', given);
  if (flags.boolean('json')) {
    if (format === 'simple') throw new UsageError(`${cmd}: --json means --write-out json; it contradicts -w simple`);
    return 'json';
  }
  if (format !== undefined) return format;
  const fromEnv = flagOrEnv(flags, 'write-out', 'ETCDCTL_WRITE_OUT', env);
  return fromEnv === undefined ? 'simple' : parseWriteOut(cmd, fromEnv.source, fromEnv.text);
}
