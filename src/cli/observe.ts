import type { LockedError } from '../api.js';
import { exitCodeFor, oneLine, openClient } from './client.js';
import { CONNECTION_FLAGS, connectionFrom } from './connection.js';
import { EXIT } from './exit-codes.js';
import { OBSERVE_HELP } from './help.js';
import { jsonOf, viewOf } from './leader-view.js';
import { Log } from './log.js';
import { RetryLog } from './retry-log.js';
import { parseFlags, type FlagSpec } from './usage.js';
import { WRITE_OUT_FLAGS, writeOutFrom } from './write-out.js';

export const FLAGS: FlagSpec = {
  ...CONNECTION_FLAGS,
  ...WRITE_OUT_FLAGS,
  path: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/**
 * `locked observe`: one line per leader change (and one for the leader found
 * at start) until SIGINT/SIGTERM. Follows the election with a watch; after a
 * connection failure it re-reads and goes on by itself, saying so on stderr
 * (failures of one kind at most one line every 2 s). A failure retrying
 * cannot fix ends it: exit 4 for bad credentials or permission denied, else 1.
 */
export async function observeCommand(args: readonly string[]): Promise<number> {
  const name = 'locked observe';
  const { flags } = parseFlags(name, args, FLAGS);
  if (flags.boolean('help')) {
    process.stdout.write(OBSERVE_HELP);
    return EXIT.OK;
  }
  const path = flags.electionPath();
  const json = writeOutFrom(flags) === 'json';
  // A watcher rides out outages: it waits for etcd unless a dial timeout is given.
  const client = await openClient(name, connectionFrom(flags, process.env, null));
  const log = new Log(name);
  const retries = new RetryLog(log);
  let fatal: (err: LockedError) => void = () => undefined;
  const ended = new Promise<LockedError | null>((resolve) => {
    process.once('SIGINT', () => resolve(null));
    process.once('SIGTERM', () => resolve(null));
    fatal = resolve;
  });
  const election = client.election(path);
  // Lines in the order of the changes; each leader's priority from one read of the rank keys (null if it failed).
  let printed: Promise<void> = Promise.resolve();
  const tracker = election.track(
    (leader, revision) => {
      retries.recovered();
      const time = new Date().toISOString();
      const priority = leader ? election.priorityOf(leader).catch(() => null) : Promise.resolve(null);
      printed = printed.then(async () => {
        const view = leader ? { ...viewOf(leader), priority: await priority } : null;
        if (json) {
          const shown = view ? { ...jsonOf({ ...view, priority: 0 }), priority: view.priority } : null;
          process.stdout.write(`${JSON.stringify({ time, path, leader: shown, revision: revision.toString() })}\n`);
        } else if (view) {
          const rank = view.priority === null ? '' : ` priority ${view.priority}`;
          process.stdout.write(
            `${time} leader ${view.id} token ${view.token}${rank} value ${JSON.stringify(view.value)}\n`,
          );
        } else {
          process.stdout.write(`${time} no leader\n`);
        }
      });
    },
    (err) => {
      if (err.transient) retries.failed('watch failed', err);
      else fatal(err);
    },
  );
  const failure = await ended;
  tracker.close();
  await printed;
  await client.close();
  if (!failure) return EXIT.OK;
  log.warn(oneLine(failure));
  return exitCodeFor(failure);
}
