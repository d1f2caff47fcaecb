import { openClient } from './client.js';
import { CONNECTION_FLAGS, connectionFrom } from './connection.js';
import { EXIT } from './exit-codes.js';
import { RESIGN_HELP } from './help.js';
import { viewOf } from './leader-view.js';
import { UsageError, parseFlags, type FlagSpec } from './usage.js';

export const FLAGS: FlagSpec = {
  ...CONNECTION_FLAGS,
  path: { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/**
 * `locked resign`: an operator's forced step-down of the current leader, by
 * the library's guarded delete (Election.evict: `CreateRevision(leaderKey) ==
 * token → delete`), so it never removes a newer leader that took over after the read. The old leader learns
 * of it through its watch on its key (or its next renewal's check) and steps
 * down; the delete is not marked as a resignation in the term record, so the
 * next locked candidate waits out the old leader's deadline before it leads.
 */
export async function resignCommand(args: readonly string[]): Promise<number> {
  const name = 'locked resign';
  const { flags } = parseFlags(name, args, FLAGS);
  if (flags.boolean('help')) {
    process.stdout.write(RESIGN_HELP);
    return EXIT.OK;
  }
  const path = flags.electionPath();
  const tokenText = flags.string('token');
  if (tokenText !== undefined && !/^\d+$/.test(tokenText)) {
    throw new UsageError(
      `${name}: --token must be a fencing token (a positive integer), got ${JSON.stringify(tokenText)}`,
    );
  }
  const client = await openClient(name, connectionFrom(flags));
  try {
    const found = await client.election(path).leader();
    if (!found) {
      process.stderr.write(`${name}: ${path} has no leader; nothing to resign\n`);
      return EXIT.NOT_FOUND;
    }
    const leader = viewOf(found);
    if (tokenText !== undefined && BigInt(tokenText) !== leader.token) {
      process.stderr.write(
        `${name}: the leader of ${path} has token ${leader.token}, not ${tokenText}; nothing done\n`,
      );
      return EXIT.NOT_FOUND;
    }
    const removed = await client.election(path).evict(leader);
    if (!removed) {
      process.stderr.write(`${name}: the leader of ${path} changed before the delete; nothing done\n`);
      return EXIT.NOT_FOUND;
    }
    process.stdout.write(`resigned ${leader.id} (token ${leader.token}, key ${leader.key}) from ${path}\n`);
    return EXIT.OK;
  } finally {
    await client.close();
  }
}
