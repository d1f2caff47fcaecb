import { serviceMethods, type ParkingPool } from './parked-txn.js';
import { encodeTxnRequest } from './txn-request.js';
import { decodeWatchResponse } from './watch-response.js';

type ServiceName = Parameters<ParkingPool['withConnection']>[0];

const key = Buffer.from('warm-up');
const header = { cluster_id: '1', member_id: '1', revision: '2', raft_term: '1' };
const kv = { key, create_revision: '1', mod_revision: '2', version: '1', value: key, lease: '1' };
const ops = [
  { request_put: { key, value: key, lease: '1', prev_kv: true, ignore_value: false, ignore_lease: false } },
  { request_delete_range: { key, range_end: key, prev_kv: false } },
  { request_range: { key, range_end: key, limit: '1', sort_order: 'Ascend', sort_target: 'Create', revision: '1' } },
];
const compare = [
  { key, target: 'Create', result: 'Equal', create_revision: '1' },
  { key, range_end: key, target: 'Create', result: 'Greater', create_revision: '1' },
  { key, target: 'Lease', result: 'Equal', lease: '1' },
  { key, target: 'Mod', result: 'Less', mod_revision: '1' },
];
const responses = [
  { response_put: { header, prev_kv: kv } },
  { response_delete_range: { header, deleted: '1', prev_kvs: [kv] } },
  { response_range: { header, kvs: [kv], more: false, count: '1' } },
];

/** One sample of each request and response a client sends or receives on a leader's or heir's path. */
const SAMPLES: ReadonlyArray<readonly [service: ServiceName, method: string, request: object, response: object]> = [
  ['KV', 'Txn', { compare, success: ops, failure: ops }, { header, succeeded: true, responses }],
  ['KV', 'Range', ops[2]!.request_range!, { header, kvs: [kv], more: false, count: '1' }],
  [
    'Watch',
    'Watch',
    { create_request: { key, range_end: key, start_revision: '1' } },
    {
      header,
      watch_id: '1',
      events: [
        { type: 'Delete', kv, prev_kv: kv },
        { type: 'Put', kv },
      ],
    },
  ],
  ['Watch', 'Watch', { cancel_request: { watch_id: '1' } }, { header, watch_id: '1', created: true }],
  ['Lease', 'LeaseRevoke', { ID: '1' }, { header }],
  ['Lease', 'LeaseKeepAlive', { ID: '1' }, { header, ID: '1', TTL: '2' }],
];

let warmed = false;

/**
 * Once per process, on `defer` (a later turn of the event loop) after the first client is made: each
 * request and response message a campaign, a term and a handover use is encoded and decoded once with
 * the codecs the calls use (warmCodecs: etcd3's, and locked's own for watch responses). Failures are
 * ignored: it only moves work.
 *
 * protobufjs (under @grpc/proto-loader) generates a message type's encoder, decoder and converters on the
 * type's first use, and V8 compiles them then. Without this, that first use falls on a handover: the
 * leader's resignation is the first delete its process encodes, its answer the first delete response it
 * decodes, and the heir's event the first watch event its process decodes (`perf record` of `npm run
 * bench:steps`: protobufjs's code generation on both processes' paths, README "Performance").
 */
export function warmCodecsOnce(pool: ParkingPool, defer: (fn: () => void) => void): void {
  if (warmed) return;
  warmed = true;
  defer(() => void warmCodecs(pool).catch(() => undefined));
}

/**
 * Encodes each sample request and round-trips each sample response (a watch response: encoded by etcd3's
 * codec, decoded by locked's); resolves with the decoded responses.
 */
export async function warmCodecs(pool: ParkingPool): Promise<unknown[]> {
  const decoded: unknown[] = [];
  for (const service of new Set(SAMPLES.map(([s]) => s))) {
    await pool.withConnection(service, ({ client }) => {
      const methods = serviceMethods(client);
      for (const [s, method, request, response] of SAMPLES) {
        const m = s === service ? methods[method] : undefined;
        if (!m) continue;
        m.requestSerialize(request);
        // A parked resignation is encoded by locked's own encoder (parked-txn.ts), watch responses decoded by
        // its own decoder (watch-call.ts): those are warmed too, or instead.
        if (method === 'Txn') encodeTxnRequest(request);
        const decode = service === 'Watch' ? decodeWatchResponse : m.responseDeserialize;
        decoded.push(decode(m.responseSerialize(response)));
      }
      return Promise.resolve();
    });
  }
  return decoded;
}
