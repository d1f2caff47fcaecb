import * as net from 'node:net';

/**
 * TCP payload bytes this process exchanged with etcd, both ways, counted on
 * every socket it connects (HTTP/1 for etcd v2, HTTP/2 for gRPC). The IPC
 * channel to the benchmark is not a connected socket and is not counted.
 */
const sockets = new Set<net.Socket>();
let closedBytes = 0;

export function countSocketBytes(): void {
  const proto = net.Socket.prototype as unknown as { connect: (this: net.Socket, ...args: unknown[]) => net.Socket };
  const original = proto.connect;
  proto.connect = function (this: net.Socket, ...args: unknown[]): net.Socket {
    if (!sockets.has(this)) {
      sockets.add(this);
      this.once('close', () => {
        closedBytes += this.bytesRead + this.bytesWritten;
        sockets.delete(this);
      });
    }
    return original.apply(this, args);
  };
}

export function socketBytes(): number {
  let open = 0;
  for (const s of sockets) open += s.bytesRead + s.bytesWritten;
  return closedBytes + open;
}
