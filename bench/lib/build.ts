import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The candidate processes run as compiled JavaScript under plain `node`, not
 * through tsx, so that their memory and CPU are what a user's process would
 * show (tsx's loader adds some 30–40 MB of RSS). Compiled once per benchmark
 * into bench/results/raw/build/ (git-ignored; inside the repository so that
 * node_modules resolve).
 */
const BENCH = join(__dirname, '..');
const OUT = join(BENCH, 'results', 'raw', 'build');
let built: string | null = null;

export function candidateEntry(): string {
  if (built) return built;
  const tsc = join(BENCH, '..', 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', join(BENCH, 'tsconfig.build.json'), '--outDir', OUT], {
    stdio: 'inherit',
    timeout: 180_000,
  });
  copyFileSync(join(BENCH, 'candidates', 'v3election.proto'), join(OUT, 'bench', 'candidates', 'v3election.proto'));
  const entry = join(OUT, 'bench', 'candidates', 'child.js');
  if (!existsSync(entry)) throw new Error(`building the candidates did not produce ${entry}`);
  built = entry;
  return entry;
}
