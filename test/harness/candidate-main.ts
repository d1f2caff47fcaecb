/**
 * One candidate, as its own process (so SIGSTOP pauses it for real). Spawned
 * by candidate-process.ts with its config in LOCKED_CHAOS_CANDIDATE; talks to
 * the harness over IPC (protocol.ts). It samples its leadership every
 * `sampleMs` on the shared monotonic clock and on every select/deselect, and
 * reports a sample when the answer changes (with the last sample of the run it
 * ends, so intervals end exactly) or at least every `heartbeatMs`.
 *
 * Transpiled alone (child-build.ts): only type imports from the harness; the
 * library (with the sampler it shares with `locked demo`) and etcd3 are
 * required from the absolute paths in the config.
 */
import { createRequire } from 'node:module';
import type * as Lib from '../../src/api.js';
import type * as Etcd3 from 'etcd3';
import type * as SamplerModule from '../../src/testing/sampler.js';
import type { CandidateConfig, CandidateMessage, FencePhase, HarnessMessage } from './protocol.js';

type LibModule = typeof Lib;
type Etcd3Module = typeof Etcd3;

const config = JSON.parse(process.env.LOCKED_CHAOS_CANDIDATE ?? 'null') as CandidateConfig | null;
if (!config || !process.send) {
  process.stderr.write('candidate-main: run me through the harness (IPC and LOCKED_CHAOS_CANDIDATE)\n');
  process.exit(2);
}
const cfg: CandidateConfig = config;
const load = createRequire(cfg.libPath);
// Next to the library in the copied dist/ (child-build.ts).
const { LeadershipSampler } = load('./testing/sampler.js') as typeof SamplerModule;

const now = (): number => Number(process.hrtime.bigint()) / 1e6;

function send(message: CandidateMessage, then?: () => void): void {
  if (process.connected) process.send?.(message, undefined, {}, () => then?.());
  else then?.();
}

function reportError(err: unknown): void {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'UNKNOWN';
  const message =
    typeof err === 'object' && err !== null && 'message' in err && typeof err.message === 'string'
      ? err.message
      : String(err);
  send({ t: 'error', code, message: message.slice(0, 300), at: now() });
}

/** Leadership as this process sees it right now, with the term's token. */
type Probe = () => { selected: boolean; token: string | null };
type ViewProbe = () => string | null;

/** Leadership samples through the shared sampler (src/testing/sampler.ts, from the copied dist), and the view. */
class Sampler {
  readonly #leadership: SamplerModule.LeadershipSampler;
  #view: string | null | undefined = undefined;

  constructor(
    probe: Probe,
    readonly viewProbe: ViewProbe,
  ) {
    this.#leadership = new LeadershipSampler(
      probe,
      (s) => send({ t: 'sample', selected: s.selected, token: s.token, at: s.at }),
      cfg.heartbeatMs,
      now,
    );
  }

  sample(): void {
    const { at } = this.#leadership.sample();
    const view = this.viewProbe();
    if (view !== this.#view) {
      this.#view = view;
      send({ t: 'view', leader: view, at });
    }
  }
}

/**
 * With `diagnose`: every second, a fresh read of the leader is compared with
 * the candidate's view; a disagreement that lasts more than 2 s is reported
 * once as STALE_VIEW with the watch hub's counters.
 */
function diagnoseStaleness(
  view: () => string | null,
  freshLeader: () => Promise<string | null>,
  client: Lib.LockedClient,
): void {
  if (!cfg.diagnose) return;
  let eventsDelivered = 0;
  client.transport.trace.add({
    received: (r) => {
      if (r.kind === 'watch') eventsDelivered += r.message.events.length;
    },
  });
  let since: number | null = null;
  let eventsAtStart = 0;
  let reported = false;
  setInterval(() => {
    freshLeader().then(
      (leader) => {
        const seen = view();
        if (seen === leader) {
          since = null;
          reported = false;
          return;
        }
        if (since === null) {
          since = now();
          eventsAtStart = eventsDelivered;
        }
        if (!reported && now() - since > 2000) {
          reported = true;
          reportError({
            code: 'STALE_VIEW',
            message: `view ${seen} but a fresh read says ${leader} for ${Math.round(now() - since)} ms; hub: ${client.hub.size} watches, ${eventsDelivered - eventsAtStart} events delivered meanwhile`,
          });
        }
      },
      () => undefined,
    );
  }, 1000).unref();
}

