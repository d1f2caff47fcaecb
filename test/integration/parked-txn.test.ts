import type { ITxnRequest } from 'etcd3';
import { afterEach, describe, expect, it } from 'vitest';
import { LockedClient } from '../../src/api.js';
import { delay } from '../../src/core/abort.js';
import { isLockedError } from '../../src/errors.js';
import type { ParkedTxn } from '../../src/transport/parked-txn.js';
import { MAX_PARKED_TXNS, type Transport } from '../../src/transport/transport.js';
import { waitFor } from '../../src/testing/wait-for.js';
import { queued, useCoreFixture } from './core-fixture.js';

// A Txn call parked ahead of its request (parked-txn.ts), as a leader parks its resignation: on a real
// etcd, it carries one request as a unary call would, after any wait, and only one; where it cannot carry
// the request, or gets no answer in time, an ordinary call follows; a client holds a bounded number.
const fx = useCoreFixture();
let seq = 0;

function put(key: string, value: string): ITxnRequest {
  return { success: [{ request_put: { key: Buffer.from(key), value: Buffer.from(value) } }] };
}

/** Counts the ordinary (not parked) Txn calls `transport` sends from now on. */
function countOrdinary(transport: Transport): { readonly txns: ITxnRequest[] } {
  const kv = transport.client.kv;
  const original = kv.txn.bind(kv);
  const seen = { txns: [] as ITxnRequest[] };
  kv.txn = (req, options) => {
    seen.txns.push(req);
    return original(req, options);
  };
  return seen;
}

/** The transactions among `txns` that delete `key` (a resignation's). */
function deletesOf(key: string, txns: ITxnRequest[]): ITxnRequest[] {
  return txns.filter((t) => t.success?.some((op) => op.request_delete_range?.key?.toString() === key));
}

const clients: LockedClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** The transport of a new client on the file's etcd, closed after the test. */
function newTransport(requestTimeoutMs?: number): Transport {
  const client = new LockedClient({
    endpoints: fx.cluster.endpoints,
    ...(requestTimeoutMs ? { requestTimeoutMs } : {}),
  });
  clients.push(client);
  return client.transport;
}

/** A new client's transport (newTransport), its ordinary Txn calls counted, and a call it parked. */
async function parkedClient(requestTimeoutMs?: number): Promise<{
  readonly transport: Transport;
  readonly ordinary: { readonly txns: ITxnRequest[] };
  readonly parked: ParkedTxn;
}> {
  const transport = newTransport(requestTimeoutMs);
  const ordinary = countOrdinary(transport);
  return { transport, ordinary, parked: await parkedOn(transport) };
}

async function parkedOn(transport: Transport): Promise<ParkedTxn> {
  const parked = transport.parkTxn();
  if (!parked) throw new Error('no call parked');
  await waitFor('the call parked', () => parked.parked);
  return parked;
}

