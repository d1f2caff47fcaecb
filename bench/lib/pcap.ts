import { readFileSync } from 'node:fs';

/**
 * A reader for what `tcpdump -w` writes on Linux loopback (classic pcap,
 * microsecond or nanosecond timestamps; link type Ethernet or raw IPv4): every
 * IPv4 TCP segment that carries payload, with the HTTP/2 frames that start in
 * its captured bytes. Enough to time gRPC requests and watch events on the
 * wire; no reassembly (a frame split across segments is seen where it starts).
 */
export interface Segment {
  /** Wall-clock ms (CLOCK_REALTIME) at capture. */
  readonly wallMs: number;
  readonly srcPort: number;
  readonly dstPort: number;
  readonly payloadBytes: number;
  readonly frames: Frame[];
}

export interface Frame {
  /** HTTP/2 frame type: 0 DATA, 1 HEADERS, 3 RST_STREAM, 6 PING, 8 WINDOW_UPDATE, … */
  readonly type: number;
  /** The frame's flags: on DATA and HEADERS, 0x1 is END_STREAM. */
  readonly flags: number;
  readonly streamId: number;
  readonly length: number;
}

const LINK_ETHERNET = 1;
const LINK_RAW = 101;
const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0');

export function readPcap(file: string): Segment[] {
  const data = readFileSync(file);
  if (data.length < 24) return [];
  const magic = data.readUInt32LE(0);
  const nanos = magic === 0xa1b23c4d;
  if (!nanos && magic !== 0xa1b2c3d4) throw new Error(`${file}: not a little-endian pcap file (magic ${magic})`);
  const link = data.readUInt32LE(20);
  if (link !== LINK_ETHERNET && link !== LINK_RAW) throw new Error(`${file}: link type ${link} not supported`);
  const out: Segment[] = [];
  for (let off = 24; off + 16 <= data.length;) {
    const sec = data.readUInt32LE(off);
    const frac = data.readUInt32LE(off + 4);
    const captured = data.readUInt32LE(off + 8);
    const packet = data.subarray(off + 16, off + 16 + captured);
    off += 16 + captured;
    const ip = link === LINK_ETHERNET ? packet.subarray(14) : packet;
    if (ip.length < 20 || ip[0]! >> 4 !== 4 || ip[9] !== 6) continue; // IPv4 TCP only
    const ipHeader = (ip[0]! & 15) * 4;
    const total = ip.readUInt16BE(2);
    const tcp = ip.subarray(ipHeader);
    if (tcp.length < 20) continue;
    const tcpHeader = (tcp[12]! >> 4) * 4;
    const payloadBytes = total - ipHeader - tcpHeader;
    if (payloadBytes <= 0) continue;
    out.push({
      wallMs: sec * 1000 + frac / (nanos ? 1e6 : 1e3),
      srcPort: tcp.readUInt16BE(0),
      dstPort: tcp.readUInt16BE(2),
      payloadBytes,
      frames: http2Frames(tcp.subarray(tcpHeader)),
    });
  }
  return out;
}

/** The HTTP/2 frames that start in `bytes` (captured payload); none if it is not HTTP/2 framing. */
function http2Frames(bytes: Buffer): Frame[] {
  const frames: Frame[] = [];
  let i = bytes.subarray(0, HTTP2_PREFACE.length).equals(HTTP2_PREFACE) ? 24 : 0;
  while (i + 9 <= bytes.length) {
    const length = bytes.readUIntBE(i, 3);
    const type = bytes[i + 3]!;
    if (type > 9) return []; // not HTTP/2 (etcd's peer traffic is HTTP/1.1)
    frames.push({ type, flags: bytes[i + 4]!, streamId: bytes.readUInt32BE(i + 5) & 0x7fffffff, length });
    i += 9 + length;
  }
  return frames;
}
