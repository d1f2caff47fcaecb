#!/usr/bin/env node
/**
 * The `locked` command line. Every command returns its exit code; a bad flag
 * or a failure ends in one line on stderr (never a stack trace) and a
 * documented code (exit-codes.ts, docs/CLI.md).
 */
import { exitCodeFor, oneLine } from './client.js';
import { EXIT } from './exit-codes.js';
import { MAIN_HELP } from './help.js';
import { UsageError } from './usage.js';
import { packageVersion } from './version.js';

type Command = (args: readonly string[]) => Promise<number>;

// grpc-js sets the TLS server name to the endpoint's IP, which node flags as deprecated (DEP0123) on
// every TLS connection; an operator's stderr is for the CLI's own one-line messages.
process.noDeprecation = true;

const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run/command.js')).runCommand,
  observe: async () => (await import('./observe.js')).observeCommand,
  status: async () => (await import('./status.js')).statusCommand,
  resign: async () => (await import('./resign.js')).resignCommand,
  demo: async () => (await import('./demo/command.js')).demoCommand,
};

async function main(argv: readonly string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    if (name === undefined) {
      process.stderr.write(MAIN_HELP);
      return EXIT.USAGE;
    }
    process.stdout.write(MAIN_HELP);
    return EXIT.OK;
  }
  if (name === '--version' || name === '-v') {
    if (args.length > 0) throw new UsageError(`locked: ${name} takes no arguments, got ${JSON.stringify(args[0])}`);
    process.stdout.write(`${packageVersion()}\n`);
    return EXIT.OK;
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!load) {
    throw new UsageError(
      `locked: unknown command ${JSON.stringify(name)}; commands: ${Object.keys(COMMANDS).join(', ')}`,
    );
  }
  try {
    return await (
      await load()
    )(args);
  } catch (err) {
    const line = oneLine(err);
    process.stderr.write(err instanceof UsageError ? `${line}\n` : `locked ${name}: ${line}\n`);
    return exitCodeFor(err);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // etcd3's gRPC channels can hold the event loop open for a while after close
    setImmediate(() => process.exit(code));
  },
  (err: unknown) => {
    process.stderr.write(`${oneLine(err)}\n`);
    process.exit(exitCodeFor(err));
  },
);
