import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A cuttable TCP proxy on loopback, in front of one etcd member: one per
 * client↔member link, so a fault can hit one client's view of one member
 * without touching anybody else. The chaos harness, `locked demo`, the CLI's
 * integration tests and the idle benchmark (its byte count) use it.
 *
 * Directions: `up` is client → etcd (requests, keepalives), `down` is
 * etcd → client (replies, watch events). Every fault has its inverse:
 *
 *   cut(dir)      / uncut(dir)   bytes are held, not delivered (a partition:
 *                                TCP keeps them and delivers them after the
 *                                heal, as retransmission would); connections
 *                                stay open, and new ones are accepted and held
 *                                too, so the client sees silence, not a refusal
 *   setLatency(ms)/ setLatency(0) every chunk is delivered `ms` later, in order
 *   refuse()      / accept()     every connection is reset (RST) and new ones
 *                                are reset at once (a dead or unreachable member)
 *
 * `heal()` undoes them all. Data is forwarded in order per direction through
 * one queue, so latency and holds compose: a chunk is due at arrival + latency
 * and leaves when it is due and its direction is not held.
 */
export type Direction = 'up' | 'down';

interface Chunk {
  readonly data: Buffer;
  readonly dueMs: number;
}

class Pipe {
  readonly #queue: Chunk[] = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(
    readonly sink: Socket,
    readonly isHeld: () => boolean,
  ) {}

  push(data: Buffer, latencyMs: number): void {
    const now = performance.now();
    const last = this.#queue[this.#queue.length - 1];
    this.#queue.push({ data, dueMs: Math.max(now + latencyMs, last?.dueMs ?? 0) });
    this.pump();
  }

  /** Delivers every due chunk unless held; re-arms a timer for the next one. */
  pump(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = null;
    }
    if (this.isHeld() || this.sink.destroyed) return;
    const now = performance.now();
    while (this.#queue.length > 0) {
      const head = this.#queue[0]!;
      if (head.dueMs > now) {
        this.#timer = setTimeout(() => this.pump(), head.dueMs - now);
        return;
      }
      this.#queue.shift();
      this.sink.write(head.data);
    }
  }

  /** Bytes received and not yet delivered (held or delayed). */
  get queuedBytes(): number {
    let bytes = 0;
    for (const chunk of this.#queue) bytes += chunk.data.length;
    return bytes;
  }

  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#queue.length = 0;
  }
}

interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  readonly up: Pipe;
  readonly down: Pipe;
}

export class TcpProxy {
  readonly port: number;
  readonly #server: Server;
  readonly #target: { readonly host: string; readonly port: number };
  readonly #links = new Set<Link>();
  readonly #held: Record<Direction, boolean> = { up: false, down: false };
  #latencyMs = 0;
  #refusing = false;
  #closed = false;
  /** Connections accepted (and not refused) over the proxy's life. */
  connections = 0;
  /** Payload bytes received from either side over the proxy's life (for clients we cannot instrument). */
  bytes = 0;

  private constructor(server: Server, port: number, target: { host: string; port: number }) {
    this.#server = server;
    this.port = port;
    this.#target = target;
    server.on('connection', (socket) => this.#onConnection(socket));
  }

  /**
   * Listens on a free port of 127.0.0.1 and forwards to `target`: a port of
   * 127.0.0.1, or `host:port` (an `http://` or `https://` prefix is ignored).
   */
  static async start(target: number | string): Promise<TcpProxy> {
    const [host = '127.0.0.1', portText = ''] =
      typeof target === 'number' ? ['127.0.0.1', String(target)] : target.replace(/^https?:\/\//, '').split(':');
    const targetPort = Number(portText);
    if (!(Number.isInteger(targetPort) && targetPort > 0)) throw new RangeError(`no port in target ${target}`);
    return new Promise((resolve, reject) => {
      const server = createServer({ noDelay: true });
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        const port = typeof address === 'object' && address ? address.port : 0;
        resolve(new TcpProxy(server, port, { host, port: targetPort }));
      });
    });
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Either direction held. */
  get isCut(): boolean {
    return this.#held.up || this.#held.down;
  }

  get state(): {
    held: Record<Direction, boolean>;
    latencyMs: number;
    refusing: boolean;
    open: number;
    /** Bytes the proxy holds (or delays) per direction, over its open links. */
    queued: Record<Direction, number>;
  } {
    const queued = { up: 0, down: 0 };
    for (const link of this.#links) {
      queued.up += link.up.queuedBytes;
      queued.down += link.down.queuedBytes;
    }
    return {
      held: { ...this.#held },
      latencyMs: this.#latencyMs,
      refusing: this.#refusing,
      open: this.#links.size,
      queued,
    };
  }

  cut(direction: Direction | 'both' = 'both'): void {
    for (const d of directions(direction)) this.#held[d] = true;
  }

  uncut(direction: Direction | 'both' = 'both'): void {
    for (const d of directions(direction)) this.#held[d] = false;
    for (const link of this.#links) {
      link.up.pump();
      link.down.pump();
    }
  }

  setLatency(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`latency must be ≥ 0 ms, got ${ms}`);
    this.#latencyMs = ms;
  }

  /** Resets every open connection and every new one until `accept()`. */
  refuse(): void {
    this.#refusing = true;
    for (const link of [...this.#links]) this.#drop(link, true);
  }

  accept(): void {
    this.#refusing = false;
  }

  /** Back to a clean link: no hold, no latency, accepting. */
  heal(): void {
    this.accept();
    this.setLatency(0);
    this.uncut('both');
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const link of [...this.#links]) this.#drop(link, false);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #onConnection(client: Socket): void {
    client.on('error', () => undefined);
    if (this.#refusing || this.#closed) {
      client.resetAndDestroy();
      return;
    }
    this.connections++;
    client.setNoDelay(true);
    const upstream = connect({ host: this.#target.host, port: this.#target.port, noDelay: true });
    upstream.on('error', () => undefined);
    const link: Link = {
      client,
      upstream,
      up: new Pipe(upstream, () => this.#held.up),
      down: new Pipe(client, () => this.#held.down),
    };
    this.#links.add(link);
    client.on('data', (data: Buffer) => {
      this.bytes += data.length;
      link.up.push(data, this.#latencyMs);
    });
    upstream.on('data', (data: Buffer) => {
      this.bytes += data.length;
      link.down.push(data, this.#latencyMs);
    });
    client.on('close', () => this.#drop(link, false));
    upstream.on('close', () => this.#drop(link, true));
  }

  /** Ends both sides of a link; `reset` sends RST to the client (what a dead member looks like). */
  #drop(link: Link, reset: boolean): void {
    if (!this.#links.delete(link)) return;
    link.up.stop();
    link.down.stop();
    if (reset && !link.client.destroyed) link.client.resetAndDestroy();
    else link.client.destroy();
    if (!link.upstream.destroyed) link.upstream.destroy();
  }
}

function directions(direction: Direction | 'both'): Direction[] {
  return direction === 'both' ? ['up', 'down'] : [direction];
}
