import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

/**
 * Candidates run as plain `node` processes on the built library (dist/, what
 * the package ships): a tsx loader per process would cost twice the start-up
 * time and memory on a 2-core machine running 50 of them. This module builds
 * dist/ when it is older than src/, copies it to a temp dir (so a rebuild
 * during a long soak cannot mix two versions of the library in one run), and
 * transpiles candidate-main.ts alone next to it.
 */
export const REPO_ROOT = resolve(__dirname, '..', '..');

export interface ChildBuild {
  /** The transpiled candidate entry (CommonJS). */
  readonly entry: string;
  readonly libPath: string;
  readonly etcd3Path: string;
  dispose(): void;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (/\.m?ts$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Runs `tsc -p .` when dist/index.js is missing or older than a file of src/. */
export function ensureBuilt(): string {
  const libPath = join(REPO_ROOT, 'dist', 'index.js');
  let built = 0;
  try {
    built = statSync(libPath).mtimeMs;
  } catch {
    built = 0;
  }
  if (built < newestMtime(join(REPO_ROOT, 'src'))) {
    execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', REPO_ROOT], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  }
  return libPath;
}

export function buildChild(): ChildBuild {
  const built = ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'locked-chaos-child-'));
  cpSync(dirname(built), join(dir, 'dist'), { recursive: true });
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const libPath = join(dir, 'dist', 'index.js');
  const source = readFileSync(join(__dirname, 'candidate-main.ts'), 'utf8');
  const out = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
    fileName: 'candidate-main.ts',
  });
  const entry = join(dir, 'candidate-main.js');
  writeFileSync(entry, out.outputText);
  return {
    entry,
    libPath,
    etcd3Path: require.resolve('etcd3', { paths: [REPO_ROOT] }),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
