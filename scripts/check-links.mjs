// Every relative link in a shipped Markdown file must point at a file the package ships: the
// registry page and node_modules/locked have only what `npm pack` puts in the tarball.
// Run by `npm run check:package`; exits 1 and names each broken link.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';

const [pack] = JSON.parse(
  execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { encoding: 'utf8' }),
);
const shipped = new Set(pack.files.map((f) => normalize(f.path)));
// [text](target) and ![alt](target); the target ends at whitespace or the closing parenthesis.
const link = /!?\[[^\]]*\]\(([^)\s]+)[^)]*\)/g;

const broken = [];
for (const file of shipped) {
  if (!file.endsWith('.md')) continue;
  const text = readFileSync(file, 'utf8');
  for (const [, target] of text.matchAll(link)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue; // absolute URL or anchor
    const path = normalize(join(dirname(file), decodeURIComponent(target.split('#')[0])));
    if (!shipped.has(path)) broken.push(`${file}: ${target} (${path} is not in the package)`);
  }
}
if (broken.length > 0) {
  console.error(`check-links: ${broken.length} link(s) in shipped Markdown point outside the package:`);
  for (const b of broken) console.error(`  ${b}`);
  process.exit(1);
}
console.log(
  `check-links: every relative link in ${[...shipped].filter((f) => f.endsWith('.md')).length} shipped Markdown files resolves`,
);
