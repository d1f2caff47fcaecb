import { oneLine, openClient } from './client.js';
import { CONNECTION_FLAGS, connectionFrom } from './connection.js';
import { EXIT } from './exit-codes.js';
import { OBSERVE_HELP } from './help.js';
import { jsonOf, viewOf } from './leader-view.js';
import { Log } from './log.js';
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
 * connection failure it re-reads and goes on by itself (errors on stderr).
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
  let lastError = '';
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
  const tracker = client.election(path).track(
    (leader, revision) => {
      lastError = '';
      const time = new Date().toISOString();
      const view = leader ? viewOf(leader) : null;
      if (json) {
        process.stdout.write(
          `${JSON.stringify({ time, path, leader: view ? jsonOf(view) : null, revision: revision.toString() })}\n`,
        );
      } else if (view) {
        process.stdout.write(`${time} leader ${view.id} token ${view.token} value ${JSON.stringify(view.value)}\n`);
      } else {
        process.stdout.write(`${time} no leader\n`);
      }
    },
    (err) => {
      const message = oneLine(err);
      if (message !== lastError) log.warn(`${message} (retrying)`);
      lastError = message;
    },
  );
  await stopped;
  tracker.close();
  await client.close();
  return EXIT.OK;
}
