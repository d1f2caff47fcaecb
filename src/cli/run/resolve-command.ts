import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { EXIT } from '../exit-codes.js';

/** Why a command cannot be run, with the shell's exit code for it. */
export interface CommandProblem {
  /** 127: not found; 126: found but not executable. */
  readonly code: typeof EXIT.NOT_FOUND_COMMAND | typeof EXIT.CANNOT_EXECUTE;
  readonly message: string;
}

/** execvp's search path when PATH is unset (glibc's confstr _CS_PATH). */
const DEFAULT_PATH = '/bin:/usr/bin';

/**
 * Finds `command` as execvp will when the guard starts it: a name with a "/"
 * is a path (relative to `cwd`), any other name is looked up in each PATH
 * entry in turn (an empty entry is `cwd`). Returns null when it names an
 * executable regular file, else what is wrong — so `locked run` can refuse a
 * typo before it campaigns instead of after it won.
 */
export function commandProblem(
  command: string,
  path: string | undefined = process.env.PATH,
  cwd: string = process.cwd(),
): CommandProblem | null {
  if (command.includes('/')) {
    const file = isAbsolute(command) ? command : resolve(cwd, command);
    const why = whyNotExecutable(file);
    if (why === null) return null;
    return why === 'ENOENT'
      ? { code: EXIT.NOT_FOUND_COMMAND, message: `${command}: no such file` }
      : { code: EXIT.CANNOT_EXECUTE, message: `${command}: cannot execute (${why})` };
  }
  let found: string | null = null;
  for (const dir of (path ?? DEFAULT_PATH).split(delimiter)) {
    const file = join(dir === '' ? cwd : dir, command);
    const why = whyNotExecutable(file);
    if (why === null) return null;
    // execvp goes on after a file it cannot execute, and reports EACCES if nothing better follows
    if (why !== 'ENOENT') found ??= `${file}: cannot execute (${why})`;
  }
  if (found !== null) return { code: EXIT.CANNOT_EXECUTE, message: found };
  return { code: EXIT.NOT_FOUND_COMMAND, message: `${command}: command not found in PATH` };
}

/** null when `file` is a regular file this process may execute, else the reason. */
function whyNotExecutable(file: string): string | null {
  try {
    if (statSync(file).isDirectory()) return 'a directory';
    accessSync(file, constants.X_OK);
    return null;
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'ENOENT';
    if (code === 'ENOENT' || code === 'ENOTDIR') return 'ENOENT';
    return code === 'EACCES' ? 'permission denied' : code;
  }
}
