/**
 * The demo's terminal view. On a TTY it redraws one block in place (who
 * leads, the token, each candidate's state, the last failover, recent events);
 * otherwise it prints one plain line per event, fit for logs and files.
 */
export type DemoPhase = 'starting' | 'faults' | 'restoring' | 'stopping' | 'done';

export interface ViewSnapshot {
  readonly phase: DemoPhase;
  readonly elapsedMs: number;
  readonly remainingMs: number | null;
  readonly path: string;
  readonly ttlSec: number;
  readonly leader: { readonly id: string; readonly token: string } | null;
  readonly lastFailover: { readonly afterMs: number; readonly label: string; readonly atMs: number } | null;
  readonly candidates: readonly {
    readonly id: string;
    readonly pid: number | null;
    readonly state: string;
    readonly leading: boolean;
    readonly token: string | null;
  }[];
  readonly nextFault: { readonly label: string; readonly inMs: number } | null;
  readonly faults: number;
}

export type EventKind = 'note' | 'lead' | 'step-down' | 'fault' | 'heal' | 'failover';

interface Output {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

const RECENT = 8;

const PHASE: Record<DemoPhase, string> = {
  starting: 'waiting for the first leader',
  faults: 'injecting faults',
  restoring: 'faults over, every candidate restored',
  stopping: 'stopping the candidates',
  done: 'done',
};

export class LiveView {
  readonly #out: Output;
  readonly #tty: boolean;
  readonly #color: boolean;
  readonly #recent: string[] = [];
  #drawn = 0;
  #closed = false;

  constructor(out: Output, options: { tty?: boolean; color?: boolean } = {}) {
    this.#out = out;
    this.#tty = options.tty ?? out.isTTY === true;
    this.#color = options.color ?? (this.#tty && process.env.NO_COLOR === undefined);
    if (this.#tty) this.#out.write('\x1b[?25l'); // hide the cursor while redrawing
  }

  get isTTY(): boolean {
    return this.#tty;
  }

  /** A message about the demo itself. */
  note(text: string): void {
    if (this.#tty) this.#push(this.#paint(text, 'note'));
    else this.#out.write(`locked demo: ${text}\n`);
  }

  /** Something that happened at `tMs` after the candidates started. */
  event(tMs: number, text: string, kind: EventKind): void {
    const line = `${fmtT(tMs)}  ${text}`;
    if (this.#tty) this.#push(this.#paint(line, kind));
    else this.#out.write(`[${fmtT(tMs)}] ${text}\n`);
  }

  render(s: ViewSnapshot): void {
    if (!this.#tty || this.#closed) return;
    const width = Math.max(40, (this.#out.columns || 100) - 1);
    const faults =
      s.phase === 'faults'
        ? `faults for ${((s.remainingMs ?? 0) / 1000).toFixed(1)} s more · ${s.faults} injected · next: ${s.nextFault ? `${s.nextFault.label} in ${fmtS(s.nextFault.inMs)}` : '—'}`
        : `${PHASE[s.phase]} · ${s.faults} faults injected`;
    const leader = s.leader
      ? this.#paint(`${s.leader.id}  token ${s.leader.token}`, 'lead')
      : s.phase === 'done' || s.phase === 'stopping'
        ? 'none: the demo stops every candidate'
        : this.#paint('none right now (election in progress)', 'fault');
    const lines = [
      this.#paint(
        `locked demo · election ${s.path} · 3 etcd members · ${s.candidates.length} candidates · ttl ${s.ttlSec} s`,
        'title',
      ),
      `t = ${(s.elapsedMs / 1000).toFixed(1)} s · ${faults}`,
      `leader         ${leader}`,
      `last failover  ${s.lastFailover ? `${fmtS(s.lastFailover.afterMs)} after the ${s.lastFailover.label} (at ${fmtT(s.lastFailover.atMs).trim()})` : '—'}`,
      '',
      ...s.candidates.map((c) => {
        const pid = c.pid === null ? '     -' : String(c.pid).padStart(6);
        const state = c.leading ? this.#paint(`LEADER  token ${c.token ?? ''}`, 'lead') : c.state;
        return `  ${c.id.padEnd(4)} pid ${pid}   ${state}`;
      }),
      '',
      'recent events:',
      ...this.#recent.map((l) => `  ${l}`),
    ].map((l) => clip(l, width));
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}F\x1b[J` : '';
    this.#out.write(`${up}${lines.join('\n')}\n`);
    this.#drawn = lines.length;
  }

  /** Leaves the last frame on screen and the cursor visible. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#tty) this.#out.write('\x1b[?25h');
  }

  #push(line: string): void {
    this.#recent.push(line);
    if (this.#recent.length > RECENT) this.#recent.shift();
  }

  #paint(text: string, kind: EventKind | 'title'): string {
    if (!this.#color) return text;
    const code = { note: '2', lead: '1;32', 'step-down': '2', fault: '33', heal: '36', failover: '1;36', title: '1' }[
      kind
    ];
    return `\x1b[${code}m${text}\x1b[0m`;
  }
}

function fmtT(ms: number): string {
  return `${(ms / 1000).toFixed(2).padStart(6)} s`;
}

function fmtS(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** Cuts a line to `width` visible characters (ANSI colour codes do not count). */
function clip(line: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '\x1b') {
      const end = line.indexOf('m', i);
      if (end > 0) {
        out += line.slice(i, end + 1);
        i = end;
        continue;
      }
    }
    if (visible >= width) break;
    out += line[i];
    visible++;
  }
  return visible >= width ? `${out}\x1b[0m` : out;
}
