import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../src/testing/wait-for.js';
import { TcpProxy } from '../../src/testing/tcp-proxy.js';

/** The harness's own proof: each proxy fault does what it says, and its inverse undoes it. */
describe('TcpProxy', () => {
  let server: Server;
  let serverPort = 0;
  let serverSockets = new Set<Socket>();
  let proxy: TcpProxy;
  let received: string;

  beforeEach(async () => {
    received = '';
    serverSockets = new Set();
    const sockets = serverSockets;
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('data', (data) => {
        received += data.toString();
        socket.write(`echo:${data.toString()}`);
      });
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    serverPort = typeof address === 'object' && address ? address.port : 0;
    proxy = await TcpProxy.start(serverPort);
  });

  afterEach(async () => {
    await proxy.close();
    for (const s of serverSockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  async function client(): Promise<{ socket: Socket; got: () => string; closed: () => boolean }> {
    const socket = connect({ host: '127.0.0.1', port: proxy.port });
    let got = '';
    let closed = false;
    socket.on('data', (d) => (got += d.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    return { socket, got: () => got, closed: () => closed };
  }

  it('forwards both ways', async () => {
    const c = await client();
    c.socket.write('a');
    await waitFor('echo', () => c.got() === 'echo:a', { timeoutMs: 2000 });
    c.socket.destroy();
  });

  it('cut both ways holds bytes in order and delivers them after uncut', async () => {
    const c = await client();
    proxy.cut('both');
    c.socket.write('1');
    c.socket.write('2');
    // Both bytes have reached the proxy, which holds them: had the cut let one through, it would not be queued.
    await waitFor('both bytes held by the proxy', () => proxy.state.queued.up === 2, { timeoutMs: 2000 });
    expect(received).toBe('');
    proxy.uncut('both');
    await waitFor('held bytes delivered', () => c.got().replace(/echo:/g, '') === '12', { timeoutMs: 2000 });
    expect(received).toBe('12');
    c.socket.destroy();
  });

  it('cut down lets requests through and holds replies', async () => {
    const c = await client();
    proxy.cut('down');
    c.socket.write('x');
    await waitFor('request reaches the server', () => received === 'x', { timeoutMs: 2000 });
    // The reply ('echo:x', 6 bytes) has reached the proxy and is held there, not delivered.
    await waitFor('the reply held by the proxy', () => proxy.state.queued.down === 6, { timeoutMs: 2000 });
    expect(c.got()).toBe('');
    proxy.uncut('down');
    await waitFor('reply delivered', () => c.got() === 'echo:x', { timeoutMs: 2000 });
    c.socket.destroy();
  });

  it('cut up holds requests and lets the other way through', async () => {
    const c = await client();
    await waitFor('server side open', () => serverSockets.size === 1, { timeoutMs: 2000 });
    proxy.cut('up');
    c.socket.write('y');
    [...serverSockets][0]!.write('push');
    await waitFor('server push delivered', () => c.got() === 'push', { timeoutMs: 2000 });
    expect(received).toBe('');
    proxy.uncut('up');
    await waitFor('request delivered', () => received === 'y', { timeoutMs: 2000 });
    c.socket.destroy();
  });

  it('adds latency to each chunk and removes it', async () => {
    const c = await client();
    // 1 s each way: a round trip with the latency takes ≥ 2 s, one without it far less even on a loaded machine.
    proxy.setLatency(1000);
    const sent = performance.now();
    c.socket.write('l');
    await waitFor('slow echo', () => c.got() === 'echo:l', { timeoutMs: 5000, intervalMs: 5 });
    expect(performance.now() - sent).toBeGreaterThanOrEqual(1990);
    proxy.setLatency(0);
    const again = performance.now();
    c.socket.write('m');
    await waitFor('fast echo', () => c.got() === 'echo:lecho:m', { timeoutMs: 2000, intervalMs: 5 });
    expect(performance.now() - again).toBeLessThan(1990);
    c.socket.destroy();
  });

  it('refuse resets open connections and new ones; accept lets them in again', async () => {
    const c = await client();
    proxy.refuse();
    await waitFor('open connection reset', () => c.closed(), { timeoutMs: 2000 });
    const refused = connect({ host: '127.0.0.1', port: proxy.port });
    const error = await new Promise<string>((resolve) => {
      refused.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
      refused.on('close', () => resolve('closed'));
    });
    expect(['ECONNRESET', 'closed']).toContain(error);
    proxy.accept();
    const d = await client();
    d.socket.write('b');
    await waitFor('echo after accept', () => d.got() === 'echo:b', { timeoutMs: 2000 });
    d.socket.destroy();
  });
});
