import { Etcd3 } from 'etcd3';
import { afterAll, describe, expect, it } from 'vitest';
import { serviceMethods, type ParkingPool } from '../../src/transport/parked-txn.js';
import { Rng } from '../harness/rng.js';
import { decodeWatchResponse } from '../../src/transport/watch-response.js';

// locked decodes watch responses itself (watch-response.ts); etcd3's codec (protobufjs under proto-loader)
// is the reference: every message below is encoded by it, and both decoders must give the same object —
// or both refuse the bytes. No etcd is needed: a client connects on its first call, and none is made.
const client = new Etcd3({ hosts: '127.0.0.1:1' });
afterAll(() => client.close());
const codec = (client as unknown as { pool: ParkingPool }).pool.withConnection('Watch', ({ client: grpc }) =>
  Promise.resolve(serviceMethods(grpc)['Watch']!),
);
const encode = async (res: object): Promise<Buffer> => (await codec).responseSerialize(res);
const reference = async (bytes: Buffer): Promise<unknown> => (await codec).responseDeserialize(bytes);

const INT64S = [
  '0',
  '1',
  '127',
  '128',
  '562949953421311',
  '562949953421312',
  '9007199254740993',
  '-1',
  '-9223372036854775808',
  '9223372036854775807',
];
const UINT64S = ['0', '1', '16383', '562949953421312', '14841639068965178418', '18446744073709551615'];

function randomMessage(random: () => number): Record<string, unknown> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const bytes = (): Buffer =>
    Buffer.from(Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256)));
  const maybe = <T>(make: () => T): T | undefined => (random() < 0.7 ? make() : undefined);
  const kv = (): Record<string, unknown> => ({
    key: maybe(bytes),
    create_revision: maybe(() => pick(INT64S)),
    mod_revision: maybe(() => pick(INT64S)),
    version: maybe(() => pick(INT64S)),
    value: maybe(bytes),
    lease: maybe(() => pick(INT64S)),
  });
  return {
    header: maybe(() => ({
      cluster_id: maybe(() => pick(UINT64S)),
      member_id: maybe(() => pick(UINT64S)),
      revision: maybe(() => pick(INT64S)),
      raft_term: maybe(() => pick(UINT64S)),
    })),
    watch_id: maybe(() => pick(INT64S)),
    created: maybe(() => random() < 0.5),
    canceled: maybe(() => random() < 0.5),
    compact_revision: maybe(() => pick(INT64S)),
    cancel_reason: maybe(() => pick(['', 'etcdserver: mvcc: required revision has been compacted', 'naïve ☃'])),
    fragment: maybe(() => random() < 0.5),
    events: Array.from({ length: Math.floor(random() * 4) }, () => ({
      type: pick(['Put', 'Delete']),
      kv: maybe(kv),
      prev_kv: maybe(kv),
    })),
  };
}

/** Where each top-level field of a well-formed message ends (and 0): the cuts that leave a whole message. */
function fieldEnds(bytes: Buffer): Set<number> {
  const ends = new Set([0]);
  let pos = 0;
  const varint = (): number => {
    let v = 0;
    for (let scale = 1; ; scale *= 128) {
      const b = bytes[pos++]!;
      v += (b & 0x7f) * scale;
      if (b < 0x80) return v;
    }
  };
  while (pos < bytes.length) {
    const type = varint() & 7;
    if (type === 0) varint();
    else if (type === 2) {
      const length = varint();
      pos += length;
    } else throw new Error(`etcd3 encoded wire type ${type}`);
    ends.add(pos);
  }
  return ends;
}

