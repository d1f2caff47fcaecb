import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A cuttable TCP proxy on 127.0.0.1, for injecting network cuts between one
 * client and etcd. `cut()` is a blackhole, not a refusal: open connections stop
 * carrying bytes in both directions (nothing is lost, it waits in the buffers)
 * and new connections are accepted but never forwarded, so the client sees
 * silence, as in a partition. `heal()` lets the held bytes of open connections
 * flow again (late replies arrive late, as after a real partition) and drops
 * the connections made during the cut.
 */
interface Pair {
  readonly client: Socket;
  readonly upstream: Socket | null;
  readonly held: Buffer[][];
}

export class TcpProxy {
  readonly port: number;
  readonly #server: Server;
  readonly #target: { host: string; port: number };
  readonly #pairs = new Set<Pair>();
  #cut = false;

  private constructor(server: Server, port: number, target: { host: string; port: number }) {
    this.#server = server;
    this.port = port;
    this.#target = target;
    server.on('connection', (socket) => this.#accept(socket));
  }

  /** A proxy to `target` ("host:port") on a free loopback port. */
  static async start(target: string): Promise<TcpProxy> {
    const [host = '127.0.0.1', portText = ''] = target.replace(/^https?:\/\//, '').split(':');
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return new TcpProxy(server, port, { host, port: Number(portText) });
  }

  get endpoint(): string {
    return `127.0.0.1:${this.port}`;
  }

  get isCut(): boolean {
    return this.#cut;
  }

  cut(): void {
    if (this.#cut) return;
    this.#cut = true;
    for (const pair of this.#pairs) {
      pair.client.pause();
      pair.upstream?.pause();
    }
  }

  heal(): void {
    if (!this.#cut) return;
    this.#cut = false;
    for (const pair of [...this.#pairs]) {
      if (!pair.upstream) {
        this.#drop(pair);
        continue;
      }
      const [toUpstream = [], toClient = []] = pair.held;
      for (const chunk of toUpstream.splice(0)) pair.upstream.write(chunk);
      for (const chunk of toClient.splice(0)) pair.client.write(chunk);
      pair.client.resume();
      pair.upstream.resume();
    }
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    for (const pair of [...this.#pairs]) this.#drop(pair);
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    client.on('error', () => undefined);
    if (this.#cut) {
      const pair: Pair = { client, upstream: null, held: [[], []] };
      this.#pairs.add(pair);
      client.pause();
      client.on('close', () => this.#pairs.delete(pair));
      return;
    }
    const upstream = connect(this.#target.port, this.#target.host);
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    const pair: Pair = { client, upstream, held: [[], []] };
    this.#pairs.add(pair);
    this.#forward(client, upstream, pair.held[0] ?? []);
    this.#forward(upstream, client, pair.held[1] ?? []);
    upstream.on('error', () => this.#drop(pair));
    client.on('close', () => this.#drop(pair));
    upstream.on('close', () => this.#drop(pair));
  }

  /** Copies `from` to `to` with backpressure; while cut, what still arrives is held for heal(). */
  #forward(from: Socket, to: Socket, held: Buffer[]): void {
    from.on('data', (chunk: Buffer) => {
      if (this.#cut) {
        held.push(chunk);
        from.pause();
        return;
      }
      if (!to.write(chunk)) from.pause();
    });
    to.on('drain', () => {
      if (!this.#cut) from.resume();
    });
  }

  #drop(pair: Pair): void {
    if (!this.#pairs.delete(pair)) return;
    pair.client.destroy();
    pair.upstream?.destroy();
  }
}
