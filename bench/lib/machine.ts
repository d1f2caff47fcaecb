import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';
import { ensureEtcd } from '../../src/testing/etcd-binary.js';

/**
 * Where and with what a benchmark ran: the machine, its load while the
 * benchmark ran (1-minute load average, sampled every few seconds), versions.
 */
export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly node: string;
  readonly etcd: string;
  readonly packages: Record<string, string>;
  readonly commit: string;
}

const ROOT = join(__dirname, '..', '..');

function packageVersion(name: string): string {
  try {
    const text = readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8');
    return (JSON.parse(text) as { version: string }).version;
  } catch {
    return 'missing';
  }
}

function run(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', cwd: ROOT, timeout: 10_000 }).trim();
  } catch {
    return 'unknown';
  }
}

export function machine(): Machine {
  // the binaries of the etcd build the benchmark ran on (LOCKED_ETCD, --etcd)
  const binaries = ensureEtcd();
  const own = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    etcd: `${binaries.version} (build ${binaries.build})`,
    packages: {
      locked: own.version,
      etcd3: packageVersion('etcd3'),
      'locked-v2 (locked@2.4.1)': packageVersion('locked-v2'),
      '@grpc/grpc-js': packageVersion('@grpc/grpc-js'),
      etcdctl: run(binaries.etcdctl, ['version']).split('\n')[0]?.replace('etcdctl version: ', '') ?? 'unknown',
    },
    commit: run('git', ['rev-parse', '--short', 'HEAD']),
  };
}

/** Samples the 1-minute load average until stopped. */
export class LoadSampler {
  readonly samples: number[] = [];
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(intervalMs = 5000) {
    this.samples.push(os.loadavg()[0]!);
    this.#timer = setInterval(() => this.samples.push(os.loadavg()[0]!), intervalMs);
    this.#timer.unref();
  }

  stop(): { min: number; mean: number; max: number } {
    clearInterval(this.#timer);
    this.samples.push(os.loadavg()[0]!);
    const sum = this.samples.reduce((a, b) => a + b, 0);
    return { min: Math.min(...this.samples), mean: sum / this.samples.length, max: Math.max(...this.samples) };
  }
}

/** The "Machine" section of a results file. */
export function machineMarkdown(m: Machine, load: { min: number; mean: number; max: number }, command: string): string {
  const pkgs = Object.entries(m.packages)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return [
    `- Command: \`${command}\` (commit ${m.commit}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    `- Machine: ${m.cpus} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB RAM; 1-min load average during the run ${load.min.toFixed(2)}–${load.max.toFixed(2)} (mean ${load.mean.toFixed(2)}), shared with other work`,
    `- Versions: node ${m.node}, etcd ${m.etcd}, ${pkgs}`,
  ].join('\n');
}
