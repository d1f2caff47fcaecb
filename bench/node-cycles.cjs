// What a long-lived locker keeps per node it started and stopped (npm run bench:cycles [-- N [paths [warmup]]]):
// N start/stop cycles of a seed node on one locker (each waits for start() — the lone node then
// leads — and for stop()), then the heap growth per cycle after full collections. `paths`
// (default 1) spreads the cycles over that many election paths. The first `warmup` cycles (default
// 2000) are not counted: V8 keeps compiling and optimizing the library's code for the first few
// thousand cycles (its code space grows to about 3 MB, then stays there), and the connection,
// watch stream and pools are made. The code space is shown apart (the optimized code's
// deoptimization data and dependent-code lists live outside it); `node --expose-gc --no-opt
// --no-maglev bench/node-cycles.cjs N` takes the optimizing compilers' churn out of the figure.
// Runs the built library (dist/) under plain node with --expose-gc, on a throwaway 1-member etcd.
'use strict';
const { performance } = require('node:perf_hooks');
const { setImmediate } = require('node:timers');
const v8 = require('node:v8');
const { EtcdCluster } = require('../dist/testing/etcd-cluster.js');
const { locked } = require('../dist/api.js');

const N = Number(process.argv[2] ?? 3000);
const PATHS = Number(process.argv[3] ?? 1);
const WARMUP = Number(process.argv[4] ?? 2000);

/** Heap in use (and of it, code space) after collections that leave nothing more to free. */
async function settledHeap() {
  let last = Infinity;
  for (let i = 0; i < 10; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    global.gc();
    const used = process.memoryUsage().heapUsed;
    if (Math.abs(last - used) < 4096) break;
    last = used;
  }
  const code = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'code_space')?.space_used_size ?? 0;
  return { used: process.memoryUsage().heapUsed, code };
}

async function cycles(locker, from, count) {
  for (let i = from; i < from + count; i++) {
    const node = locker({ path: `/bench/cycles/${process.pid}/${i % PATHS}`, id: `n${i}`, ttl: 10 });
    await node.start();
    if (!node.isSelected()) throw new Error(`cycle ${i}: start() resolved but the lone node does not lead`);
    await node.stop();
  }
}

async function main() {
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
  const cluster = await EtcdCluster.start({ size: 1 });
  try {
    const locker = locked(cluster.endpoints);
    await cycles(locker, 0, WARMUP);
    const before = await settledHeap();
    const t0 = performance.now();
    await cycles(locker, WARMUP, N);
    const ms = performance.now() - t0;
    const after = await settledHeap();
    const perCycle = (after.used - before.used) / N;
    const codePerCycle = (after.code - before.code) / N;
    console.log(
      `${N} start/stop cycles on one locker (${PATHS} path${PATHS === 1 ? '' : 's'}, after ${WARMUP} not counted) ` +
        `in ${(ms / 1000).toFixed(1)} s (${(ms / N).toFixed(1)} ms each)`,
    );
    console.log(
      `heap kept per cycle after a full collection: ${perCycle.toFixed(0)} bytes ` +
        `(${(perCycle - codePerCycle).toFixed(0)} bytes outside V8's code space; ` +
        `heap in use ${(before.used / 1024).toFixed(0)} KB → ${(after.used / 1024).toFixed(0)} KB)`,
    );
    await locker.close();
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
