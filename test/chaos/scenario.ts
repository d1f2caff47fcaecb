import { expect } from 'vitest';
import type { FaultKind, FaultParams } from '../harness/faults.js';
import type { DeadEndpoints } from '../harness/lane.js';
import type { CandidateMode } from '../harness/protocol.js';
import { renderMarkdown, summarize, type ChaosSummary } from '../harness/report.js';
import { runChaos, type ChaosResult, type Target } from '../harness/runner.js';
import type { ChaosWorld } from '../harness/world.js';

/**
 * A chaos scenario inside a vitest test: runs faults through the harness on a
 * shared cluster, prints the seed and a summary, and judges the history.
 */
export interface ScenarioOptions {
  readonly kinds: FaultKind[];
  readonly faults: number;
  readonly seed?: number;
  readonly lanes?: number;
  readonly candidatesPerLane?: number;
  readonly modes?: CandidateMode[];
  readonly deadEndpoints?: DeadEndpoints[];
  readonly params?: FaultParams;
  readonly target?: Target;
  readonly clusterShare?: number;
  readonly sampleMs?: number;
}

export const TTL_SEC = 2;

let runs = 0;

export async function scenario(
  world: ChaosWorld,
  name: string,
  options: ScenarioOptions,
): Promise<{ result: ChaosResult; summary: ChaosSummary }> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const lines: string[] = [];
  const result = await runChaos({
    faults: options.faults,
    seed,
    target: options.target ?? 'locked',
    lanes: options.lanes ?? 2,
    candidatesPerLane: options.candidatesPerLane ?? 3,
    ttlSec: TTL_SEC,
    kinds: options.kinds,
    modes: options.modes ?? ['node'],
    deadEndpoints: options.deadEndpoints ?? ['none'],
    clusterShare: options.clusterShare ?? 0.12,
    world,
    runName: `${name.replace(/[^a-z0-9]+/gi, '-')}-${process.pid}-${runs++}`,
    ...(options.params ? { params: options.params } : {}),
    ...(options.sampleMs === undefined ? {} : { sampleMs: options.sampleMs }),
    log: (line) => lines.push(line),
  });
  const summary = summarize(result);
  process.stdout.write(
    `\n[chaos] ${name}: seed ${seed} (npm run chaos -- --seed ${seed} --kinds ${options.kinds.join(',')})\n${lines.join('\n')}\n` +
      renderMarkdown(result, summary, `vitest: ${name}`)
        .split('\n')
        .filter((l) => l.startsWith('|') || l.startsWith('- #'))
        .join('\n') +
      '\n',
  );
  return { result, summary };
}

/** No split brain, tokens only grow, every leader has a token, no term outlives its key on etcd. */
export function expectSafe(result: ChaosResult): void {
  for (const lane of result.lanes) {
    expect(lane.verdict.overlaps, `overlaps in lane ${lane.name} (${lane.mode})`).toEqual([]);
    expect(lane.verdict.tokenRegressions, `token regressions in lane ${lane.name}`).toEqual([]);
    expect(lane.verdict.malformed, `leaders without a token in lane ${lane.name}`).toEqual([]);
    expect(lane.verdict.terms, `lane ${lane.name} never had a leader`).toBeGreaterThan(0);
    expect(lane.lateLeaders, `leaders after etcd deleted their key in lane ${lane.name}`).toEqual([]);
  }
}

/** After every heal: exactly one leader, every candidate agreeing, within ttl + 2 s. */
export function expectRecovered(result: ChaosResult): void {
  const late = result.faults.filter((f) => !f.recovered).map((f) => `#${f.index} ${f.kind}: ${f.reason ?? '?'}`);
  expect(late, 'faults not recovered within ttl + 2 s').toEqual([]);
}

/** The faults really ran (a scenario that injected nothing proves nothing). */
export function expectFaults(result: ChaosResult, kinds: FaultKind[], atLeast: number): void {
  const ran = result.faults.filter((f) => kinds.includes(f.kind));
  expect(ran.length).toBeGreaterThanOrEqual(atLeast);
}
