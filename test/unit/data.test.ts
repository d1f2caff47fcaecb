import { describe, expect, it } from 'vitest';
import { checkId, decodeData, encodeData, valueToString } from '../../src/locked/data.js';

describe('seed data string', () => {
  it('is id + ":::" + value', () => {
    expect(encodeData('node1', '10')).toBe('node1:::10');
  });

  it('splits at the first ":::" so values may contain it', () => {
    expect(decodeData('node1:::a:::b', 'ff')).toEqual({ id: 'node1', value: 'a:::b' });
    expect(decodeData(encodeData('n', ''), 'ff')).toEqual({ id: 'n', value: '' });
  });

  it('reads a foreign value (etcdctl elect) as id = lease hex, value = the whole value', () => {
    expect(decodeData('plain value', '694d7a3b1c')).toEqual({ id: '694d7a3b1c', value: 'plain value' });
  });

  it('round-trips numbers as their string form, as the seed stored them', () => {
    expect(decodeData(encodeData('a', valueToString('value', 10)), 'x').value).toBe('10');
  });

  it('rejects values etcd cannot store and ids that would break parsing', () => {
    expect(() => valueToString('value', { a: 1 })).toThrow(/value must be a string or a finite number, got an object/);
    expect(() => valueToString('value', Number.NaN)).toThrow(/value must be a string or a finite number, got NaN/);
    expect(() => checkId('id', 'a:::b')).toThrow(/id must not contain ":::"/);
  });
});
