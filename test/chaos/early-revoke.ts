/**
 * `npx tsx test/chaos/early-revoke.ts --etcd 3.4|3.5|3.5-sid --freezes N --seed S
 *   [--clients C] [--out FILE] [--log-level info|debug]`   (npm run repro:early-revoke -- …)
 *
 * Reproduces etcd revoking a lease *early* — deleting its keys while the
 * client's deadline from its last acknowledged keepalive is still valid — when
 * the Raft leader freezes (SIGSTOP) and resumes, and collects etcd's own
 * evidence of who revoked it (docs/etcd-early-revocation.md).
 *
 * No locked code runs here: a 3-member etcd (loopback, --log-level=info) and
 * raw npm etcd3 calls. Each of C clients grants a lease (TTL 2 s), keeps it
 * alive every 667 ms on a keepalive stream to one member (moving to the next
 * member, on a new stream, when an answer is a whole interval late) and puts
 * one key on it; for every keepalive it records the send and ack times
 * (performance.now), the TTL answered and the header (member, raft term,
 * revision). A watch on every member records when each key is deleted. N
 * times: the Raft leader (etcd_server_is_leader in /metrics) is frozen for a
 * seeded 1.2–3 s, resumed, and the cluster is left to become healthy again.
 *
 * Afterwards, for every deletion: the client's deadline at that moment (send
 * time of its last acknowledged keepalive + TTL × 0.99 − 50 ms, as locked
 * computes it) and whether the deletion came before it ("early"). The
 * evidence from etcd itself: the LeaseRevoke entry of that lease in the
 * members' write-ahead logs (its raft term, and the member that proposed it:
 * the top 16 bits of a request ID are the proposer's member ID, pkg/idutil),
 * etcd_debugging_server_lease_expired_total per member (counted by the member
 * whose expiry loop got the revoke applied), and the members' zap log lines
 * around it (leader changes with terms, lease and leadership warnings).
 *
 * Prints one line per freeze, a summary and the first early deletions' timelines;
 * writes FILE (JSON, default /tmp/locked-early-revoke-<build>-<seed>.json) and
 * FILE with .md (every early deletion's timeline). The members' logs are kept
 * beside them (<FILE without .json>-logs/); the data dirs are removed.
 * Exit code 0 whatever was found; 1 when the run itself failed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  Etcd3,
  type IOptions,
  type IDuplexStream,
  type ILeaseKeepAliveRequest,
  type ILeaseKeepAliveResponse,
} from 'etcd3';
import type { IWatchRequest, IWatchResponse } from 'etcd3';
import { memberArgs } from '../../src/testing/etcd-cluster.js';
import { freePort } from '../../src/testing/free-port.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { Rng } from '../harness/rng.js';

const TTL_SEC = 2;
const INTERVAL_MS = (TTL_SEC * 1000) / 3;
const DRIFT = 0.01;
const MARGIN_MS = 50;
/** etcd's request timeout with these flags: 5 s + 2 × election timeout (1 s); a lost revoke proposal fails after it. */
const REQUEST_TIMEOUT_MS = 7000;
const PREFIX = '/early-revoke/';
const BUILDS = ['3.4', '3.5', '3.5-sid'] as const;
type Build = (typeof BUILDS)[number];

// ---------------------------------------------------------------- time

/** ms since the run started, on the monotonic clock; `wall()` maps it to epoch ms for etcd's log stamps. */
const t0 = performance.now();
const wallAtT0 = Date.now();
const now = (): number => performance.now() - t0;
const fromWall = (epochMs: number): number => epochMs - wallAtT0;
const fmt = (t: number): string => `+${(t / 1000).toFixed(3)}s`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** etcd's zap `ts`: ISO 8601 with ms (3.4) or µs (3.5) in UTC, or epoch seconds. */
function parseTs(ts: unknown): number | null {
  if (typeof ts === 'number') return ts * 1000;
  if (typeof ts !== 'string') return null;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)$/.exec(ts);
  if (!m) return null;
  const base = Date.parse(`${m[1]}${m[3] === 'Z' ? 'Z' : m[3]!.replace(/^([+-]\d\d)(\d\d)$/, '$1:$2')}`);
  return Number.isNaN(base) ? null : base + Number(`0.${m[2] ?? '0'}`) * 1000;
}

// ---------------------------------------------------------------- etcd members

interface Member {
  readonly name: string;
  readonly clientPort: number;
  readonly peerPort: number;
  readonly metricsPort: number;
  readonly dataDir: string;
  readonly logPath: string;
  process: ChildProcess | null;
  paused: boolean;
  /** Full member ID (hex, as etcd logs it) and its low 16 bits (the prefix of its request IDs). */
  idHex: string;
}

const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of children) {
    if (child.pid === undefined) continue;
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
});

function etcdBinary(build: Build): { etcd: string; version: string } {
  let etcd: string;
  if (build === '3.4') {
    const found = spawnSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8' });
    etcd = found.status === 0 ? found.stdout.trim() : '';
  } else {
    const cache = process.env.LOCKED_ETCD_CACHE ?? join(homedir(), '.cache', 'locked-etcd');
    etcd = join(cache, build, 'usr', 'bin', 'etcd');
  }
  const res = etcd ? spawnSync(etcd, ['--version'], { encoding: 'utf8' }) : null;
  const version = /etcd Version: *(\S+)/.exec(res?.stdout ?? '')?.[1];
  if (!version)
    throw new Error(`no etcd ${build} build found (${etcd || 'etcd not on PATH'}); run scripts/fetch-etcd.sh ${build}`);
  return { etcd, version };
}

