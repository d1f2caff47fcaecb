// The type-level tests (`npm run test:types`, part of `npm test`): tiny consumer projects compiled
// with tsc against the built package (dist/, as package.json's exports give it: the fixtures sit
// inside the package, so 'locked' resolves by self-reference, with no install and no network), and
// a runtime check that both entries hand out the same objects. Needs `npm run build` first.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');

let failed = false;
for (const setup of ['nodenext', 'node16', 'bundler']) {
  try {
    execFileSync(process.execPath, [tsc, '-p', join(here, `tsconfig.${setup}.json`)], { stdio: 'inherit' });
    console.log(`types: ${setup} ok`);
  } catch {
    console.error(`types: ${setup} FAILED (tsc errors above)`);
    failed = true;
  }
}

// The ESM default export is what require() returns, and the named exports are its members.
const cjs = require('locked');
const esm = await import('locked');
const problems = [];
if (esm.default !== cjs) problems.push('the ESM default export is not the object require() returns');
const named = Object.keys(esm).filter((k) => k !== 'default');
const members = Object.keys(cjs).filter((k) => k !== 'default');
for (const k of members) if (!named.includes(k)) problems.push(`require('locked').${k} is not a named ESM export`);
for (const k of named) if (esm[k] !== cjs[k]) problems.push(`the named ESM export ${k} is not require('locked').${k}`);
if (typeof esm.default.LockedClient !== 'function') problems.push('the default export has no LockedClient');
for (const p of problems) console.error(`types: runtime: ${p}`);
if (problems.length === 0)
  console.log(`runtime: default === require('locked'), ${named.length} named exports the same`);
process.exit(failed || problems.length > 0 ? 1 : 0);
