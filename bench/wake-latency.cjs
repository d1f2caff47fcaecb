/**
 * `npm run bench:wake [-- ROUNDS]`: how long this machine takes to wake an idle process, by how long it
 * was idle. A parent and a child Node process on a loopback TCP socket: after an idle gap, the parent
 * sends one byte; the child answers at once. The round trip is timed on the parent's monotonic clock for
 * gaps of 2, 50, 300, 700 and 1,700 ms (the last two: the renew intervals of TTL 2 s and 5 s), ROUNDS
 * times each (default 20), the gaps taking turns. A graceful handover is a chain of such wake-ups (the
 * etcd members, the successor's process), so its time depends on how long those processes were idle
 * (README "Performance", "Targets missed"). No etcd, no locked: the machine's own figure, like the floor.
 * Prints the table and writes it to bench/results/wake-latency.md.
 */
'use strict';
const net = require('node:net');
const { fork } = require('node:child_process');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { quantile, footer } = require('./plain-report.cjs');


const GAPS_MS = [2, 50, 300, 700, 1700];

if (process.argv[2] === '--child') {
  process.once('disconnect', () => process.exit(0)); // the parent is gone, however it ended
  net
    .createServer((socket) => {
      socket.setNoDelay(true);
      socket.on('data', () => socket.write('y'));
    })
    .listen(0, '127.0.0.1', function onListening() {
      process.send(this.address().port);
    });
} else {
  const rounds = Number(process.argv[2] ?? 20);
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error(`ROUNDS must be a positive integer, got ${process.argv[2]}`);
    process.exit(2);
  }
  const child = fork(join(__dirname, 'wake-latency.cjs'), ['--child']);
  child.once('message', (port) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const plan = [];
    for (let r = 0; r < rounds; r++) for (const gap of GAPS_MS) plan.push(gap);
    const rtts = new Map(GAPS_MS.map((g) => [g, []]));
    let i = 0;
    let sentAt = 0n;
    const next = () => {
      if (i === plan.length) return report();
      const gap = plan[i++];
      setTimeout(() => {
        sentAt = process.hrtime.bigint();
        socket.write('x');
      }, gap);
    };
    socket.on('data', () => {
      rtts.get(plan[i - 1]).push(Number(process.hrtime.bigint() - sentAt) / 1e6);
      next();
    });
    socket.once('connect', next);
    const report = () => {
      const rows = ['| idle gap (ms) | round trips | median ms | p90 ms |', '| ---: | ---: | ---: | ---: |'];
      for (const [gap, v] of rtts) {
        v.sort((a, b) => a - b);
        rows.push(`| ${gap} | ${v.length} | ${quantile(v, 0.5).toFixed(3)} | ${quantile(v, 0.9).toFixed(3)} |`);
      }
      socket.destroy();
      child.kill();
      const md = [
        '# Waking an idle process on this machine',
        '',
        "Two Node processes on a loopback TCP socket, no etcd: after an idle gap the parent sends one byte and the child answers at once; the round trip on the parent's monotonic clock, the gaps taking turns (bench/wake-latency.cjs).",
        '',
        ...rows,
        '',
        ...footer(`npm run bench:wake -- ${rounds}`),
        '',
      ].join('\n');
      writeFileSync(join(__dirname, 'results', 'wake-latency.md'), md);
      console.log(md);
    };
  });
}