function spawnMember(binary: string, members: Member[], m: Member, token: string, logLevel: string): void {
  mkdirSync(m.dataDir, { recursive: true, mode: 0o700 }); // as etcd 3.5 asks
  // The flags of src/testing/etcd-cluster.ts, with --log-level=info (or --log-level's).
  const args = memberArgs({ member: m, peers: members, state: 'new', token, logLevel });
  const log = createWriteStream(m.logPath, { flags: 'a' });
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  child.once('close', () => log.end());
  child.once('error', () => log.end());
  children.add(child);
  child.once('exit', () => children.delete(child));
  m.process = child;
}

async function getText(url: string, timeoutMs = 1000): Promise<string | null> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    return await res.text();
  } catch {
    return null;
  }
}

async function healthy(m: Member): Promise<boolean> {
  const text = await getText(`http://127.0.0.1:${m.clientPort}/health`);
  return text !== null && /"health":\s*"true"/.test(text);
}

async function waitAllHealthy(members: Member[], timeoutMs: number): Promise<void> {
  await waitFor(
    'every etcd member healthy',
    async () => {
      const gone = members.find((m) => m.process?.exitCode !== null || m.process?.signalCode !== null);
      if (gone) throw new Error(`etcd member ${gone.name} exited; its log: ${gone.logPath}`);
      return (await Promise.all(members.map(healthy))).every(Boolean);
    },
    { timeoutMs, intervalMs: 50 },
  );
}

async function metric(m: Member, name: string): Promise<number | null> {
  const text = await getText(`http://127.0.0.1:${m.metricsPort}/metrics`);
  const line = text?.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? null : Number(line.slice(name.length + 1));
}

async function leaderIndex(members: Member[]): Promise<number> {
  return waitFor(
    'an etcd Raft leader',
    async () => {
      const flags = await Promise.all(
        members.map((m) => (m.paused ? Promise.resolve(null) : metric(m, 'etcd_server_is_leader'))),
      );
      return flags.indexOf(1) + 1;
    },
    { timeoutMs: 15_000, intervalMs: 50 },
  ).then((n) => n - 1);
}

async function leaseExpiredCounts(members: Member[]): Promise<(number | null)[]> {
  return Promise.all(members.map((m) => metric(m, 'etcd_debugging_server_lease_expired_total')));
}

// ---------------------------------------------------------------- records

interface Ack {
  client: number;
  lease: string;
  kind: 'grant' | 'keepalive';
  sendAt: number;
  ackAt: number;
  ttl: number;
  member: string;
  raftTerm: number;
  revision: number;
}

interface KeyRecord {
  client: number;
  key: string;
  lease: string;
  createRevision: number | null;
  putAt: number;
  deletion: { revision: number; at: number; by: string; perMember: Record<string, number> } | null;
}

interface Freeze {
  n: number;
  member: string;
  stopAt: number;
  contAt: number;
  healthyAt: number | null;
  plannedMs: number;
  /** etcd_debugging_server_lease_expired_total per member: increase from before the freeze to after it healed. */
  leaseExpired: Record<string, number>;
}

const acks: Ack[] = [];
const keys = new Map<string, KeyRecord>();
let unanswered = 0;

// ---------------------------------------------------------------- clients

function connect(m: Member): Etcd3 {
  // No retries and no circuit breaker: every call goes to this one member, once.
  const passThrough = {
    execute: async (fn: (context: unknown) => unknown) => fn({ signal: new AbortController().signal }),
  };
  return new Etcd3({
    hosts: `http://127.0.0.1:${m.clientPort}`,
    faultHandling: { host: () => passThrough, global: passThrough } as unknown as NonNullable<
      IOptions['faultHandling']
    >,
  });
}

const deadlineIn = (ms: number): { deadline: Date } => ({ deadline: new Date(Date.now() + ms) });

interface KaStream {
  member: number;
  stream: IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>;
  pending: number[];
  dead: boolean;
}

/** One lease holder: grant, put a key, keepalive every TTL/3; a lost lease is replaced by a new one. */
class Holder {
  lease: string | null = null;
  key: string | null = null;
  lastAckAt = -Infinity;
  #current: number;
  #streams = new Map<number, KaStream>();
  #granting = false;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  readonly conns: Etcd3[];

  constructor(
    readonly n: number,
    readonly members: Member[],
  ) {
    this.conns = members.map(connect); // connections of its own, one per member
    this.#current = n % members.length;
  }

  start(offsetMs: number): void {
    const tick = (): void => {
      if (this.#stopped) return;
      this.#tick();
      this.#timer = setTimeout(tick, INTERVAL_MS);
    };
    this.#timer = setTimeout(tick, offsetMs);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const s of [...this.#streams.values()]) this.#drop(s);
    for (const c of this.conns) c.close();
  }

  /** The watch saw our key deleted, or a keepalive answered TTL 0: the lease is gone. */
  lost(lease: string): void {
    if (this.lease === lease) {
      this.lease = null;
      this.key = null;
    }
  }

  #tick(): void {
    if (this.lease === null) {
      if (!this.#granting) void this.#grant();
      return;
    }
    const s = this.#streams.get(this.#current);
    if (s && !s.dead && s.pending.length > 0 && now() - s.pending[0]! >= INTERVAL_MS * 0.9) {
      // unanswered for a whole interval: fail over to the next member, as a client would
      this.#drop(s);
      this.#current = (this.#current + 1) % this.conns.length;
    }
    void this.#send(this.lease);
  }

  #drop(s: KaStream): void {
    if (!s.dead) {
      s.dead = true;
      unanswered += s.pending.length;
      s.pending = [];
      try {
        s.stream.end(); // first: a stream no longer writable reports no error to etcd3's pool (which would reset the connection)
        s.stream.cancel(); // and etcd ends its side (a renewal forwarded to a frozen leader waits up to its request timeout)
      } catch {
        // already closed
      }
    }
    if (this.#streams.get(s.member) === s) this.#streams.delete(s.member);
  }

  async #stream(m: number): Promise<KaStream> {
    const open = this.#streams.get(m);
    if (open && !open.dead) return open;
    const stream = await this.conns[m]!.leaseClient.leaseKeepAlive();
    const s: KaStream = { member: m, stream, pending: [], dead: false };
    this.#streams.set(m, s);
    stream.on('data', (res: ILeaseKeepAliveResponse) => {
      const sendAt = s.pending.shift();
      if (sendAt === undefined) return;
      const ttl = Number(res.TTL);
      acks.push({
        client: this.n,
        lease: String(res.ID),
        kind: 'keepalive',
        sendAt,
        ackAt: now(),
        ttl,
        member: memberName(this.members, res.header.member_id),
        raftTerm: Number(res.header.raft_term),
        revision: Number(res.header.revision),
      });
      if (ttl > 0) this.lastAckAt = Math.max(this.lastAckAt, now());
      else this.lost(String(res.ID));
    });
    const end = (): void => this.#drop(s);
    stream.on('error', end);
    stream.on('end', end);
    return s;
  }

