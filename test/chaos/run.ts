/**
 * `npm run chaos -- --faults N --seed S [--out FILE] [--target locked|etcd3]
 *   [--lanes L] [--candidates C] [--ttl T] [--kinds a,b,…] [--modes node,with-leadership]
 *   [--dead none,refusing,hanging] [--experiment no-breaker] [--diagnose] [--late-ms MS]
 *   [--etcd 3.4|3.5|3.5-sid]`
 * (modes and dead members are cycled over the lanes; an experiment is a
 * workaround the candidates apply from outside the library; --etcd picks the
 * etcd build, as the environment variable LOCKED_ETCD does)
 *
 * Runs N seeded faults against a fresh 3-member etcd on loopback and writes
 * the report: FILE (JSON, default /tmp/locked-chaos-<target>-<seed>.json) and
 * FILE with .md (the readable summary). Exits 1 when the checker finds an
 * overlap, a token regression, a term reported more than a TTL after etcd
 * deleted its key, a fenced-counter anomaly, a leader fault that missed the
 * leader, a fault injected on an unstable lane, or a fault not recovered
 * within 3×TTL + 2 s.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ensureEtcd, etcdBuild } from '../../src/testing/etcd-binary.js';
import { CLUSTER_FAULTS, LANE_FAULTS, type FaultKind } from '../harness/faults.js';
import type { DeadEndpoints } from '../harness/lane.js';
import type { CandidateMode } from '../harness/protocol.js';
import { renderMarkdown, summarize } from '../harness/report.js';
import { randomSeed } from '../harness/rng.js';
import { runChaos, type Target } from '../harness/runner.js';

function fail(message: string): never {
  process.stderr.write(`chaos: ${message}\n`);
  process.exit(2);
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a non-negative integer, got ${text}`);
  return n;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      faults: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      target: { type: 'string' },
      lanes: { type: 'string' },
      candidates: { type: 'string' },
      ttl: { type: 'string' },
      kinds: { type: 'string' },
      modes: { type: 'string' },
      dead: { type: 'string' },
      experiment: { type: 'string' },
      diagnose: { type: 'boolean' },
      'late-ms': { type: 'string' },
      quiet: { type: 'boolean' },
      etcd: { type: 'string' },
    },
  });
  // --etcd sets LOCKED_ETCD before any cluster starts: every EtcdCluster of the run uses that build.
  if (values.etcd !== undefined) {
    try {
      process.env.LOCKED_ETCD = etcdBuild({ LOCKED_ETCD: values.etcd });
    } catch {
      fail(`--etcd must be 3.4, 3.5 or 3.5-sid, got ${values.etcd}`);
    }
  }
  const etcd = ensureEtcd();
  const faults = positiveInt('faults', values.faults, 30);
  const seed = positiveInt('seed', values.seed, randomSeed());
  const targetText = values.target ?? 'locked';
  if (targetText !== 'locked' && targetText !== 'etcd3') fail(`--target must be locked or etcd3, got ${targetText}`);
  const target: Target = targetText;
  const all: readonly string[] = [...LANE_FAULTS, ...CLUSTER_FAULTS];
  const kinds = values.kinds?.split(',').map((k) => k.trim());
  for (const k of kinds ?? []) if (!all.includes(k)) fail(`unknown fault kind ${k}; known: ${all.join(', ')}`);
  const modes = values.modes?.split(',').map((m) => m.trim()) as CandidateMode[] | undefined;
  const dead = values.dead?.split(',').map((d) => d.trim()) as DeadEndpoints[] | undefined;
  for (const d of dead ?? []) {
    if (!['none', 'refusing', 'hanging', 'both'].includes(d))
      fail(`--dead takes none, refusing, hanging or both, got ${d}`);
  }
  if (values.experiment !== undefined && values.experiment !== 'no-breaker') {
    fail(`--experiment takes no-breaker, got ${values.experiment}`);
  }
  const experiment = values.experiment;
  const ttlSec = values.ttl === undefined ? 2 : Number(values.ttl);
  if (!(ttlSec >= 1)) fail(`--ttl must be a number of seconds ≥ 1, got ${values.ttl}`);
  const out = values.out ?? `/tmp/locked-chaos-${target}-${seed}.json`;
  const mdOut = out.replace(/\.json$/, '') + '.md';
  const command = `npm run chaos -- ${process.argv.slice(2).join(' ')}`.trim();

  process.stdout.write(`chaos: etcd ${etcd.version} (build ${etcd.build}, ${etcd.etcd})\n`);
  process.stdout.write(`chaos: seed ${seed} (rerun with --seed ${seed}); report → ${out}\n`);
  const result = await runChaos({
    faults,
    seed,
    target,
    lanes: positiveInt('lanes', values.lanes, 4),
    candidatesPerLane: positiveInt('candidates', values.candidates, 3),
    ttlSec,
    ...(kinds ? { kinds: kinds as FaultKind[] } : {}),
    ...(modes ? { modes } : {}),
    ...(dead ? { deadEndpoints: dead } : {}),
    ...(experiment ? { experiment } : {}),
    ...(values.diagnose ? { diagnose: true } : {}),
    lateRecoveryMs: positiveInt('late-ms', values['late-ms'], 30_000),
    log: values.quiet ? () => undefined : (line) => process.stdout.write(`${new Date().toISOString()} ${line}\n`),
  });
  const summary = summarize(result);
  writeFileSync(out, JSON.stringify({ command, summary, ...result }, null, 1));
  const markdown = renderMarkdown(result, summary, command);
  writeFileSync(mdOut, markdown);
  process.stdout.write(`\n${markdown}\nchaos: wrote ${out} and ${mdOut}\n`);
  process.exitCode = summary.ok ? 0 : 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(2);
});