interface Running {
  readonly sampler: Sampler;
  stop(): Promise<void>;
}

/** The term this candidate leads right now (by its own check), or null. */
interface Leading {
  readonly key: string;
  readonly token: bigint;
  /** The library's term: its `txn` is the fenced write under test. */
  readonly term: Lib.Term;
}
type Transport = Lib.LockedClient['transport'];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The fencing check's writer (CandidateConfig.fence): started by `lead()` when
 * a term begins, it runs while `leading()` says so: every 20-50 ms, read the
 * counter, then increment it with one
 * transaction guarded by the term (`CreateRevision(leader key) == token`, the
 * compare of the library's `term.txn`) and by the counter's mod revision,
 * which also writes a log key for the value. `term.txn(success, what)` takes no
 * extra compare, so the transaction goes through the library's transport (the
 * connection and request deadline its terms use) with both compares. Each
 * attempt is reported before it is sent and again with its outcome; the
 * harness judges them against etcd's counter and log (fence.ts).
 */
function runFence(transport: Transport, leading: () => Leading | null): { lead(): void; stop(): Promise<void> } {
  const fence = cfg.fence;
  if (!fence) return { lead: () => undefined, stop: async () => undefined };
  const counterKey = Buffer.from(`${fence.prefix}n`);
  const logKey = (value: number): Buffer => Buffer.from(`${fence.prefix}log/${String(value).padStart(10, '0')}`);
  const same = (now: Leading | null, term: Leading): boolean =>
    now !== null && now.key === term.key && now.token === term.token;
  const report = (phase: FencePhase, term: Leading, value: number, seq: number, revision?: string): Promise<void> =>
    new Promise((resolve) =>
      send(
        { t: 'fence', phase, token: term.token.toString(), value, seq, ...(revision ? { revision } : {}), at: now() },
        resolve,
      ),
    );
  const fenceError = (err: unknown): void => {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : 'UNKNOWN';
    const message = err instanceof Error ? err.message : String(err);
    reportError({ code: `FENCE_${code}`, message });
  };
  let seq = 0;
  let stopped = false;

  const increment = async (term: Leading): Promise<void> => {
    const read = await transport.range({ key: counterKey }, 'fence: read the counter');
    const kv = read.kvs[0];
    const value = (kv ? Number(kv.value.toString()) : 0) + 1;
    if (stopped || !same(leading(), term)) return;
    const mySeq = ++seq;
    await report('try', term, value, mySeq); // written to the harness before the request leaves
    if (stopped || !same(leading(), term)) {
      await report('abandoned', term, value, mySeq);
      return;
    }
    const stamp = `${term.token} ${cfg.id} ${mySeq}`;
    let res: Awaited<ReturnType<Lib.Term['txn']>>;
    try {
      // The library's fenced write: guarded by the term (CreateRevision(leader key) == token) and by the
      // counter's mod revision; when only the latter fails, the failure ops tell a lost reply from a conflict.
      res = await term.term.txn(
        [
          { request_put: { key: counterKey, value: Buffer.from(String(value)) } },
          { request_put: { key: logKey(value), value: Buffer.from(stamp) } },
        ],
        'fence: increment',
        {
          compare: [
            kv
              ? { key: counterKey, target: 'Mod', result: 'Equal', mod_revision: kv.mod_revision }
              : { key: counterKey, target: 'Create', result: 'Equal', create_revision: '0' },
          ],
          // etcd3 may have retried a request that had applied on another member; the retry then fails its compare.
          failure: [{ request_range: { key: logKey(value) } }],
        },
      );
    } catch (err) {
      const refused = typeof err === 'object' && err !== null && 'code' in err && err.code === 'NOT_LEADER';
      if (refused) {
        // The guard failed: unless our own earlier attempt of this request had applied (see above), nothing did.
        const mine = (await transport.range({ key: logKey(value) }, 'fence: read the log').catch(() => null))?.kvs[0];
        if (mine && mine.value.toString() === stamp) await report('ok', term, value, mySeq, mine.mod_revision);
        else if (mine === undefined) await report('refused', term, value, mySeq);
        else await report('unknown', term, value, mySeq);
        return;
      }
      await report('unknown', term, value, mySeq);
      fenceError(err);
      return;
    }
    if (res.succeeded) {
      await report('ok', term, value, mySeq, res.header.revision);
      return;
    }
    const mine = res.responses[0]?.response_range?.kvs[0];
    if (mine && mine.value.toString() === stamp) await report('ok', term, value, mySeq, mine.mod_revision);
    else await report('conflict', term, value, mySeq);
  };

  // One loop at a time, only while leading: 50 idle followers polling every 20-50 ms would cost a core.
  let loop: Promise<void> | null = null;
  const run = async (): Promise<void> => {
    for (let term = leading(); term && !stopped; term = leading()) {
      try {
        await increment(term);
      } catch (err) {
        fenceError(err); // the read failed: nothing was attempted
      }
      await sleep(20 + Math.random() * 30);
    }
    loop = null;
  };
  return {
    lead: () => {
      if (!loop && !stopped) loop = run();
    },
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** The request deadline of the library's terms for this TTL (client.ts #transportFor). */
function fenceTransport(client: Lib.LockedClient): Transport {
  return client.transport.withTimeout(Math.min(5000, Math.max(1000, (cfg.ttlSec * 1000) / 3)));
}

/**
 * The endpoints as locked gets them: the list itself, or (experiment
 * `no-breaker`) an etcd3 client whose per-host policy passes every call
 * through, with locked's gRPC options. Returns what to close after the library.
 */
function connection(): { endpoints: string[] | Etcd3.Etcd3; close: () => void } {
  if (cfg.experiment !== 'no-breaker') return { endpoints: cfg.endpoints, close: () => undefined };
  const etcd3 = load(cfg.etcd3Path) as Etcd3Module;
  const passThrough = { execute: (fn: (context: unknown) => unknown) => fn({ signal: new AbortController().signal }) };
  const client = new etcd3.Etcd3({
    hosts: cfg.endpoints,
    grpcOptions: {
      'grpc.keepalive_time_ms': 6_000,
      'grpc.keepalive_timeout_ms': 3_000,
      'grpc.keepalive_permit_without_calls': 0,
    },
    faultHandling: { host: () => passThrough } as unknown as NonNullable<Etcd3.IOptions['faultHandling']>,
  });
  return { endpoints: client, close: () => client.close() };
}

function runNode(lib: LibModule): Running {
  const conn = connection();
  const locker = lib.locked(conn.endpoints, {});
  const node = locker({ path: cfg.path, id: cfg.id, value: cfg.id, ttl: cfg.ttlSec, ...(cfg.rank ?? {}) });
  const fence = runFence(fenceTransport(locker.client), () => {
    const term = node.term();
    return term && node.isSelected() ? { key: term.key, token: term.token, term } : null;
  });
  const sampler = new Sampler(
    () => {
      // Term first: isSelected() and token() each check the deadline, which may pass between two calls.
      const term = node.term();
      const selected = node.isSelected();
      const token = term?.token ?? (selected ? node.token() : null);
      return { selected, token: selected ? (token?.toString() ?? null) : null };
    },
    () => node.id(),
  );
  node.on('select', () => {
    sampler.sample();
    fence.lead();
  });
  node.on('deselect', () => sampler.sample());
  node.on('change', () => sampler.sample());
  node.on('error', reportError);
  node.start().catch(reportError);
  const reads = locker.client.election(cfg.path);
  diagnoseStaleness(
    () => node.id(),
    async () => {
      const leader = await reads.leader();
      return leader ? lib.decodeData(leader.value, '').id : null;
    },
    locker.client,
  );
  return {
    sampler,
    stop: async () => {
      await fence.stop();
      await node.stop();
      await locker.close();
      conn.close();
    },
  };
}

function runWithLeadership(lib: LibModule): Running {
  const conn = connection();
  const client = new lib.LockedClient({ endpoints: conn.endpoints, ttl: cfg.ttlSec });
  const election = client.election(cfg.path);
  const stopping = new AbortController();
  let active: { signal: AbortSignal; token: string; key: string; tokenValue: bigint; term: Lib.Term } | null = null;
  let view: string | null = null;
  const sampler = new Sampler(
    () => {
      const term = active;
      return term && !term.signal.aborted ? { selected: true, token: term.token } : { selected: false, token: null };
    },
    () => view,
  );
  const tracker = election.track((leader) => {
    view = leader?.value ?? null;
    sampler.sample();
  }, reportError);
  diagnoseStaleness(
    () => view,
    async () => (await election.leader())?.value ?? null,
    client,
  );
  const fence = runFence(fenceTransport(client), () => {
    const term = active;
    return term && !term.signal.aborted ? { key: term.key, token: term.tokenValue, term: term.term } : null;
  });
  const loop = (async (): Promise<void> => {
    while (!stopping.signal.aborted) {
      try {
        await election.withLeadership(
          cfg.id,
          async (signal, term) => {
            active = { signal, token: term.token.toString(), key: term.key, tokenValue: term.token, term };
            sampler.sample();
            fence.lead();
            // The work: runs until the signal says leadership can no longer be proven.
            await new Promise<void>((resolve) => {
              if (signal.aborted) resolve();
              else signal.addEventListener('abort', () => resolve(), { once: true });
            });
            sampler.sample();
          },
          { signal: stopping.signal, ...(cfg.rank ?? {}) },
        );
      } catch (err) {
        if (!stopping.signal.aborted) reportError(err);
      } finally {
        active = null;
        sampler.sample();
      }
      if (!stopping.signal.aborted) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    sampler,
    stop: async () => {
      await fence.stop();
      stopping.abort();
      await loop;
      tracker.close();
      await client.close();
      conn.close();
    },
  };
}

function runEtcd3(etcd3: Etcd3Module): Running {
  const client = new etcd3.Etcd3({ hosts: cfg.endpoints });
  const election = client.election(cfg.path, cfg.ttlSec);
  let leading: { campaign: Etcd3.Campaign; token: string } | null = null;
  let current: Etcd3.Campaign | null = null;
  let view: string | null = null;
  let stopped = false;
  const sampler = new Sampler(
    () => (leading ? { selected: true, token: leading.token } : { selected: false, token: null }),
    () => view,
  );
  const campaign = (): void => {
    if (stopped) return;
    const c = election.campaign(cfg.id);
    current = c;
    let failed = false;
    c.on('elected', () => {
      // etcd3 keeps the create revision of the campaign key in a private field; after resign() it holds
      // a symbol and the campaign may still emit 'elected' (its wait loop ends on resign): a careful user
      // ignores that, and so do we.
      const revision = (c as unknown as { keyRevision: unknown }).keyRevision;
      if (failed || (typeof revision !== 'string' && typeof revision !== 'number')) return;
      leading = { campaign: c, token: String(revision) };
      sampler.sample();
    });
    c.on('error', (err) => {
      reportError(err);
      if (leading?.campaign === c) leading = null;
      sampler.sample();
      // A campaign may emit several errors; it is replaced once (etcd3's README: on error, campaign anew).
      if (failed) return;
      failed = true;
      c.resign().catch(() => undefined);
      setTimeout(campaign, 200);
    });
  };
  const observe = (): void => {
    if (stopped) return;
    election.observe().then(
      (observer) => {
        view = observer.leader() ?? null;
        observer.on('change', (value) => {
          view = value ?? null;
          sampler.sample();
        });
        let replaced = false;
        observer.on('error', (err) => {
          reportError(err);
          if (replaced) return;
          replaced = true;
          observer.cancel().catch(() => undefined);
          setTimeout(observe, 200);
        });
      },
      (err: unknown) => {
        reportError(err);
        setTimeout(observe, 200);
      },
    );
  };
  campaign();
  observe();
  return {
    sampler,
    stop: async () => {
      stopped = true;
      leading = null;
      await current?.resign().catch(() => undefined);
      client.close();
    },
  };
}

function main(): void {
  const running =
    cfg.mode === 'etcd3'
      ? runEtcd3(load(cfg.etcd3Path) as Etcd3Module)
      : cfg.mode === 'with-leadership'
        ? runWithLeadership(load(cfg.libPath) as LibModule)
        : runNode(load(cfg.libPath) as LibModule);
  const timer = setInterval(() => running.sampler.sample(), cfg.sampleMs);
  process.on('unhandledRejection', (err) => reportError(err));
  process.on('disconnect', () => process.exit(1));
  process.on('message', (message: HarnessMessage) => {
    if (message.t !== 'stop') return;
    const forced = setTimeout(() => process.exit(3), 5000);
    running.stop().then(
      () => {
        clearInterval(timer);
        running.sampler.sample();
        clearTimeout(forced);
        send({ t: 'bye', at: now() }, () => process.exit(0)); // IPC is ordered: the samples before it are flushed
      },
      (err: unknown) => {
        reportError(err);
        process.exit(4);
      },
    );
  });
  running.sampler.sample();
  send({ t: 'ready', at: now() });
}

main();
