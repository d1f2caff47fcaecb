/**
 * What the plain CommonJS benchmarks (bench/wake-latency.cjs, bench/codec-cold.cjs: run by node without
 * a build, so they cannot import bench/lib's TypeScript) share: a nearest-rank quantile and the lines
 * that close a report (the command, the commit and time, the machine).
 */
'use strict';
const os = require('node:os');
const { execFileSync } = require('node:child_process');

/** The short commit the run measured, or "unknown" outside a git checkout. */
function commit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: __dirname, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

/** The nearest-rank quantile `p` of `sorted` (ascending). */
function quantile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

/** The report's last lines: `command` as run, with the commit, the time (UTC) and the machine. */
function footer(command) {
  const cpus = os.cpus();
  return [
    `- Command: \`${command}\` (commit ${commit()}, ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    `- Machine: ${cpus.length} CPUs (${cpus[0]?.model ?? 'unknown'}), node ${process.version}; 1-min load average at the end ${os.loadavg()[0].toFixed(2)}`,
  ];
}

module.exports = { commit, quantile, footer };
