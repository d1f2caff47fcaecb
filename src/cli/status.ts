import { openClient } from './client.js';
import { CONNECTION_FLAGS, connectionFrom } from './connection.js';
import { EXIT } from './exit-codes.js';
import { STATUS_HELP } from './help.js';
import { jsonOf, viewOf } from './leader-view.js';
import { parseFlags, type FlagSpec } from './usage.js';
import { WRITE_OUT_FLAGS, writeOutFrom } from './write-out.js';

export const FLAGS: FlagSpec = {
  ...CONNECTION_FLAGS,
  ...WRITE_OUT_FLAGS,
  path: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

/** `locked status`: the leader, its token, and the queue of candidates in order (one read). */
export async function statusCommand(args: readonly string[]): Promise<number> {
  const name = 'locked status';
  const { flags } = parseFlags(name, args, FLAGS);
  if (flags.boolean('help')) {
    process.stdout.write(STATUS_HELP);
    return EXIT.OK;
  }
  const path = flags.electionPath();
  const json = writeOutFrom(flags) === 'json';
  const client = await openClient(name, connectionFrom(flags));
  try {
    const queue = (await client.election(path).queue()).map(viewOf);
    const leader = queue[0] ?? null;
    if (json) {
      process.stdout.write(
        `${JSON.stringify({ path, leader: leader ? jsonOf(leader) : null, candidates: queue.map(jsonOf) })}\n`,
      );
      return EXIT.OK;
    }
    const lines = [`election ${path}`];
    if (!leader) {
      lines.push('leader   none', 'queue    empty');
    } else {
      lines.push(
        `leader   ${leader.id}  token ${leader.token}  priority ${leader.priority}  value ${JSON.stringify(leader.value)}  key ${leader.key}`,
      );
      lines.push(`queue    ${queue.length} candidate${queue.length === 1 ? '' : 's'}, in the order they will lead`);
      const rows = queue.map((c, i) => [
        String(i + 1),
        c.id,
        c.token.toString(),
        c.lease,
        String(c.priority),
        JSON.stringify(c.value),
      ]);
      lines.push(...table(['#', 'id', 'token', 'lease', 'priority', 'value'], rows).map((l) => `  ${l}`));
    }
    process.stdout.write(`${lines.join('\n')}\n`);
    return EXIT.OK;
  } finally {
    await client.close();
  }
}

/** Left-aligned columns, two spaces apart. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