  async #send(lease: string): Promise<void> {
    try {
      const s = await this.#stream(this.#current);
      s.pending.push(now());
      s.stream.write({ ID: lease });
    } catch {
      // the next tick tries again (on the next member if this one stays silent)
    }
  }

  async #grant(): Promise<void> {
    this.#granting = true;
    try {
      for (let i = 0; i < this.conns.length && !this.#stopped; i++) {
        const m = (this.#current + i) % this.conns.length;
        const conn = this.conns[m]!;
        try {
          const sendAt = now();
          const granted = await conn.leaseClient.leaseGrant({ TTL: TTL_SEC }, deadlineIn(1000));
          const lease = String(granted.ID);
          acks.push({
            client: this.n,
            lease,
            kind: 'grant',
            sendAt,
            ackAt: now(),
            ttl: Number(granted.TTL),
            member: memberName(this.members, granted.header.member_id),
            raftTerm: Number(granted.header.raft_term),
            revision: Number(granted.header.revision),
          });
          const key = `${PREFIX}c${this.n}/${BigInt(lease).toString(16)}`;
          const putAt = now();
          const put = await conn.kv.put({ key: Buffer.from(key), value: Buffer.from('x'), lease }, deadlineIn(1000));
          keys.set(key, {
            client: this.n,
            key,
            lease,
            createRevision: Number(put.header.revision),
            putAt,
            deletion: keys.get(key)?.deletion ?? null,
          });
          this.lease = lease;
          this.key = key;
          this.lastAckAt = now();
          this.#current = m;
          return;
        } catch {
          // try the next member
        }
      }
    } finally {
      this.#granting = false;
    }
  }
}

const memberIds = new Map<string, string>(); // decimal member ID → name

function memberName(_members: Member[], id: string | number | bigint): string {
  return memberIds.get(BigInt(id).toString()) ?? `?${BigInt(id).toString(16)}`;
}

/** A watch of the whole prefix on one member, from revision 1, re-created after the last revision seen. */
class Observer {
  #stream: IDuplexStream<IWatchRequest, IWatchResponse> | null = null;
  #next = 1;
  #stopped = false;

  readonly conn: Etcd3;

  constructor(
    readonly member: Member,
    readonly onDelete: (key: string, revision: number, lease: string | null, by: string) => void,
  ) {
    this.conn = connect(member);
  }

  async start(): Promise<void> {
    if (this.#stopped) return;
    try {
      const stream = await this.conn.watchClient.watch();
      this.#stream = stream;
      stream.on('data', (res: IWatchResponse) => {
        for (const ev of res.events) {
          const revision = Number(ev.kv.mod_revision);
          this.#next = Math.max(this.#next, revision + 1);
          if (ev.type === 'Delete') this.onDelete(ev.kv.key.toString(), revision, null, this.member.name);
        }
      });
      const restart = (): void => {
        if (this.#stream !== stream) return;
        this.#stream = null;
        setTimeout(() => void this.start(), 200);
      };
      stream.on('error', restart);
      stream.on('end', restart);
      const end = Buffer.from(PREFIX.slice(0, -1) + String.fromCharCode(PREFIX.charCodeAt(PREFIX.length - 1) + 1));
      stream.write({
        create_request: { key: Buffer.from(PREFIX), range_end: end, start_revision: this.#next },
      });
    } catch {
      setTimeout(() => void this.start(), 200);
    }
  }

  stop(): void {
    this.#stopped = true;
    try {
      this.#stream?.end();
      this.#stream?.cancel();
    } catch {
      // closed
    }
    this.conn.close();
  }
}

// ---------------------------------------------------------------- etcd's write-ahead log

/** Protobuf fields of `buf`: [field number, wire type, value] (varints as bigint). */
function* pbFields(buf: Buffer): Generator<[number, number, bigint | Buffer]> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[pos++];
      if (b === undefined) throw new Error('truncated varint');
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
    }
  };
  while (pos < buf.length) {
    const tag = varint();
    const field = Number(tag >> 3n);
    const wire = Number(tag & 7n);
    if (wire === 0) yield [field, wire, varint()];
    else if (wire === 1) {
      yield [field, wire, buf.readBigUInt64LE(pos)];
      pos += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      yield [field, wire, buf.subarray(pos, pos + len)];
      pos += len;
    } else if (wire === 5) {
      yield [field, wire, BigInt(buf.readUInt32LE(pos))];
      pos += 4;
    } else throw new Error(`protobuf wire type ${wire}`);
  }
}

interface WalRevoke {
  /** Whose WAL. */
  wal: string;
  term: number;
  index: number;
  lease: string;
  requestId: string;
  /** The member whose request ID generator made the ID: the one that proposed the revoke. */
  proposer: string;
  /** Truncated later from this WAL (an entry of an old term that never committed). */
  overwritten: boolean;
  /** The WALs that hold this entry (filled in when the members' lists are merged). */
  wals: string[];
}

