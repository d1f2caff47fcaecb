import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { killOnExit } from '../../src/testing/kill-on-exit.js';
import { monoMs } from '../candidates/protocol.js';
import { readPcap, type Frame, type Segment } from './pcap.js';
import { countMedianP90 } from './stats.js';

/**
 * A packet capture of the loopback traffic to and from some ports, for
 * `npm run bench:steps -- --wire`: tcpdump (Debian's `tcpdump` package) writes
 * to a temp file, tracked by PID and ended by PID, read back when stopped.
 * Packets carry CLOCK_REALTIME stamps; `wallOffsetMs` maps the shared
 * monotonic clock of the benchmark's processes onto them.
 */
export class WireCapture {
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess, dir: string) {
    this.#child = child;
    this.#dir = dir;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  /** Starts capturing TCP segments to or from `ports` on `lo`; resolves once tcpdump listens. */
  static async start(ports: number[]): Promise<WireCapture> {
    const dir = mkdtempSync(join(tmpdir(), 'locked-wire-'));
    const filter = `tcp and (${ports.map((p) => `port ${p}`).join(' or ')})`;
    const child = spawn(
      'tcpdump',
      ['-i', 'lo', '-s', '256', '-B', '32768', '-U', '-w', join(dir, 'trace.pcap'), filter],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    killOnExit(child); // killed by PID if this process exits first (a benchmark that failed)
    const capture = new WireCapture(child, dir);
    try {
      await new Promise<void>((resolve, reject) => {
        let err = '';
        const timer = setTimeout(() => reject(new Error(`tcpdump did not start within 10 s: ${err}`)), 10_000);
        child.once('error', (e) => {
          clearTimeout(timer);
          reject(new Error(`tcpdump could not be started (apt-get install -y tcpdump): ${e.message}`));
        });
        child.stderr?.on('data', (chunk: Buffer) => {
          err += chunk.toString();
          if (/listening on/.test(err)) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => {
          clearTimeout(timer);
          reject(new Error(`tcpdump exited with ${code}: ${err.trim()}`));
        });
      });
    } catch (err) {
      await capture.#end();
      throw err;
    }
    return capture;
  }

  /** Ends the capture and returns its segments; the temp file is removed. */
  async stop(): Promise<Segment[]> {
    await this.#end();
    try {
      return readPcap(join(this.#dir, 'trace.pcap'));
    } finally {
      rmSync(this.#dir, { recursive: true, force: true });
    }
  }

  async #end(): Promise<void> {
    const pid = this.#child.pid;
    if (pid !== undefined && this.#child.exitCode === null && this.#child.signalCode === null) {
      process.kill(pid, 'SIGTERM'); // tcpdump flushes its file on SIGTERM
      const timer = setTimeout(() => process.kill(pid, 'SIGKILL'), 5000);
      await this.#exited;
      clearTimeout(timer);
    }
  }
}

/**
 * Wall-clock ms minus monotonic ms, read at the instants `Date.now()` ticks
 * over (so to within a few µs, not to its 1 ms resolution); the median of 7.
 */
export function wallOffsetMs(): number {
  const offsets: number[] = [];
  for (let k = 0; k < 7; k++) {
    const start = Date.now();
    let now = start;
    while (now === start) now = Date.now();
    offsets.push(now - monoMs());
  }
  return offsets.sort((a, b) => a - b)[3]!;
}

/** Local port → owning PID of every established loopback TCP connection (`ss -tnpH`; root sees all). */
export function portOwners(): Map<number, number> {
  const owners = new Map<number, number>();
  for (const line of execFileSync('ss', ['-tnpH', 'state', 'established'], { encoding: 'utf8' }).split('\n')) {
    const fields = line.trim().split(/\s+/);
    const pid = /pid=(\d+)/.exec(line)?.[1];
    const local = fields.find((f) => /^127\.0\.0\.1:\d+$/.test(f));
    if (pid && local) owners.set(Number(local.split(':')[1]), Number(pid));
  }
  return owners;
}

/** What a handover run needs to be found in a capture. */
export interface HandoverRun {
  /** The leader's `stop()` and the successor's `select`, wall-clock ms. */
  readonly stopWall: number;
  readonly selectWall: number;
  /** Local ports of the leaver's and the successor's connections to etcd. */
  readonly leaverPorts: ReadonlySet<number>;
  readonly successorPorts: ReadonlySet<number>;
  /** Client port → index of the etcd member listening on it. */
  readonly members: ReadonlyMap<number, number>;
  /** Index of the member that was the Raft leader. */
  readonly raftLeader: number;
}

/** One handover on the wire; ms after `stop()`. */
export interface HandoverOnWire {
  /** The leaver's request (revoke or resign) leaves its socket: its HEADERS frame. */
  readonly requestMs: number;
  /** etcd's answer to it reaches the leaver's socket. */
  readonly answerMs: number;
  /** The delete event reaches the successor's socket: a watch response (DATA of 60+ bytes). */
  readonly eventMs: number;
  readonly selectMs: number;
  /** Whether the request went to the Raft leader (else a follower forwarded it). */
  readonly requestToRaftLeader: boolean;
  /** Whether the event came from the Raft leader. */
  readonly eventFromRaftLeader: boolean;
  /** The successor's first new request after the event and before select (locked's claim) leaves its socket; NaN if none. */
  readonly successorRequestMs: number;
  /** etcd's answer to that request reaches the successor's socket; NaN if none. */
  readonly successorAnswerMs: number;
}

/** The smallest watch response that carries a delete of a benchmark key (a keepalive response is ~36 bytes). */
const MIN_EVENT_DATA = 60;

/** Finds one handover in the capture's `segments` (time-ordered); null if a step is missing. */
/**
 * A frame that sends a unary request: its HEADERS, or the DATA that ends a call opened before (locked parks
 * its resignation's call while it leads: src/transport/parked-txn.ts). A stream's messages (keepalives,
 * watch requests) never end it.
 */
function startsOrEndsCall(f: Frame): boolean {
  return f.type === 1 || (f.type === 0 && (f.flags & 1) === 1);
}

export function handoverOnWire(segments: readonly Segment[], run: HandoverRun): HandoverOnWire | null {
  const from = segments.findIndex((s) => s.wallMs >= run.stopWall);
  if (from < 0) return null;
  const window = segments.slice(from).filter((s) => s.wallMs <= run.stopWall + 1000);
  const request = window.find(
    (s) => run.leaverPorts.has(s.srcPort) && run.members.has(s.dstPort) && s.frames.some(startsOrEndsCall),
  );
  if (!request) return null;
  const stream = request.frames.find(startsOrEndsCall)!.streamId;
  const answer = window.find(
    (s) =>
      s.wallMs >= request.wallMs &&
      s.srcPort === request.dstPort &&
      s.dstPort === request.srcPort &&
      s.frames.some((f) => f.type === 1 && f.streamId === stream),
  );
  const event = window.find(
    (s) =>
      s.wallMs >= request.wallMs &&
      run.members.has(s.srcPort) &&
      run.successorPorts.has(s.dstPort) &&
      s.frames.some((f) => f.type === 0 && f.length >= MIN_EVENT_DATA),
  );
  if (!answer || !event) return null;
  const ownRequest = window.find(
    (s) =>
      s.wallMs >= event.wallMs &&
      s.wallMs <= run.selectWall &&
      run.successorPorts.has(s.srcPort) &&
      run.members.has(s.dstPort) &&
      s.frames.some((f) => f.type === 1),
  );
  const ownStream = ownRequest?.frames.find((f) => f.type === 1)!.streamId;
  const ownAnswer = ownRequest
    ? window.find(
        (s) =>
          s.wallMs >= ownRequest.wallMs &&
          s.srcPort === ownRequest.dstPort &&
          s.dstPort === ownRequest.srcPort &&
          s.frames.some((f) => f.type === 1 && f.streamId === ownStream),
      )
    : undefined;
  return {
    successorRequestMs: ownRequest ? ownRequest.wallMs - run.stopWall : NaN,
    successorAnswerMs: ownRequest && ownAnswer ? ownAnswer.wallMs - run.stopWall : NaN,
    requestMs: request.wallMs - run.stopWall,
    answerMs: answer.wallMs - run.stopWall,
    eventMs: event.wallMs - run.stopWall,
    selectMs: run.selectWall - run.stopWall,
    requestToRaftLeader: run.members.get(request.dstPort) === run.raftLeader,
    eventFromRaftLeader: run.members.get(event.srcPort) === run.raftLeader,
  };
}

/** How a wire table names its ends: what starts the handover, what the leaver sends, what ends it. */
export interface WireWords {
  /** `stop()`, `SIGINT`. */
  readonly start: string;
  /** `request`, `resign`. */
  readonly request: string;
  /** Where the successor's part ends: `select`, or the key read from etcdctl's stdout. */
  readonly successorEnd: string;
  /** `select`, `elected`. */
  readonly elected: string;
  /** When given (`claim`), the successor's part is also split at its one request: see HandoverOnWire. */
  readonly successorRequest?: string;
}

/**
 * The rows (part, runs, median, p90) of a handover timed on the wire: the leader's process, etcd
 * (with `byMember`, split by whether the request went to the Raft leader, and when etcd answered
 * the leader), the successor's process, the whole.
 */
export function wireRows(all: readonly HandoverOnWire[], words: WireWords, byMember: boolean): string[][] {
  const row = (what: string, values: number[]): string[] => [what, ...countMedianP90(values)];
  const etcd = (w: HandoverOnWire): number => w.eventMs - w.requestMs;
  return [
    row(
      `leader's process: ${words.start} → its ${words.request} leaves its socket`,
      all.map((w) => w.requestMs),
    ),
    row('etcd: the request → the delete event leaves for the successor', all.map(etcd)),
    ...(byMember
      ? [
          row('… the request went to the Raft leader', all.filter((w) => w.requestToRaftLeader).map(etcd)),
          row('… the request went to a follower', all.filter((w) => !w.requestToRaftLeader).map(etcd)),
          row(
            `etcd answers the leader's request (ms after ${words.start})`,
            all.map((w) => w.answerMs),
          ),
        ]
      : []),
    row(
      `successor's process: the event reaches its socket → ${words.successorEnd}`,
      all.map((w) => w.selectMs - w.eventMs),
    ),
    ...(words.successorRequest ? successorRequestRows(all, words.successorRequest, words.successorEnd) : []),
    row(
      `the whole handover: ${words.start} → ${words.elected}`,
      all.map((w) => w.selectMs),
    ),
  ];
}

/** The successor's part split at its one request (runs where it was found in the capture). */
function successorRequestRows(all: readonly HandoverOnWire[], request: string, end: string): string[][] {
  const found = all.filter((w) => Number.isFinite(w.successorAnswerMs));
  const row = (what: string, values: number[]): string[] => [what, ...countMedianP90(values)];
  return [
    row(
      `… the event → its ${request} leaves its socket`,
      found.map((w) => w.successorRequestMs - w.eventMs),
    ),
    row(
      `… etcd: its ${request} → the answer reaches its socket`,
      found.map((w) => w.successorAnswerMs - w.successorRequestMs),
    ),
    row(
      `… the answer → ${end}`,
      found.map((w) => w.selectMs - w.successorAnswerMs),
    ),
  ];
}
