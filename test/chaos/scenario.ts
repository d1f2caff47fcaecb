import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { isLeaderFault, type FaultKind } from '../harness/faults.js';
import { renderMarkdown, summarize, type ChaosSummary } from '../harness/report.js';
import { runChaos, type ChaosOptions, type ChaosResult } from '../harness/runner.js';
import type { ChaosWorld } from '../harness/world.js';

/**
 * A chaos scenario inside a vitest test: runs faults through the harness on a
 * shared cluster, prints the seed and a summary, and judges the history.
 * The recovery bound is the runner's: 3×TTL + 2 s.
 */
export interface ScenarioOptions extends Pick<
  ChaosOptions,
  | 'lanes'
  | 'candidatesPerLane'
  | 'modes'
  | 'deadEndpoints'
  | 'params'
  | 'target'
  | 'clusterShare'
  | 'sampleMs'
  | 'fence'
> {
  readonly kinds: FaultKind[];
  readonly faults: number;
  readonly seed?: number;
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
  const target = options.target ?? 'locked';
  const lanes = options.lanes ?? 2;
  const candidates = options.candidatesPerLane ?? 3;
  const modes = options.modes ?? ['node'];
  const dead = options.deadEndpoints ?? ['none'];
  const clusterShare = options.clusterShare ?? 0.12;
  // The same seed, kinds and lanes replay the same sequence of faults (not their timing); fault
  // parameters and the cluster share have no flag, so they are named when they differ.
  const replay =
    `npm run chaos -- --seed ${seed} --faults ${options.faults} --kinds ${options.kinds.join(',')} --target ${target}` +
    ` --lanes ${lanes} --candidates ${candidates} --ttl ${TTL_SEC} --modes ${modes.join(',')} --dead ${dead.join(',')}` +
    (options.params ? ` (params ${JSON.stringify(options.params)})` : '') +
    (clusterShare !== 0.12 ? ` (cluster share ${clusterShare})` : '');
  const result = await runChaos({
    faults: options.faults,
    seed,
    target,
    lanes,
    candidatesPerLane: candidates,
    ttlSec: TTL_SEC,
    kinds: options.kinds,
    modes,
    deadEndpoints: dead,
    clusterShare,
    world,
    runName: `${name.replace(/[^a-z0-9]+/gi, '-')}-${process.pid}-${runs++}`,
    ...(options.params ? { params: options.params } : {}),
    ...(options.sampleMs === undefined ? {} : { sampleMs: options.sampleMs }),
    ...(options.fence === undefined ? {} : { fence: options.fence }),
    log: (line) => lines.push(line),
  });
  const summary = summarize(result);
  const file = join(tmpdir(), `locked-chaos-vitest-${name.replace(/[^a-z0-9]+/gi, '-')}-${seed}.json`);
  writeFileSync(file, JSON.stringify({ command: replay, summary, ...result }, null, 1));
  process.stdout.write(
    `\n[chaos] ${name}: seed ${seed} (${replay}); report ${file}\n${lines.join('\n')}\n` +
      renderMarkdown(result, summary, `vitest: ${name}`)
        .split('\n')
        .filter((l) => l.startsWith('|') || l.startsWith('- #'))
        .join('\n') +
      '\n',
  );
  return { result, summary };
}

/**
 * No split brain, tokens only grow, every leader has a token; a term reported
 * after etcd deleted its key only within the TTL (etcd may delete a key before
 * its lease's deadline: a leader's deadline comes from a keepalive sent before
 * the deletion, so it ends at most one TTL later); and, where the leaders
 * incremented a fenced counter, no anomaly (fence.ts).
 */
export function expectSafe(result: ChaosResult): void {
  for (const lane of result.lanes) {
    expect(lane.verdict.overlaps, `overlaps in lane ${lane.name} (${lane.mode})`).toEqual([]);
    expect(lane.verdict.tokenRegressions, `token regressions in lane ${lane.name}`).toEqual([]);
    expect(lane.verdict.malformed, `leaders without a token in lane ${lane.name}`).toEqual([]);
    expect(lane.verdict.terms, `lane ${lane.name} never had a leader`).toBeGreaterThan(0);
    const tooLate = lane.lateLeaders
      .filter((l) => l.lateMs > result.lateBoundMs)
      .map((l) => `${l.interval.candidate} (token ${l.interval.token}) ${Math.round(l.lateMs)} ms`);
    expect(
      tooLate,
      `leaders more than ${result.lateBoundMs} ms after etcd deleted their key in lane ${lane.name}`,
    ).toEqual([]);
    if (lane.fence) expect(lane.fence.anomalies, `fenced-counter anomalies in lane ${lane.name}`).toEqual([]);
  }
}

/**
 * The fencing check ran in every lane and found nothing: each lane's counter
 * in etcd is the number of increments acknowledged plus those applied whose
 * reply was lost, values 1..N each exactly once, nothing applied that was
 * refused, and no term wrote after a later term had (fence.ts).
 */
export function expectFenced(result: ChaosResult): void {
  for (const lane of result.lanes) {
    expect(lane.fence, `lane ${lane.name} has no fenced-counter verdict`).toBeDefined();
    const f = lane.fence!;
    expect(f.anomalies, `fenced-counter anomalies in lane ${lane.name}`).toEqual([]);
    expect(f.acknowledged, `no fenced increment acknowledged in lane ${lane.name}`).toBeGreaterThan(0);
    expect(f.counter, `lane ${lane.name}: counter vs acknowledged + applied without a reply`).toBe(
      f.acknowledged + f.appliedWithoutReply,
    );
  }
}

/**
 * After every heal: exactly one leader, every candidate agreeing, within the
 * bound (3×TTL + 2 s); and every fault was injected on stable lanes (the runner
 * waits up to twice the bound for that; one that never came is a failure).
 */
export function expectRecovered(result: ChaosResult): void {
  const late = result.faults.filter((f) => !f.recovered).map((f) => `#${f.index} ${f.kind}: ${f.reason ?? '?'}`);
  expect(late, `faults not recovered within ${result.recoveryBoundMs} ms`).toEqual([]);
  const unstable = result.faults
    .filter((f) => f.unstableBefore)
    .map((f) => `#${f.index} ${f.kind}: ${f.unstableReason ?? '?'}`);
  expect(unstable, 'faults injected while a lane was not stable').toEqual([]);
}

/**
 * The faults really ran and hit what they aim at: every kind in `kinds` ran
 * at least once (without a harness error), at least `atLeast` of them in all,
 * and every leader fault hit a candidate that led at the injection.
 */
export function expectFaults(result: ChaosResult, kinds: FaultKind[], atLeast: number): void {
  const ran = result.faults.filter((f) => kinds.includes(f.kind) && f.harnessError === undefined);
  const missing = [...new Set(kinds)].filter((k) => !ran.some((f) => f.kind === k));
  expect(missing, 'fault kinds that never ran').toEqual([]);
  expect(ran.length, `faults of ${kinds.join(', ')} that ran`).toBeGreaterThanOrEqual(atLeast);
  const missed = result.faults
    .filter((f) => isLeaderFault(f.kind) && f.victimWasLeader !== true)
    .map((f) => `#${f.index} ${f.kind}: hit ${f.victim ?? '?'} after waiting ${f.leaderWaitMs ?? '?'} ms for a leader`);
  expect(missed, 'leader faults that did not hit the leader').toEqual([]);
}