/**
 * The LeaseRevoke entries in a member's WAL (`member/wal/*.wal`: records framed by a
 * little-endian length, walpb.Record{type=2 entry, data=raftpb.Entry{Term, Index, Data =
 * InternalRaftRequest{header.ID, lease_revoke.ID}}}), marking those a later entry truncated.
 */
function walRevokes(m: Member, proposerOf: (requestId: bigint) => string): WalRevoke[] {
  const dir = join(m.dataDir, 'member', 'wal');
  let files: string[];
  try {
    files = readdirSync(dir)
      .filter((f) => f.endsWith('.wal'))
      .sort();
  } catch {
    return [];
  }
  const log: { index: number; revoke: WalRevoke | null }[] = [];
  const out: WalRevoke[] = [];
  for (const file of files) {
    const buf = readFileSync(join(dir, file));
    let off = 0;
    while (off + 8 <= buf.length) {
      const lenField = buf.readBigUInt64LE(off);
      if (lenField === 0n) break;
      const size = Number(lenField & 0x00ffffffffffffffn);
      const pad = lenField >> 63n ? Number((lenField >> 56n) & 7n) : 0;
      off += 8;
      if (off + size > buf.length) break;
      const record = buf.subarray(off, off + size);
      off += size + pad;
      let type = 0n;
      let data: Buffer | null = null;
      for (const [f, , v] of pbFields(record)) {
        if (f === 1) type = v as bigint;
        else if (f === 3) data = v as Buffer;
      }
      if (type !== 2n || data === null) continue;
      let term = 0;
      let index = 0;
      let entryType = 0n;
      let payload: Buffer | null = null;
      for (const [f, , v] of pbFields(data)) {
        if (f === 1) entryType = v as bigint;
        else if (f === 2) term = Number(v);
        else if (f === 3) index = Number(v);
        else if (f === 4) payload = v as Buffer;
      }
      // a new entry at index i replaces every entry at i or later written before it
      while (log.length > 0 && log[log.length - 1]!.index >= index) {
        const gone = log.pop()!;
        if (gone.revoke) gone.revoke.overwritten = true;
      }
      let revoke: WalRevoke | null = null;
      if (entryType === 0n && payload !== null && payload.length > 0) {
        try {
          let requestId = 0n;
          let lease: bigint | null = null;
          for (const [f, wire, v] of pbFields(payload)) {
            if (f === 100 && wire === 2) {
              for (const [hf, , hv] of pbFields(v as Buffer)) if (hf === 1) requestId = hv as bigint;
            } else if (f === 9 && wire === 2) {
              lease = 0n;
              for (const [lf, , lv] of pbFields(v as Buffer)) if (lf === 1) lease = BigInt.asIntN(64, lv as bigint);
            }
          }
          if (lease !== null) {
            revoke = {
              wal: m.name,
              term,
              index,
              lease: lease.toString(),
              requestId: `0x${requestId.toString(16)}`,
              proposer: proposerOf(requestId),
              overwritten: false,
              wals: [m.name],
            };
            out.push(revoke);
          }
        } catch {
          // not an InternalRaftRequest (a v2 request): no revoke
        }
      }
      log.push({ index, revoke });
    }
  }
  return out;
}

// ---------------------------------------------------------------- etcd's logs

interface LogLine {
  at: number;
  member: string;
  level: string;
  msg: string;
  fields: Record<string, unknown>;
}

const RAFT_RE =
  /elected leader|became (leader|follower|candidate|pre-candidate)|lost leader|changed leader|higher term|starting a new election|found conflict|unstable entries/;
/**
 * The raft lines a short timeline keeps: who leads in which term, when the resumed leader steps down, and
 * entries of its old term replaced ("found conflict at index …": proposals it appended as leader, discarded).
 */
const RAFT_BRIEF_RE = /became leader|became follower|higher term|changed leader|found conflict/;
const LEASE_RE = /revok|lease|isn't a leader|leadership/i;

function readLogs(members: Member[]): LogLine[] {
  const lines: LogLine[] = [];
  for (const m of members) {
    let text = '';
    try {
      text = readFileSync(m.logPath, 'utf8');
    } catch {
      continue;
    }
    for (const raw of text.split('\n')) {
      if (!raw.startsWith('{')) continue;
      let obj: Record<string, unknown>;
      try {
        obj = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        continue;
      }
      const wall = parseTs(obj.ts);
      if (wall === null) continue;
      const { level, msg, ...fields } = obj;
      for (const k of ['ts', 'caller', 'logger']) delete fields[k];
      lines.push({ at: fromWall(wall), member: m.name, level: String(level), msg: String(msg), fields });
    }
  }
  return lines.sort((a, b) => a.at - b.at);
}

/** A log line worth showing: raft leadership, anything about leases or leadership checks, a stalled leader. */
function interesting(l: LogLine, brief = false): boolean {
  if (RAFT_RE.test(l.msg)) return !brief || RAFT_BRIEF_RE.test(l.msg);
  if (/heartbeat on time/.test(l.msg)) return !brief;
  const text = `${l.msg} ${JSON.stringify(l.fields)}`;
  if (/took too long/.test(l.msg)) return /lease_revoke/.test(text);
  return LEASE_RE.test(text);
}

/** The raft term led at time `t`, from the members' "elected leader … at term T" lines. */
function termAt(logs: LogLine[], t: number): number {
  let term = 0;
  for (const l of logs) {
    if (l.at > t) break;
    const m = /elected leader \S+ at term (\d+)/.exec(l.msg);
    if (m) term = Math.max(term, Number(m[1]));
  }
  return term;
}

// ---------------------------------------------------------------- analysis

