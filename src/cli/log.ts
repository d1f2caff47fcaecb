/** The CLI's own messages go to stderr, one line each, prefixed with the command (stdout is the child's or the data's). */
export class Log {
  readonly #prefix: string;
  readonly #quiet: boolean;

  constructor(command: string, quiet = false) {
    this.#prefix = command;
    this.#quiet = quiet;
  }

  /** Progress messages (silenced by --quiet). */
  info(message: string): void {
    if (!this.#quiet) process.stderr.write(`${this.#prefix}: ${message}\n`);
  }

  /** Problems (always shown). */
  warn(message: string): void {
    process.stderr.write(`${this.#prefix}: ${message}\n`);
  }
}
