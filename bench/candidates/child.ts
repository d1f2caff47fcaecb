/**
 * A candidate process for the benchmarks: `node --import tsx child.ts <kind>`,
 * driven by the parent over IPC (protocol.ts). It runs one implementation and
 * reports each event with the monotonic time it happened at. It exits when told,
 * or when the parent goes away.
 */
import type { Adapter, Connect, Contender } from './adapter.js';
import { monoMs, type CandidateKind, type Command, type Report } from './protocol.js';
import { countSocketBytes, socketBytes } from './socket-bytes.js';
import type { Step } from './steps.js';

countSocketBytes();

/** With BENCH_STEPS=1 (npm run bench:steps), locked's requests and watch events are recorded here. */
const recording = process.env.BENCH_STEPS === '1';
/** With BENCH_STEPS_CPU=1 too (`npm run bench:steps -- --cpu`), a CPU reading follows each event, the election and the stop. */
const withCpu = recording && process.env.BENCH_STEPS_CPU === '1';
const steps: Step[] = [];

/** How long a deposal's report waits: past any handover it is part of (bench/scenarios/failover.ts). */
const DEPOSED_REPORT_AFTER_MS = 250;

const loaders: Record<CandidateKind, () => Promise<{ connect: Connect }>> = {
  locked: () => import('./locked.js'),
  'locked-core': () => import('./locked-core.js'),
  etcd3: () => import('./etcd3.js'),
  v3election: () => import('./v3election.js'),
  'locked-v2': () => import('./locked-v2.js'),
};

function send(report: Report): void {
  process.send?.(report);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

async function main(): Promise<void> {
  const kind = process.argv[2] as CandidateKind;
  const load = loaders[kind];
  if (!load) throw new Error(`unknown candidate kind ${String(kind)}`);
  const { connect } = await load();
  // Loaded only when asked for, so that no other run carries locked's modules into other kinds' processes.
  const trace = recording ? (await import('./steps.js')).stepsTrace(steps, withCpu) : undefined;
  const cpuStep = withCpu ? (await import('./cpu-reading.js')).cpuStep : null;
  let adapter: Adapter | null = null;
  let waiting: Contender[] = [];
  let running: Contender[] = [];
  let queue: Promise<void> = Promise.resolve();
  // With a start window, each election won (or failed) lets the next queued candidacy start.
  let queued: Contender[] = [];
  let nextQueued = 0;
  const startNext = (): void => {
    const next = queued[nextQueued];
    if (!next) return;
    nextQueued++;
    next.start();
  };
  let renewedThisTick = false;
  const hooks = {
    elected: () => {
      const t = monoMs();
      if (recording) steps.push([t, 'elected']);
      if (cpuStep) steps.push(cpuStep());
      send({ ev: 'elected', t });
      startNext();
    },
    // Elections sharing a lease are renewed together, in one tick: report that once, not once per election
    // (10,000 IPC messages per renewal would be the benchmark's cost, not the library's).
    renewed: () => {
      if (renewedThisTick) return;
      renewedThisTick = true;
      setImmediate(() => (renewedThisTick = false));
      send({ ev: 'renewed', t: monoMs() });
    },
    // Timed now, sent well after the handover: locked's seed node emits `deselect` inside `stop()`, before its
    // resignation goes out, and an IPC message then wakes the benchmark's process in the very window it measures,
    // on a machine whose CPUs etcd's members and the successor need (the other implementations report no
    // deposal on a graceful stop; no scenario reads the report's time before the run is over).
    deposed: () => {
      const t = monoMs();
      setTimeout(() => send({ ev: 'deposed', t }), DEPOSED_REPORT_AFTER_MS);
    },
    error: (err: unknown) => {
      send({ ev: 'error', t: monoMs(), message: errorMessage(err) });
      startNext();
    },
  };

  const run = async (cmd: Command): Promise<void> => {
    switch (cmd.op) {
      case 'connect':
        adapter = await connect(cmd.endpoints, trace);
        send({ ev: 'connected', t: monoMs() });
        return;
      case 'join': {
        if (!adapter) throw new Error('join before connect');
        const count = cmd.count ?? 1;
        for (let i = 0; i < count; i++) {
          const name = count > 1 ? `${cmd.config.name}-${i}` : cmd.config.name;
          waiting.push(adapter.join({ ...cmd.config, name }, hooks));
        }
        send({ ev: 'joined', t: monoMs() });
        return;
      }
      case 'start': {
        const t = monoMs();
        const starting = waiting;
        waiting = [];
        running.push(...starting);
        const now = cmd.window === undefined ? starting : starting.slice(0, cmd.window);
        queued = starting.slice(now.length);
        nextQueued = 0;
        for (const c of now) c.start();
        send({ ev: 'started', t });
        return;
      }
      case 'stop': {
        const stopCalledAt = monoMs();
        if (recording) steps.push([stopCalledAt, 'stop() called']);
        if (cpuStep) steps.push(cpuStep());
        const stopping = running;
        running = [];
        waiting = [];
        queued = [];
        await Promise.all(stopping.map((c) => c.stop()));
        send({ ev: 'stopped', t: monoMs(), stopCalledAt });
        return;
      }
      case 'usage': {
        const cpu = process.cpuUsage();
        send({
          ev: 'usage',
          t: monoMs(),
          usage: {
            cpuMs: (cpu.user + cpu.system) / 1000,
            rssBytes: process.memoryUsage().rss,
            heapUsedBytes: process.memoryUsage().heapUsed,
            socketBytes: socketBytes(),
          },
        });
        return;
      }
      case 'steps':
        send({ ev: 'steps', t: monoMs(), steps: steps.splice(0) });
        return;
      case 'exit':
        await Promise.race([adapter?.close(), new Promise((resolve) => setTimeout(resolve, 3000).unref())]);
        process.exit(0);
    }
  };

  process.on('message', (cmd: Command) => {
    queue = queue.then(
      () => run(cmd),
      () => run(cmd),
    );
    queue.catch((err: unknown) => send({ ev: 'error', t: monoMs(), message: errorMessage(err) }));
  });
  process.on('disconnect', () => process.exit(1));
  send({ ev: 'up', t: monoMs() });
}

main().catch((err: unknown) => {
  send({ ev: 'error', t: monoMs(), message: errorMessage(err) });
  process.exit(1);
});