interface Deletion {
  key: string;
  client: number;
  lease: string;
  revision: number;
  at: number;
  seenBy: string;
  /** Send time of the last acknowledged keepalive (or grant) before the deletion, and the deadline from it. */
  lastAck: Ack | null;
  deadline: number | null;
  earlyMs: number;
  /** The same with the frozen member's acknowledgements left out (so that it does not rest on the member that revoked). */
  earlyWithoutFrozenMs: number;
  freeze: number | null;
  /** The raft term the frozen member led, and the term in which the revoke was committed. */
  frozenTerm: number | null;
  revokeTerm: number | null;
  /** The LeaseRevoke entries of this lease in the WALs. */
  revokes: WalRevoke[];
  /** The committed revoke's proposer, and whether it is the member frozen last. */
  proposer: string | null;
  proposerWasFrozen: boolean;
  ackedAfter: Ack[];
}

function analyse(freezes: Freeze[], revokes: WalRevoke[], logs: LogLine[]): Deletion[] {
  const out: Deletion[] = [];
  for (const k of keys.values()) {
    if (!k.deletion) continue;
    const at = k.deletion.at;
    const mine = acks.filter((a) => a.lease === k.lease && a.ttl > 0);
    const before = mine.filter((a) => a.ackAt <= at);
    const lastAck = before.reduce<Ack | null>((best, a) => (best === null || a.sendAt > best.sendAt ? a : best), null);
    const deadlineOf = (a: Ack): number => a.sendAt + a.ttl * 1000 * (1 - DRIFT) - MARGIN_MS;
    const deadline = lastAck ? deadlineOf(lastAck) : null;
    const freeze = freezes.filter((f) => f.stopAt <= at).at(-1) ?? null;
    const others = before.filter((a) => a.member !== freeze?.member);
    const othersDeadline = others.length > 0 ? Math.max(...others.map(deadlineOf)) : null;
    const leaseRevokes = revokes.filter((r) => r.lease === k.lease);
    const committed = leaseRevokes.find((r) => !r.overwritten) ?? null;
    out.push({
      key: k.key,
      client: k.client,
      lease: k.lease,
      revision: k.deletion.revision,
      at,
      seenBy: k.deletion.by,
      lastAck,
      deadline,
      earlyMs: deadline === null ? 0 : Math.max(0, deadline - at),
      earlyWithoutFrozenMs: othersDeadline === null ? 0 : Math.max(0, othersDeadline - at),
      freeze: freeze?.n ?? null,
      frozenTerm: freeze ? termAt(logs, freeze.stopAt) : null,
      revokeTerm: committed?.term ?? null,
      revokes: leaseRevokes,
      proposer: committed?.proposer ?? null,
      proposerWasFrozen: committed !== null && freeze !== null && committed.proposer === freeze.member,
      ackedAfter: mine.filter((a) => a.ackAt > at),
    });
  }
  return out.sort((a, b) => a.at - b.at);
}

function dedupRevokes(revokes: WalRevoke[]): WalRevoke[] {
  // the same entry appears in every member's WAL: one per (term, index); an overwritten one per WAL
  const seen = new Map<string, WalRevoke>();
  for (const r of revokes) {
    const id = r.overwritten ? `${r.wal}/${r.term}/${r.index}` : `${r.term}/${r.index}`;
    const had = seen.get(id);
    if (had) had.wals.push(r.wal);
    else seen.set(id, { ...r, wals: [r.wal] });
  }
  return [...seen.values()];
}

function timeline(
  d: Deletion,
  freezes: Freeze[],
  logs: LogLine[],
  names: (s: string) => string,
  brief = false,
): string[] {
  const f = freezes.find((x) => x.n === d.freeze) ?? null;
  const from = (f ? f.stopAt : d.at - 3000) - 300;
  const to = d.at + 1500;
  const out: string[] = [];
  out.push(
    `key ${d.key} (client c${d.client}, lease ${BigInt(d.lease).toString(16)}) deleted at revision ${d.revision}, ` +
      `seen ${fmt(d.at)} (first by the watch on ${d.seenBy}): ${d.earlyMs.toFixed(0)} ms before the client's deadline ${d.deadline === null ? '-' : fmt(d.deadline)}`,
  );
  if (f) {
    out.push(
      `  freeze #${f.n}: ${f.member} (the Raft leader) SIGSTOP ${fmt(f.stopAt)}, SIGCONT ${fmt(f.contAt)} ` +
        `(${(f.contAt - f.stopAt).toFixed(0)} ms); deletion seen ${(d.at - f.contAt).toFixed(0)} ms after SIGCONT; ` +
        `lease_expired_total +${
          Object.entries(f.leaseExpired)
            .filter(([, v]) => v > 0)
            .map(([m, v]) => `${v} on ${m}`)
            .join(', ') || '0'
        }`,
    );
  }
  const acked = acks
    .filter((a) => a.lease === d.lease && a.ackAt <= d.at)
    .sort((a, b) => a.sendAt - b.sendAt)
    .slice(-4);
  for (const a of acked) {
    out.push(
      `  ${a.kind} sent ${fmt(a.sendAt)} acked ${fmt(a.ackAt)} TTL ${a.ttl} by ${a.member} raft_term ${a.raftTerm} revision ${a.revision}` +
        (a === d.lastAck ? '  <- deadline from this one' : ''),
    );
  }
  for (const a of d.ackedAfter.slice(0, 3)) {
    out.push(
      `  AFTER the deletion: ${a.kind} sent ${fmt(a.sendAt)} acked ${fmt(a.ackAt)} TTL ${a.ttl} by ${a.member} raft_term ${a.raftTerm} revision ${a.revision}`,
    );
  }
  for (const r of d.revokes) {
    out.push(
      `  WAL (${r.wals.join(', ')}): LeaseRevoke of this lease at index ${r.index}, term ${r.term}, request ID ${r.requestId}` +
        ` => proposed by ${r.proposer}${r.overwritten ? ' (overwritten: never committed)' : ''}`,
    );
  }
  for (const l of logs) {
    const failedRevoke = l.msg === 'failed to revoke lease';
    // a failed revoke of this lease is shown from any time up to its request timeout (7 s) after the deletion
    if (failedRevoke ? l.at > d.at + 8000 : l.at < from || l.at > to) continue;
    if (l.msg === 'applyEntryNormal') {
      // --log-level=debug: the apply of this lease's revoke, on each member
      if (!String(l.fields.raftReq).includes(`lease_revoke:<ID:${d.lease} >`)) continue;
    } else if (/skip checking leadership/.test(l.msg)) {
      // --log-level=debug: ensureLeadership() returned without checking; only the resumed member's matter
      if (l.member !== f?.member || l.at < (f?.contAt ?? 0) - 50) continue;
    } else if (failedRevoke) {
      // a revoke proposed and lost (after etcd's request timeout), maybe in an earlier freeze: only this lease's
      if (String(l.fields['lease-id']) !== BigInt(d.lease).toString(16).padStart(16, '0')) continue;
    } else if (l.level === 'debug' || !interesting(l, brief)) continue;
    const fields = Object.entries(l.fields)
      .filter(([k]) => !['local-member-id', 'cluster-id', 'heartbeat-interval', 'expected-duration'].includes(k))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    out.push(
      `  ${fmt(l.at)} ${l.member} ${l.level.toUpperCase()} ${names(l.msg)}${fields ? `  {${names(fields)}}` : ''}`,
    );
  }
  return out;
}

