import { Etcd3 } from 'etcd3';
import type * as etcd from 'etcd3';
import { afterAll, describe, expect, it } from 'vitest';
import { serviceMethods, type ParkingPool } from '../../src/transport/parked-txn.js';
import { Rng } from '../harness/rng.js';
import { encodeTxnRequest } from '../../src/transport/txn-request.js';

// locked encodes the parked resignation's TxnRequest itself (txn-request.ts); etcd3's codec is the
// reference: what it decodes from our bytes must equal what it decodes from its own. No etcd is needed.
const client = new Etcd3({ hosts: '127.0.0.1:1' });
afterAll(() => client.close());
const codec = (client as unknown as { pool: ParkingPool }).pool.withConnection('KV', ({ client: grpc }) =>
  Promise.resolve(serviceMethods(grpc)['Txn']!),
);

const INT64S = [
  '0',
  '1',
  '300',
  '562949953421312',
  '9007199254740993',
  '-1',
  '-9223372036854775808',
  '9223372036854775807',
];

function randomTxn(random: () => number, depth = 0): Record<string, unknown> {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const some = <T>(make: () => T): T[] => Array.from({ length: Math.floor(random() * 3) }, make);
  const bytes = (): Buffer =>
    Buffer.from(Array.from({ length: Math.floor(random() * 20) }, () => Math.floor(random() * 256)));
  const maybe = <T>(make: () => T): T | undefined => (random() < 0.6 ? make() : undefined);
  const int = (): string | number | bigint => pick([pick(INT64S), Math.floor(random() * 1e6), BigInt(pick(INT64S))]);
  const compare = (): Record<string, unknown> => {
    const union = pick(['version', 'create_revision', 'mod_revision', 'value', 'lease']);
    return {
      key: bytes(),
      range_end: maybe(bytes),
      result: maybe(() => pick(['Equal', 'Greater', 'Less', 'NotEqual', 2])),
      target: maybe(() => pick(['Version', 'Create', 'Mod', 'Value', 'Lease'])),
      [union]: union === 'value' ? bytes() : int(),
    };
  };
  const op = (): Record<string, unknown> => {
    const kind = depth < 2 ? pick(['range', 'put', 'delete', 'txn']) : pick(['range', 'put', 'delete']);
    if (kind === 'put')
      return {
        request_put: {
          key: bytes(),
          value: maybe(bytes),
          lease: maybe(int),
          prev_kv: maybe(() => random() < 0.5),
          ignore_value: maybe(() => false),
          ignore_lease: maybe(() => true),
        },
      };
    if (kind === 'delete')
      return { request_delete_range: { key: bytes(), range_end: maybe(bytes), prev_kv: maybe(() => random() < 0.5) } };
    if (kind === 'txn') return { request_txn: randomTxn(random, depth + 1) };
    return {
      request_range: {
        key: bytes(),
        range_end: maybe(bytes),
        limit: maybe(int),
        revision: maybe(int),
        sort_order: maybe(() => pick(['None', 'Ascend', 'Descend'])),
        sort_target: maybe(() => pick(['Key', 'Version', 'Create', 'Mod', 'Value', 4])),
        serializable: maybe(() => random() < 0.5),
        keys_only: maybe(() => random() < 0.5),
        count_only: maybe(() => random() < 0.5),
        min_mod_revision: maybe(int),
        max_mod_revision: maybe(int),
        min_create_revision: maybe(int),
        max_create_revision: maybe(int),
      },
    };
  };
  return { compare: some(compare), success: some(op), failure: maybe(() => some(op)) };
}

/** What etcd3's codec reads from `bytes`. */
const read = async (bytes: Buffer): Promise<unknown> => (await codec).requestDeserialize(bytes);

describe('encodeTxnRequest', () => {
  it("writes what etcd3's codec reads as it reads its own encoding, for 500 random requests", async () => {
    const rng = new Rng(20261130);
    const random = (): number => rng.next();
    for (let i = 0; i < 500; i++) {
      const req = randomTxn(random);
      const ours = encodeTxnRequest(req);
      expect(ours, `case ${i}`).not.toBeNull();
      expect(await read(ours!), `case ${i}`).toEqual(await read((await codec).requestSerialize(req)));
    }
  });

  it("writes a resignation's request: two compares, the delete, the record, the failure's read", async () => {
    const key = Buffer.from('/e/694d9a6b3c1e2f10');
    const req: etcd.ITxnRequest = {
      compare: [
        { key, target: 'Create', result: 'Equal', create_revision: '123400' },
        { key: Buffer.from('/e/694d9a6b3c1e2f11'), target: 'Create', result: 'Equal', create_revision: '123401' },
      ],
      success: [
        { request_delete_range: { key } },
        { request_put: { key: Buffer.from('/e.locked-term'), value: Buffer.from('{"state":"resigned"}') } },
      ],
      failure: [{ request_range: { key } }],
    };
    const decoded = (await read(encodeTxnRequest(req)!)) as {
      compare: { create_revision: string }[];
      success: object[];
    };
    expect(decoded.compare.map((c) => c.create_revision)).toEqual(['123400', '123401']);
    expect(decoded).toEqual(await read((await codec).requestSerialize(req)));
  });

  it("leaves to etcd3's codec what it does not take: unknown fields, strings for bytes, two members of a oneof, out-of-range numbers", () => {
    const key = Buffer.from('k');
    const refused: object[] = [
      { compare: [], success: [], surprise: 1 },
      { success: [{ request_put: { key: 'k' } }] }, // protobufjs reads a string for bytes as base64
      { success: [{ request_put: { key }, request_range: { key } }] },
      { compare: [{ key, version: '1', mod_revision: '2' }] },
      { compare: [{ key, version: '9223372036854775808' }] },
      { compare: [{ key, version: 1.5 }] },
      { compare: [{ key, version: 2 ** 60 }] },
      { compare: [{ key, result: 'Sideways' }] },
      { compare: [{ key, result: -1 }] },
      { success: [{ request_range: { key, serializable: 'yes' } }] },
      { success: { request_range: { key } } },
      { success: [null] },
    ];
    for (const req of refused) expect(encodeTxnRequest(req as never), JSON.stringify(req)).toBeNull();
    expect(encodeTxnRequest({ compare: [{ key, version: undefined, lease: null }] } as never)).not.toBeNull();
  });
});
