import { describe, expect, it } from 'vitest';
import {
  decodeTermRecord,
  encodeTermRecord,
  holdOffMs,
  inheritedMs,
  isHeir,
  previousHolder,
  termRecordKey,
} from '../../src/election/term-record.js';

// The term record decides whether a successor may lead at once or must wait out
// its predecessor's deadline: pure logic, no etcd.
describe('term record', () => {
  it('lives beside the candidates, outside their prefix', () => {
    const key = termRecordKey('/master');
    expect(key).toBe('/master.locked-term');
    expect(key.startsWith('/master/')).toBe(false);
  });

  it('round-trips both states, tokens as bigints', () => {
    const leading = { state: 'leading', token: 2n ** 62n, ttlMs: 2000, holdMs: 5000 } as const;
    const resigned = { state: 'resigned', token: 41n, ttlMs: 2000, heir: 2n ** 62n + 1n } as const;
    const noHeir = { state: 'resigned', token: 41n, ttlMs: 2000, heir: null } as const;
    expect(decodeTermRecord(encodeTermRecord(leading))).toEqual(leading);
    expect(decodeTermRecord(encodeTermRecord(resigned))).toEqual(resigned);
    expect(decodeTermRecord(encodeTermRecord(noHeir))).toEqual(noHeir);
  });

  it('rejects what it did not write', () => {
    for (const text of [
      '',
      'x',
      '{}',
      'null',
      '{"state":"leading","token":"7"}',
      '{"state":"resigned","token":7}',
      '{"state":"resigned","token":"7"}', // no TTL: it could not bound an heir
      '{"state":"resigned","token":"7","ttlMs":2000,"heir":8}',
    ]) {
      expect(decodeTermRecord(text), text).toBeNull();
    }
    expect(decodeTermRecord('{"state":"leading","token":"7","ttlMs":-1,"holdMs":0}')).toBeNull();
  });

  it('no record, or a resignation that named no heir or us: take over at once', () => {
    expect(holdOffMs(previousHolder(null, 9n), 2000, 0.01)).toBe(0);
    for (const heir of [null, 9n]) {
      const resigned = encodeTermRecord({ state: 'resigned', token: 5n, ttlMs: 3000, heir });
      expect(previousHolder(resigned, 9n)).toEqual({ kind: 'resigned' });
      expect(holdOffMs(previousHolder(resigned, 9n), 2000, 0.01)).toBe(0);
    }
  });

  it('a resignation that named another heir: that heir may have led unclaimed, so wait the resigner TTL', () => {
    const resigned = encodeTermRecord({ state: 'resigned', token: 5n, ttlMs: 3000, heir: 7n });
    expect(previousHolder(resigned, 9n)).toEqual({ kind: 'unended', ms: 3000 });
    expect(holdOffMs(previousHolder(resigned, 9n), 2000, 0.01)).toBe(3030);
    expect(inheritedMs(previousHolder(resigned, 9n), 2000)).toBe(3000);
  });

  it('the heir leads without a claim only when named, and only within the resigner TTL', () => {
    const named = encodeTermRecord({ state: 'resigned', token: 5n, ttlMs: 3000, heir: 7n });
    expect(isHeir(named, 7n, 3000)).toBe(true);
    expect(isHeir(named, 7n, 2000)).toBe(true);
    expect(isHeir(named, 7n, 3001)).toBe(false); // a longer TTL than its successor would wait for: claim
    expect(isHeir(named, 8n, 2000)).toBe(false);
    expect(isHeir(encodeTermRecord({ state: 'resigned', token: 5n, ttlMs: 3000, heir: null }), 7n, 2000)).toBe(false);
    expect(isHeir(encodeTermRecord({ state: 'leading', token: 5n, ttlMs: 3000, holdMs: 0 }), 7n, 2000)).toBe(false);
    expect(isHeir(null, 7n, 2000)).toBe(false);
    expect(isHeir('hand-written', 7n, 2000)).toBe(false);
  });

  it('a holder that did not resign: wait its TTL, or what it inherited if longer, with drift', () => {
    const plain = encodeTermRecord({ state: 'leading', token: 5n, ttlMs: 3000, holdMs: 0 });
    expect(holdOffMs(previousHolder(plain, 9n), 2000, 0.01)).toBe(3030);
    const inherited = encodeTermRecord({ state: 'leading', token: 5n, ttlMs: 3000, holdMs: 10_000 });
    expect(holdOffMs(previousHolder(inherited, 9n), 2000, 0.01)).toBe(10_100);
    expect(inheritedMs(previousHolder(inherited, 9n), 2000)).toBe(10_000);
  });

  it('our own claim, retried: keeps the wait the first claim found', () => {
    const ownHolding = encodeTermRecord({ state: 'leading', token: 9n, ttlMs: 2000, holdMs: 4000 });
    expect(holdOffMs(previousHolder(ownHolding, 9n), 2000, 0)).toBe(4000);
    const ownFree = encodeTermRecord({ state: 'leading', token: 9n, ttlMs: 2000, holdMs: 0 });
    expect(holdOffMs(previousHolder(ownFree, 9n), 2000, 0)).toBe(0);
  });

  it('a record someone else wrote: wait our own TTL', () => {
    const previous = previousHolder('hand-written', 9n);
    expect(previous.kind).toBe('unreadable');
    expect(holdOffMs(previous, 2000, 0.01)).toBe(2020);
    expect(inheritedMs(previous, 2000)).toBe(2000);
  });
});
