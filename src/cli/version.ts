import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The version of the installed package, read from its package.json at run
 * time: this file runs as dist/cli/version.js, two levels below the package
 * root, in the repository and in the published tarball alike.
 */
export function packageVersion(): string {
  const file = join(__dirname, '..', '..', 'package.json');
  const { version } = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  if (typeof version !== 'string') throw new Error(`${file} has no version`);
  return version;
}