describe('decodeWatchResponse', () => {
  it("gives what etcd3's codec gives for 500 random responses (64-bit extremes, absent fields and sub-messages)", async () => {
    const rng = new Rng(20261130);
    const random = (): number => rng.next();
    for (let i = 0; i < 500; i++) {
      const bytes = await encode(randomMessage(random));
      expect(decodeWatchResponse(bytes), `case ${i}`).toEqual(await reference(bytes));
    }
  });

  it('decodes a handover as the heir sees it: the delete, then the record naming it, with their revisions', async () => {
    const key = Buffer.from('/e/694d9a6b3c1e2f10');
    const record = Buffer.from('/e.locked-term');
    const header = {
      cluster_id: '14841639068965178418',
      member_id: '10276657743932975437',
      revision: '123456',
      raft_term: '7',
    };
    const bytes = await encode({
      header,
      watch_id: '3',
      events: [
        { type: 'Delete', kv: { key, mod_revision: '123456' } },
        {
          type: 'Put',
          kv: { key: record, create_revision: '9', mod_revision: '123456', version: '4', value: Buffer.from('{}') },
        },
      ],
    });
    const res = decodeWatchResponse(bytes);
    expect(res.header).toEqual(header);
    expect(res.watch_id).toBe('3');
    expect(res.events.map((e) => [e.type, e.kv.key.toString(), e.kv.mod_revision, e.kv.create_revision])).toEqual([
      ['Delete', '/e/694d9a6b3c1e2f10', '123456', '0'],
      ['Put', '/e.locked-term', '123456', '9'],
    ]);
    expect(res.events[1]!.kv.value.toString()).toBe('{}');
    expect(res.events[0]!.prev_kv).toBeNull();
  });

  it('skips fields it does not know, of every wire type, at every level', async () => {
    const kv = { key: Buffer.from('k'), mod_revision: '5' };
    const base = await encode({ header: { revision: '5' }, watch_id: '1', events: [{ type: 'Delete', kv }] });
    // Field 99 of each wire type: varint, fixed64, length-delimited, fixed32 (tags 99<<3 | type).
    const unknown = Buffer.from([
      0x98, 0x06, 0x96, 0x01, 0x99, 0x06, 1, 2, 3, 4, 5, 6, 7, 8, 0x9a, 0x06, 2, 0xaa, 0xbb, 0x9d, 0x06, 1, 2, 3, 4,
    ]);
    const bytes = Buffer.concat([unknown, base, unknown]);
    expect(decodeWatchResponse(bytes)).toEqual(await reference(base));
    // Inside a sub-message: a header whose fields are followed by unknown ones.
    const header = Buffer.concat([Buffer.from([0x18, 0x05]), unknown]);
    const withHeader = Buffer.concat([Buffer.from([0x0a, header.length]), header]);
    expect(decodeWatchResponse(withHeader).header).toEqual({
      cluster_id: '0',
      member_id: '0',
      revision: '5',
      raft_term: '0',
    });
  });

  it('refuses a message cut anywhere but between two of its fields (as etcd3 does not always), and reads it alike there', async () => {
    const rng = new Rng(7);
    const random = (): number => rng.next();
    let lenient = 0;
    for (let i = 0; i < 20; i++) {
      const bytes = await encode(randomMessage(random));
      const between = fieldEnds(bytes);
      for (let n = 0; n < bytes.length; n++) {
        const cut = bytes.subarray(0, n);
        const theirs = await reference(cut).then(
          (v) => ({ v }),
          () => null,
        );
        if (!between.has(n)) {
          expect(() => decodeWatchResponse(cut), `case ${i}, ${n} bytes`).toThrow(/malformed protobuf message/);
          if (theirs) lenient++; // protobufjs bounds neither a varint nor a string's length by the message's end
        } else expect(decodeWatchResponse(cut), `case ${i}, ${n} bytes`).toEqual(theirs?.v);
      }
    }
    expect(lenient).toBeGreaterThan(0);
  });

  it('refuses a varint longer than ten bytes and a wire type protobuf 3 does not have', () => {
    expect(() => decodeWatchResponse(Buffer.from([0x10, ...Array<number>(10).fill(0xff), 0x01]))).toThrow(
      /longer than 10 bytes/,
    );
    expect(() => decodeWatchResponse(Buffer.from([0x0b]))).toThrow(/wire type 3/);
  });
});
