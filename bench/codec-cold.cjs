/**
 * `npm run bench:codec [-- ROUNDS]`: what one watch response's decode and one resignation's encode cost
 * in a process that was idle, with etcd3's codec (protobufjs under @grpc/proto-loader) and with locked's
 * own (src/transport/watch-response.ts, txn-request.ts). A handover's messages are handled once per term,
 * by processes that sat idle between renewals: that code runs cold (README "Performance").
 *
 * A child process per implementation and round, the implementations taking turns; each child uses its
 * codec three times (as locked's warm-up does), then times one operation after each idle gap, the
 * operations and gaps (2 and 1,000 ms) taking turns. No etcd: the codecs come from an etcd3 client that
 * never connects. Prints the table and writes it to bench/results/codec.md.
 */
'use strict';
const { fork } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { quantile, footer } = require('./plain-report.cjs');

const GAPS_MS = [2, 1000];
const OPS = ['decode a watch response (a delete and a put)', "encode a resignation's Txn request"];
const SAMPLES_PER_CHILD = 6; // per operation and gap


/** The two messages, as a handover has them. */
function samples() {
  const key = Buffer.from('/bench/locked/5/3/4242/694d9a6b3c1e2f10');
  const record = Buffer.from('/bench/locked/5/3/4242.locked-term');
  const value = Buffer.from('{"state":"resigned","token":"123400","ttlMs":5000,"heir":"123401"}');
  const header = { cluster_id: '14841639068965178418', member_id: '10276657743932975437', revision: '123456', raft_term: '7' };
  const response = {
    header,
    watch_id: '3',
    events: [
      { type: 'Delete', kv: { key, mod_revision: '123456' } },
      { type: 'Put', kv: { key: record, create_revision: '100', mod_revision: '123456', version: '9', value } },
    ],
  };
  const request = {
    compare: [
      { key, target: 'Create', result: 'Equal', create_revision: '123400' },
      { key: Buffer.from('/bench/locked/5/3/4242/694d9a6b3c1e2f11'), target: 'Create', result: 'Equal', create_revision: '123401' },
    ],
    success: [{ request_delete_range: { key } }, { request_put: { key: record, value } }],
    failure: [{ request_range: { key } }],
  };
  return { response, request };
}

function child(impl) {
  process.once('disconnect', () => process.exit(0));
  const { Etcd3 } = require('etcd3');
  const client = new Etcd3({ hosts: '127.0.0.1:1' });
  const methods = (service) =>
    client.pool.withConnection(service, ({ client: grpc }) => Promise.resolve(grpc.constructor.service));
  Promise.all([methods('Watch'), methods('KV')]).then(([watch, kv]) => {
    const { response, request } = samples();
    const bytes = watch.Watch.responseSerialize(response);
    const ops =
      impl === 'locked'
        ? [
            require('../dist/transport/watch-response.js').decodeWatchResponse,
            require('../dist/transport/txn-request.js').encodeTxnRequest,
          ]
        : [(b) => watch.Watch.responseDeserialize(b), (r) => kv.Txn.requestSerialize(r)];
    const args = [bytes, request];
    for (let i = 0; i < 3; i++) ops.forEach((op, j) => op(args[j]));
    const plan = [];
    for (let s = 0; s < SAMPLES_PER_CHILD; s++) for (const gap of GAPS_MS) for (let j = 0; j < ops.length; j++) plan.push([gap, j]);
    const out = [];
    const next = (k) => {
      if (k === plan.length) {
        process.send(out, () => process.exit(0));
        return;
      }
      const [gap, j] = plan[k];
      setTimeout(() => {
        const t0 = process.hrtime.bigint();
        ops[j](args[j]);
        out.push({ op: j, gap, us: Number(process.hrtime.bigint() - t0) / 1e3 });
        next(k + 1);
      }, gap);
    };
    next(0);
  });
}

function runChild(impl) {
  return new Promise((resolve, reject) => {
    const c = fork(join(__dirname, 'codec-cold.cjs'), ['--child', impl]);
    c.once('message', resolve);
    c.once('exit', (code) => (code === 0 ? undefined : reject(new Error(`child ${impl} exited ${code}`))));
  });
}

async function main() {
  const rounds = Number(process.argv[2] ?? 3);
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error(`ROUNDS must be a positive integer, got ${process.argv[2]}`);
    process.exit(2);
  }
  const all = { etcd3: [], locked: [] };
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ['etcd3', 'locked'] : ['locked', 'etcd3'];
    for (const impl of order) all[impl].push(...(await runChild(impl)));
  }
  const stat = (impl, op, gap) => {
    const v = all[impl].filter((s) => s.op === op && s.gap === gap).map((s) => s.us);
    v.sort((a, b) => a - b);
    return { n: v.length, median: quantile(v, 0.5), p90: quantile(v, 0.9) };
  };
  const rows = [
    '| operation | idle gap (ms) | samples each | etcd3 median µs | etcd3 p90 µs | locked median µs | locked p90 µs | etcd3 ÷ locked (medians) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  OPS.forEach((name, op) => {
    for (const gap of GAPS_MS) {
      const a = stat('etcd3', op, gap);
      const b = stat('locked', op, gap);
      rows.push(
        `| ${name} | ${gap} | ${a.n} | ${a.median.toFixed(0)} | ${a.p90.toFixed(0)} | ${b.median.toFixed(0)} | ${b.p90.toFixed(0)} | ${(a.median / b.median).toFixed(1)}× |`,
      );
    }
  });
  const md = [
    '# A handover\'s messages in an idle process: etcd3\'s codec and locked\'s',
    '',
    "One watch response as a successor gets it (the leader's key deleted, the term record written) decoded, and one resignation's Txn request encoded, each after an idle gap, in a process that had used the codec three times before; a child process per implementation and round, the implementations taking turns (bench/codec-cold.cjs). locked decodes watch responses and encodes its parked resignation itself (src/transport/watch-response.ts, txn-request.ts); every other message goes through etcd3's codec.",
    '',
    ...rows,
    '',
    ...footer(`npm run bench:codec -- ${rounds}`),
    '',
  ].join('\n');
  writeFileSync(join(__dirname, 'results', 'codec.md'), md);
  console.log(md);
}

if (process.argv[2] === '--child') child(process.argv[3]);
else
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
