// Where the memory of many elections in one process goes (npm run bench:memory [-- N]):
// the process before any campaign, the heap each elected campaign keeps (after a full
// collection), and what each campaign allocates in passing, by package (V8's sampling heap
// profiler, counting objects the collector has already freed). Runs the built library
// (dist/) under plain node with --expose-gc, on a throwaway 3-member etcd.
'use strict';
const { performance } = require('node:perf_hooks');
const inspector = require('node:inspector');
const { EtcdCluster } = require('../dist/testing/etcd-cluster.js');
const { LockedClient } = require('../dist/api.js');

const N = Number(process.argv[2] ?? 10000);
const WINDOW = 64;
const MB = 2 ** 20;
const post = (session, method, params) =>
  new Promise((resolve, reject) => session.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));

function byPackage(profile) {
  const totals = new Map();
  const walk = (node) => {
    const url = node.callFrame.url;
    const where = url.includes('node_modules/')
      ? url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, '$1')
      : url.includes('/dist/')
        ? 'locked'
        : url.startsWith('node:')
          ? 'node core'
          : 'V8 builtins and other';
    totals.set(where, (totals.get(where) ?? 0) + node.selfSize);
    node.children.forEach(walk);
  };
  walk(profile.head);
  return [...totals].sort((a, b) => b[1] - a[1]);
}

async function main() {
  if (typeof global.gc !== 'function') throw new Error('run with node --expose-gc');
  const cluster = await EtcdCluster.start({ size: 3 });
  try {
    const client = new LockedClient({ endpoints: cluster.endpoints, ttl: 10 });
    await client.transport.range({ key: Buffer.from('/bench/memory/warmup') });
    global.gc();
    const base = process.memoryUsage();
    console.log(`before any campaign: RSS ${(base.rss / MB).toFixed(0)} MB, heap in use ${(base.heapUsed / MB).toFixed(1)} MB`);
    const session = new inspector.Session();
    session.connect();
    await post(session, 'HeapProfiler.startSampling', {
      samplingInterval: 4096,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    const terms = [];
    let next = 0;
    const worker = async () => {
      while (next < N) {
        const i = next++;
        terms.push(await client.election(`/bench/memory/${process.pid}/${i}`).campaign(`v${i}`));
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: WINDOW }, worker));
    const electedMs = performance.now() - t0;
    const { profile } = await post(session, 'HeapProfiler.stopSampling');
    session.disconnect();
    const packages = byPackage(profile);
    const allocated = packages.reduce((sum, [, bytes]) => sum + bytes, 0);
    global.gc();
    const after = process.memoryUsage();
    console.log(`${terms.length} elections (${WINDOW} in flight) elected in ${(electedMs / 1000).toFixed(1)} s`);
    console.log(
      `kept per election after a full collection: ${((after.heapUsed - base.heapUsed) / N / 1024).toFixed(2)} KB ` +
        `(heap in use ${(after.heapUsed / MB).toFixed(1)} MB, heap committed ${(after.heapTotal / MB).toFixed(0)} MB, RSS ${(after.rss / MB).toFixed(0)} MB)`,
    );
    console.log(`allocated per campaign, sampled: ${(allocated / N / 1024).toFixed(1)} KB, by package:`);
    for (const [where, bytes] of packages.slice(0, 8)) {
      console.log(`  ${where.padEnd(24)} ${((bytes / allocated) * 100).toFixed(0).padStart(3)} %`);
    }
    await client.close();
  } finally {
    await cluster.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
