import { Etcd3 } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { warmCodecs } from '../../src/transport/codec-warm-up.js';
import type { ParkingPool } from '../../src/transport/parked-txn.js';

// The warm-up's samples go through etcd3's own codecs (no etcd needed: a client connects on its first
// call). A sample its codec rejects throws here, where the warm-up itself would swallow it and warm nothing.
describe('codec warm-up', () => {
  it("round-trips every sample through etcd3's codecs: the watch events, the txn's responses, the lease calls", async () => {
    const client = new Etcd3({ hosts: '127.0.0.1:1' });
    try {
      const decoded = (await warmCodecs((client as unknown as { pool: ParkingPool }).pool)) as Record<
        string,
        unknown
      >[];
      expect(decoded).toHaveLength(6);
      const [txn, range, watch, created, revoke, keepAlive] = decoded;
      expect(txn!['succeeded']).toBe(true);
      expect((txn!['responses'] as Record<string, unknown>[]).map((r) => r['response'])).toEqual([
        'response_put',
        'response_delete_range',
        'response_range',
      ]);
      expect(range!['count']).toBe('1');
      const events = watch!['events'] as { type: string; kv: { key: Buffer } }[];
      expect(events.map((e) => `${e.type} ${e.kv.key.toString()}`)).toEqual(['Delete warm-up', 'Put warm-up']);
      expect(created!['created']).toBe(true);
      expect((revoke!['header'] as Record<string, string>)['revision']).toBe('2');
      expect(keepAlive!['TTL']).toBe('2');
    } finally {
      client.close();
    }
  });
});