describe('a parked Txn call', () => {
  it('carries one request, as a unary call, after a wait longer than a request deadline', async () => {
    const { transport, ordinary, parked } = await parkedClient(500);
    await delay(1500); // three request deadlines: the call itself has none
    const key = `/parked/${++seq}`;
    const res = await transport.txn(put(key, 'v'), 'parked put', parked);
    expect(res.succeeded).toBe(true);
    expect(BigInt(res.header.revision.toString())).toBeGreaterThan(0n);
    expect(await fx.raw.get(key).string()).toBe('v');
    expect(ordinary.txns).toEqual([]);
    expect(parked.parked).toBe(false);
    // Spent: a second request on it is never written there, and reports so.
    expect(await parked.send(put(key, 'w'), 500)).toMatchObject({ kind: 'failed' });
    expect(await fx.raw.get(key).string()).toBe('v');
  });

  it('sends the request as an ordinary call when it is not parked yet, or was closed', async () => {
    const transport = newTransport();
    const ordinary = countOrdinary(transport);
    const opening = transport.parkTxn(); // still choosing its member in this turn
    const first = `/parked/${++seq}`;
    expect((await transport.txn(put(first, '1'), 'early put', opening)).succeeded).toBe(true);
    const closed = await parkedOn(transport);
    closed.close();
    const second = `/parked/${++seq}`;
    expect((await transport.txn(put(second, '2'), 'put after close', closed)).succeeded).toBe(true);
    expect(ordinary.txns.length).toBe(2);
    expect([await fx.raw.get(first).string(), await fx.raw.get(second).string()]).toEqual(['1', '2']);
  });

  it('falls back to an ordinary call when the member it was parked on went away', async () => {
    const { transport, ordinary, parked } = await parkedClient(3000);
    await fx.cluster.kill(0);
    await waitFor('the parked call failed with its connection', () => !parked.parked, { timeoutMs: 10_000 });
    await fx.cluster.restart(0);
    const key = `/parked/${++seq}`;
    const res = await waitFor('the put through the restarted member', () =>
      transport.txn(put(key, 'v'), 'put after restart', parked).catch(() => null),
    );
    expect(res.succeeded).toBe(true);
    expect(ordinary.txns.length).toBeGreaterThanOrEqual(1);
    expect(await fx.raw.get(key).string()).toBe('v');
  });

  it('is followed by an ordinary call when etcd does not answer the request it carried in time', async () => {
    const { transport, ordinary, parked } = await parkedClient(800);
    const key = `/parked/${++seq}`;
    fx.cluster.pause(0);
    try {
      const failed = await transport.txn(put(key, 'v'), 'put to a frozen member', parked).then(
        () => null,
        (err: unknown) => err,
      );
      expect(isLockedError(failed, 'UNAVAILABLE')).toBe(true); // the ordinary call's deadline too
      expect(ordinary.txns.length).toBe(1);
    } finally {
      fx.cluster.resume(0);
    }
    expect(parked.parked).toBe(false);
  });

  it(`is held at most ${MAX_PARKED_TXNS} at a time by one client, a slot freed when a call is spent`, async () => {
    const transport = newTransport();
    const held = await Promise.all(Array.from({ length: MAX_PARKED_TXNS }, () => parkedOn(transport)));
    expect(transport.parkTxn()).toBeNull();
    expect(transport.withTimeout(100).parkTxn()).toBeNull(); // the views share the count
    held.pop()!.close();
    const again = await parkedOn(transport);
    expect(transport.parkTxn()).toBeNull();
    expect((await transport.txn(put(`/parked/${++seq}`, 'v'), 'parked put', again)).succeeded).toBe(true);
    const freed = await parkedOn(transport); // the answered call's slot
    for (const p of [...held, freed]) p.close();
  });
});

describe('a leader', () => {
  it('resigns on the call it parked while leading, and its successor leads', async () => {
    const name = `/parked-election/${++seq}`;
    const leading = fx.client(3);
    const ordinary = countOrdinary(leading.transport);
    const term = await leading.election(name).campaign('a');
    const next = fx.client(3);
    const pending = next.election(name).campaign('b');
    await queued(next, name, 2);
    await waitFor('the resignation parked', () => leading.transport.parkedTxns === 1);
    await term.resign();
    const successor = await pending;
    expect(successor.token).toBeGreaterThan(term.token);
    expect(deletesOf(term.key, ordinary.txns)).toEqual([]); // the resignation went on the parked call
    expect(await fx.raw.get(term.key).string()).toBeNull();
  });
  it('parks its resignation again at its next confirmation when the member it was parked on restarted', async () => {
    const name = `/parked-election/${++seq}`;
    const leading = fx.client(6);
    const ordinary = countOrdinary(leading.transport);
    const term = await leading.election(name).campaign('a');
    await waitFor('the resignation parked', () => leading.transport.parkedTxns === 1);
    await fx.cluster.kill(0);
    await waitFor('the parked call failed', () => leading.transport.parkedTxns === 0, { timeoutMs: 10_000 });
    await fx.cluster.restart(0);
    await waitFor('parked again after a confirmation', () => leading.transport.parkedTxns === 1, {
      timeoutMs: 15_000,
    });
    expect(term.isValid()).toBe(true);
    await term.resign();
    expect(deletesOf(term.key, ordinary.txns)).toEqual([]); // the resignation went on the parked call
    expect(await fx.raw.get(term.key).string()).toBeNull();
  });
});