// ---------------------------------------------------------------- main

function fail(message: string): never {
  process.stderr.write(`early-revoke: ${message}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      etcd: { type: 'string', default: process.env.LOCKED_ETCD ?? '3.4' },
      freezes: { type: 'string', default: '20' },
      seed: { type: 'string' },
      clients: { type: 'string', default: '4' },
      out: { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
    },
  });
  const build = values.etcd as Build;
  if (!BUILDS.includes(build)) fail(`--etcd must be one of ${BUILDS.join(', ')}, got ${values.etcd}`);
  const freezeCount = Number(values.freezes);
  const clientCount = Number(values.clients);
  const seed = values.seed === undefined ? Math.floor(Math.random() * 1e9) : Number(values.seed);
  if (!Number.isInteger(freezeCount) || freezeCount < 1) fail(`--freezes must be a positive integer`);
  if (!Number.isInteger(clientCount) || clientCount < 1) fail(`--clients must be a positive integer`);
  if (!Number.isInteger(seed)) fail(`--seed must be an integer`);
  const rng = new Rng(seed);
  const out = values.out ?? `/tmp/locked-early-revoke-${build}-${seed}.json`;
  const logDir = out.replace(/\.json$/, '') + '-logs';
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });

  const { etcd, version } = etcdBinary(build);
  const dataRoot = mkdtempSync(join(tmpdir(), 'locked-er-data-'));
  const members: Member[] = [];
  // the OS may hand out a port it just freed again: nine distinct ports
  const ports = new Set<number>();
  while (ports.size < 9) ports.add(await freePort());
  const [...port] = ports;
  for (let i = 0; i < 3; i++) {
    members.push({
      name: `m${i}`,
      clientPort: port[3 * i]!,
      peerPort: port[3 * i + 1]!,
      metricsPort: port[3 * i + 2]!,
      dataDir: join(dataRoot, `m${i}`),
      logPath: join(logDir, `m${i}.log`),
      process: null,
      paused: false,
      idHex: '',
    });
  }
  const stopMembers = async (): Promise<void> => {
    for (const m of members) {
      const child = m.process;
      if (!child?.pid || child.exitCode !== null || child.signalCode !== null) continue;
      const closed = new Promise((resolve) => child.once('close', resolve));
      if (m.paused) process.kill(child.pid, 'SIGCONT');
      process.kill(child.pid, 'SIGKILL');
      await closed;
      m.paused = false;
    }
  };
  const onSignal = (): void => {
    void stopMembers().finally(() => {
      rmSync(dataRoot, { recursive: true, force: true });
      process.exit(130);
    });
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const conns: Etcd3[] = [];
  const holders: Holder[] = [];
  const observers: Observer[] = [];
  const freezes: Freeze[] = [];
  let ran = false;
  try {
    const token = `er-${process.pid}-${Date.now()}`; // no 'revoke' in it: log lines are searched for that word
    for (const m of members) spawnMember(etcd, members, m, token, values['log-level']);
    await waitAllHealthy(members, 30_000);
    for (const m of members) conns.push(connect(m));
    for (const [i, m] of members.entries()) {
      const status = await conns[i]!.maintenance.status();
      const id = BigInt(status.header.member_id);
      m.idHex = id.toString(16).padStart(16, '0');
      memberIds.set(id.toString(), m.name);
    }
    process.stdout.write(
      `early-revoke: etcd ${version} (${build}), 3 members (${members.map((m) => `${m.name}=${m.idHex}`).join(' ')}), ` +
        `${clientCount} clients, TTL ${TTL_SEC} s, keepalive every ${INTERVAL_MS.toFixed(0)} ms, ${freezeCount} freezes, seed ${seed}\n`,
    );

    for (const m of members) {
      const o = new Observer(m, (key, revision, _lease, by) => {
        const k = keys.get(key);
        const at = now();
        if (!k) return;
        if (!k.deletion) k.deletion = { revision, at, by, perMember: {} };
        k.deletion.perMember[by] ??= at;
        holders[k.client]?.lost(k.lease);
      });
      observers.push(o);
      await o.start();
    }
    for (let c = 0; c < clientCount; c++) {
      const h = new Holder(c, members);
      holders.push(h);
      h.start((c * INTERVAL_MS) / clientCount);
    }

    for (let n = 1; n <= freezeCount; n++) {
      // settle: every client holds a key with a recent ack, then a seeded pause so that freezes fall anywhere in a keepalive interval
      await waitFor(
        'every client holding a renewed lease',
        () => holders.every((h) => h.key !== null && now() - h.lastAckAt < INTERVAL_MS * 1.5),
        { timeoutMs: 15_000, intervalMs: 20 },
      ).catch(() => undefined);
      await sleep(rng.between(0, 1000));
      const leader = await leaderIndex(members);
      const m = members[leader]!;
      const before = await leaseExpiredCounts(members);
      const plannedMs = rng.between(1200, 3000);
      const stopAt = now();
      process.kill(m.process!.pid!, 'SIGSTOP');
      m.paused = true;
      await sleep(plannedMs);
      process.kill(m.process!.pid!, 'SIGCONT');
      m.paused = false;
      const contAt = now();
      let healthyAt: number | null = null;
      try {
        await waitAllHealthy(members, 30_000);
        healthyAt = now();
      } catch {
        // reported below
      }
      await sleep(1500); // the resumed member's revoke, if any, lands within this
      const after = await leaseExpiredCounts(members);
      const leaseExpired: Record<string, number> = {};
      members.forEach((x, i) => (leaseExpired[x.name] = (after[i] ?? 0) - (before[i] ?? 0)));
      const freeze: Freeze = { n, member: m.name, stopAt, contAt, healthyAt, plannedMs, leaseExpired };
      freezes.push(freeze);
      const deleted = [...keys.values()].filter((k) => k.deletion && k.deletion.at >= stopAt);
      process.stdout.write(
        `#${String(n).padStart(2)} froze ${m.name} (leader) ${(contAt - stopAt).toFixed(0).padStart(4)} ms, ` +
          `healthy ${healthyAt === null ? 'NOT within 30 s' : `after ${(healthyAt - contAt).toFixed(0)} ms`}; ` +
          `keys deleted: ${deleted.length}; lease_expired_total +${
            Object.entries(leaseExpired)
              .filter(([, v]) => v > 0)
              .map(([x, v]) => `${v}@${x}`)
              .join(' ') || '0'
          }\n`,
      );
    }
    await sleep(INTERVAL_MS * 2);
    ran = true;
  } finally {
    for (const h of holders) h.stop();
    for (const o of observers) o.stop();
    for (const c of conns) c.close();
    await stopMembers();
    if (!ran) rmSync(dataRoot, { recursive: true, force: true }); // else after reading the WALs
  }

  // ---- evidence from etcd's own logs and WALs
  const proposerOf = (requestId: bigint): string => {
    const prefix = requestId >> 48n;
    const m = members.find((x) => (BigInt(`0x${x.idHex}`) & 0xffffn) === prefix);
    return m?.name ?? `?${prefix.toString(16)}`;
  };
  // member IDs by name; a raft request's header ID (debug logs) in hex with its proposer (its top 16 bits)
  const names = (s: string): string =>
    members
      .reduce((text, m) => text.replaceAll(m.idHex, m.name).replaceAll(m.idHex.replace(/^0+/, ''), m.name), s)
      .replace(
        /header:<ID:(\d+) >/g,
        (_all, id: string) => `header:<ID:0x${BigInt(id).toString(16)} = proposed by ${proposerOf(BigInt(id))}>`,
      );
  const revokes = dedupRevokes(members.flatMap((m) => walRevokes(m, proposerOf)));
  rmSync(dataRoot, { recursive: true, force: true });
  const logs = readLogs(members);
  const deletions = analyse(freezes, revokes, logs);
  const earlyWithoutFrozen = deletions.filter((d) => d.earlyWithoutFrozenMs > 0);
  const early = deletions.filter((d) => d.earlyMs > 0);
  const ackedAfterDeletion = deletions.filter((d) => d.ackedAfter.length > 0);
  // acknowledgements (TTL > 0) from a member whose raft term was older than the term already elected when the keepalive was sent
  const staleTermAcks = acks.filter((a) => a.ttl > 0 && a.raftTerm < termAt(logs, a.sendAt));
  const byProposer: Record<string, number> = {};
  for (const d of early) byProposer[d.proposer ?? 'unknown'] = (byProposer[d.proposer ?? 'unknown'] ?? 0) + 1;
  const revokesByProposer: Record<string, number> = {};
  for (const r of revokes.filter((x) => !x.overwritten))
    revokesByProposer[r.proposer] = (revokesByProposer[r.proposer] ?? 0) + 1;
  const raftLines = logs
    .filter((l) => /elected leader/.test(l.msg))
    .map((l) => `${fmt(l.at)} ${l.member} ${names(l.msg)}`);

  const summary = {
    build,
    version,
    seed,
    freezes: freezes.length,
    clients: clientCount,
    leases: new Set([...keys.values()].map((k) => k.lease)).size,
    keepalivesAcked: acks.filter((a) => a.kind === 'keepalive').length,
    keepalivesUnanswered: unanswered,
    deletions: deletions.length,
    early: early.length,
    freezesWithEarly: new Set(early.map((d) => d.freeze)).size,
    maxEarlyMs: Math.round(Math.max(0, ...early.map((d) => d.earlyMs))),
    earlyWithoutFrozenMemberAcks: earlyWithoutFrozen.length,
    maxEarlyWithoutFrozenMemberAcksMs: Math.round(
      Math.max(0, ...earlyWithoutFrozen.map((d) => d.earlyWithoutFrozenMs)),
    ),
    earlyProposedByFrozenMember: early.filter((d) => d.proposerWasFrozen).length,
    earlyCommittedInALaterTerm: early.filter(
      (d) => d.revokeTerm !== null && d.frozenTerm !== null && d.revokeTerm > d.frozenTerm,
    ).length,
    earlyByProposer: byProposer,
    committedRevokesByProposer: revokesByProposer,
    overwrittenRevokes: revokes.filter((r) => r.overwritten).length,
    deletionsWithAckAfter: ackedAfterDeletion.length,
    staleTermAcks: staleTermAcks.length,
    staleTermAckMembers: [...new Set(staleTermAcks.map((a) => a.member))],
    acksAfterDeletion: ackedAfterDeletion.reduce((s, d) => s + d.ackedAfter.length, 0),
    revokeFailures: logs
      .filter((l) => l.msg === 'failed to revoke lease')
      .reduce<Record<string, number>>((acc, l) => {
        const key = `${l.member}: ${String(l.fields.error)}`;
        acc[key] = (acc[key] ?? 0) + 1;
        return acc;
      }, {}),
    logLines: Object.fromEntries(
      [
        'failed to revoke lease',
        "Ignore the lease revoking request because current member isn't a leader",
        "Current member isn't a leader",
        "Failed to check current member's leadership",
        'leader failed to send out heartbeat on time',
        'found conflict at index',
      ].map((msg) => [msg, logs.filter((l) => l.msg.includes(msg)).length]),
    ),
  };
  const cmd =
    `npx tsx test/chaos/early-revoke.ts --etcd ${build} --freezes ${freezeCount} --seed ${seed} --clients ${clientCount}` +
    `${values['log-level'] === 'info' ? '' : ` --log-level ${values['log-level']}`}${values.out === undefined ? '' : ` --out ${out}`}`;
  const timelines = early.map((d) => timeline(d, freezes, logs, names));
  const firstBrief = early.slice(0, 1).map((d) => timeline(d, freezes, logs, names, true));

  process.stdout.write(
    `\n${summary.freezes} freezes, ${summary.deletions} key deletions, ${summary.early} early ` +
      `(in ${summary.freezesWithEarly} freezes; max ${summary.maxEarlyMs} ms before the client's deadline; ` +
      `${summary.earlyWithoutFrozenMemberAcks} early even without the frozen member's acks, max ${summary.maxEarlyWithoutFrozenMemberAcksMs} ms); ` +
      `early revokes proposed by: ${
        Object.entries(byProposer)
          .map(([m, v]) => `${m} ${v}`)
          .join(', ') || '-'
      } (${summary.earlyProposedByFrozenMember} by the member just resumed, ` +
      `${summary.earlyCommittedInALaterTerm} committed in a later raft term than it had led); ` +
      `${summary.deletionsWithAckAfter} leases acknowledged with TTL > 0 after their key's deletion; ` +
      `${summary.staleTermAcks} keepalives acknowledged in an old raft term; ` +
      `etcd logged ${
        Object.entries(summary.logLines)
          .filter(([, v]) => v > 0)
          .map(([k, v]) => `"${k}" ×${v}`)
          .join(', ') || 'no lease warnings'
      }\n`,
  );
  for (const t of firstBrief) process.stdout.write(`\nthe first early deletion:\n${t.join('\n')}\n`);

  const md = [
    `# etcd ${version}: early lease revocations under Raft-leader freezes`,
    '',
    `\`${cmd}\` — ${new Date(wallAtT0).toISOString()}. Times are seconds after the run started (monotonic clock of the script; etcd's log stamps mapped onto it).`,
    '',
    '```json',
    JSON.stringify(summary, null, 2),
    '```',
    '',
    '## Freezes',
    '',
    'Per freeze: the frozen member and the raft term it led; the keys deleted after it (early: before the',
    'client\'s deadline); the frozen member\'s "failed to revoke lease" lines of revokes proposed within 2 s of',
    'SIGCONT (logged after etcd\'s request timeout, 7 s here) and its raft "found conflict" lines within 2 s of it',
    "(entries it had appended as leader in its old term, replaced by the new leader's); the increase of",
    'etcd_debugging_server_lease_expired_total per member.',
    '',
    '| # | frozen member (term) | frozen ms | healthy after ms | keys deleted | early | failed revokes | old-term entries replaced | lease_expired_total + |',
    '|---|---|---|---|---|---|---|---|---|',
    ...freezes.map((f) => {
      const ds = deletions.filter((d) => d.freeze === f.n);
      // a line of the frozen member that `delayMs` before it was after this SIGCONT and before the next one
      const after = (re: RegExp, delayMs: number): number =>
        logs.filter(
          (l) =>
            l.member === f.member &&
            re.test(l.msg) &&
            freezes.filter((x) => x.contAt - 50 <= l.at - delayMs).at(-1) === f &&
            l.at - delayMs <= f.contAt + 2000,
        ).length;
      const expired = Object.entries(f.leaseExpired)
        .filter(([, v]) => v > 0)
        .map(([m, v]) => `${m}: ${v}`)
        .join(', ');
      return (
        `| ${f.n} | ${f.member} (${termAt(logs, f.stopAt)}) | ${(f.contAt - f.stopAt).toFixed(0)} | ` +
        `${f.healthyAt === null ? '-' : (f.healthyAt - f.contAt).toFixed(0)} | ${ds.length} | ` +
        `${ds.filter((d) => d.earlyMs > 0).length} | ${after(/failed to revoke lease/, REQUEST_TIMEOUT_MS - 200)} | ${after(/found conflict/, 0)} | ${expired} |`
      );
    }),
    '',
    '## Raft leaders elected',
    '',
    ...raftLines.map((l) => `- ${l}`),
    '',
    '## Early deletions',
    '',
    ...timelines.flatMap((t) => ['```', ...t, '```', '']),
    '## Keys deleted and then their lease acknowledged with TTL > 0',
    '',
    ...ackedAfterDeletion.flatMap((d) => ['```', ...timeline(d, freezes, logs, names, true), '```', '']),
  ].join('\n');
  writeFileSync(
    out,
    JSON.stringify(
      {
        command: cmd,
        summary,
        members: members.map((m) => ({ name: m.name, id: m.idHex })),
        freezes,
        deletions,
        revokes,
        acks,
      },
      (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
      2,
    ),
  );
  writeFileSync(out.replace(/\.json$/, '') + '.md', md);
  process.stdout.write(`\nreport: ${out} and ${out.replace(/\.json$/, '')}.md; etcd logs in ${logDir}/\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`early-revoke: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
