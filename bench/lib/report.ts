import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where results go: `bench/results/<id>.md` and `<id>.svg` per scenario, and
 * `bench/results/headlines/<id>.json` with its headline numbers and targets
 * (committed: the summary README is rebuilt from them after any partial run,
 * on any clone), `bench/results/raw/<id>.json` (git-ignored) with the samples.
 */
export const RESULTS = join(__dirname, '..', 'results');
const RAW = join(RESULTS, 'raw');
const HEADLINES = join(RESULTS, 'headlines');

export type Headline = Record<string, Record<string, string>>;

/** One of issue 5's targets, as this run measured it. */
export interface Target {
  readonly target: string;
  readonly measured: string;
  readonly met: boolean;
}

export interface Section {
  readonly id: string;
  readonly title: string;
  /** Markdown body: what was measured and how, the table, the chart link, notes. */
  readonly body: string;
  readonly svg?: string;
  /** Headline numbers for the summary README: metric → implementation → cell text. */
  readonly headline: Headline;
  readonly targets?: Target[];
  readonly raw: unknown;
}

export function writeSection(section: Section, footer: string): void {
  mkdirSync(RAW, { recursive: true });
  const chart = section.svg ? `\n![${section.title}](${section.id}.svg)\n` : '';
  writeFileSync(join(RESULTS, `${section.id}.md`), `# ${section.title}\n\n${section.body}\n${chart}\n${footer}\n`);
  if (section.svg) writeFileSync(join(RESULTS, `${section.id}.svg`), section.svg);
  writeHeadline({ id: section.id, title: section.title, headline: section.headline, targets: section.targets ?? [] });
  writeFileSync(join(RAW, `${section.id}.json`), JSON.stringify({ title: section.title, raw: section.raw }, null, 2));
}

/** The headline numbers and targets of every scenario that has them stored, in id order. */
export interface Stored {
  readonly id: string;
  readonly title: string;
  readonly headline: Headline;
  readonly targets: Target[];
}

export function storedHeadlines(ids: string[]): Stored[] {
  const out: Stored[] = [];
  for (const id of ids) {
    const file = join(HEADLINES, `${id}.json`);
    if (!existsSync(file)) continue;
    out.push({ id, ...(JSON.parse(readFileSync(file, 'utf8')) as Omit<Stored, 'id'>) });
  }
  return out;
}

/** Stores a scenario's headline numbers and targets (committed), for the summary. */
export function writeHeadline({ id, ...stored }: Stored): void {
  mkdirSync(HEADLINES, { recursive: true });
  writeFileSync(join(HEADLINES, `${id}.json`), `${JSON.stringify(stored, null, 2)}\n`);
}
