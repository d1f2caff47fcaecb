import { constants } from 'node:os';

/**
 * Exit codes of the `locked` CLI (documented in docs/CLI.md). `locked run`
 * passes its command's own exit code on, so those share the space with ours.
 */
export const EXIT = {
  /** Done (or the child exited 0). */
  OK: 0,
  /** A runtime failure: etcd unreachable or an etcd request failed. */
  FAILURE: 1,
  /** Bad flags or arguments. */
  USAGE: 2,
  /** Nothing to act on: `resign` found no leader, or the leader was not the one named by --token. */
  NOT_FOUND: 3,
  /** Authentication or permission denied by etcd. */
  PERMISSION: 4,
  /** `run`: the command exists but could not be executed. */
  CANNOT_EXECUTE: 126,
  /** `run`: the command was not found. */
  NOT_FOUND_COMMAND: 127,
} as const;

/** 128 + signal number: the shell's code for "ended by that signal". */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}
