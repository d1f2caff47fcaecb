import * as net from 'node:net';

/**
 * A TCP proxy on a free loopback port in front of one etcd member that counts
 * the payload bytes passing through it, both ways. Used for clients we cannot
 * instrument (etcdctl, a Go program).
 */
export class CountingProxy {
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  bytes = 0;

  private constructor(server: net.Server) {
    this.#server = server;
  }

  static async start(target: string): Promise<CountingProxy> {
    const [host, port] = target.split(':');
    let proxy: CountingProxy | null = null;
    const server = net.createServer((client) => {
      const upstream = net.connect(Number(port), host);
      const p = proxy!;
      for (const s of [client, upstream]) {
        p.#sockets.add(s);
        s.on('close', () => p.#sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.on('data', (chunk: Buffer) => (p.bytes += chunk.length));
      upstream.on('data', (chunk: Buffer) => (p.bytes += chunk.length));
      client.pipe(upstream);
      upstream.pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    proxy = new CountingProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get endpoint(): string {
    const address = this.#server.address() as net.AddressInfo;
    return `127.0.0.1:${address.port}`;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
