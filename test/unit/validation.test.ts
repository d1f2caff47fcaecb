import { afterAll, describe, expect, it } from 'vitest';
import { locked, type Locker } from '../../src/api.js';
import { resolveTiming } from '../../src/core/options.js';

// Creating a locker opens no connection until a node starts, so bad input is
// checked here without etcd; the port is never dialled.
const lockers: Locker[] = [];
function locker(): Locker {
  const l = locked('127.0.0.1:1');
  lockers.push(l);
  return l;
}
afterAll(async () => {
  await Promise.all(lockers.map((l) => l.close()));
});

describe('bad input fails at once, naming the field and the rule', () => {
  it('hosts', () => {
    expect(() => locked(undefined as unknown as string)).toThrow(/hosts must name at least one etcd endpoint/);
    expect(() => locked('')).toThrow(/hosts must name at least one etcd endpoint/);
    expect(() => locked('127.0.0.1:notaport')).toThrow(/port must be an integer from 1 to 65535/);
    expect(() => locked({} as unknown as string)).toThrow(/hosts must be a comma-separated string or an array/);
  });

  it('path', () => {
    expect(() => locker()({ value: 1 })).toThrow(/path must be a non-empty string, got undefined/);
    expect(() => locker()('', {})).toThrow(/path must be a non-empty string, got ""/);
    expect(() => locker()('/a/', {})).toThrow(/path must not end with "\/"/);
    expect(() => locker()('/a', { path: '/b' })).toThrow(/path is given twice and differs/);
  });

  it('ttl', () => {
    for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '10']) {
      expect(() => locker()({ path: '/p', ttl: ttl as number })).toThrow(/ttl must be a finite number of seconds > 0/);
    }
  });

  it('value and id', () => {
    expect(() => locker()({ path: '/p', value: { x: 1 } as unknown as string })).toThrow(
      /value must be a string or a finite number, got an object/,
    );
    expect(() => locker()({ path: '/p', id: 'a:::b' })).toThrow(/id must not contain ":::"/);
    expect(() => locker()({ path: '/p', id: 7 as unknown as string })).toThrow(/id must be a string, got 7/);
    expect(() => locker()({ path: '/p', value: 'x'.repeat(2 * 1024 * 1024) })).toThrow(/value must encode to at most/);
  });

  it('unknown and mistyped options are not silently dropped', () => {
    expect(() => locker()({ path: '/p', tll: 3 } as unknown as { path: string })).toThrow(/unknown option "tll"/);
    expect(() => locked('127.0.0.1:2379', { timeout: 1 } as unknown as object)).toThrow(/unknown option "timeout"/);
    expect(() => locker()({ path: '/p', stopOnError: 'yes' as unknown as boolean })).toThrow(
      /stopOnError must be a boolean/,
    );
  });

  it('a margin that leaves no room in the TTL', () => {
    expect(() => resolveTiming({ ttl: 2, marginMs: 1500 })).toThrow(/marginMs \(1500\) leaves no room in a ttl of 2 s/);
    expect(() => resolveTiming({ driftRate: 0.6 })).toThrow(/driftRate must be a number >= 0 and < 0.5/);
  });

  it('valid options give a node with the seed accessors', () => {
    const node = locker()({ id: 'node1', path: '/master', value: 10, ttl: 10 });
    expect(node.localid()).toBe('node1');
    expect(node.localvalue()).toBe(10);
    expect(node.localdata()).toBe('node1:::10');
    expect(node.isSelected()).toBe(false);
    expect(node.id()).toBeNull();
    expect(node.value()).toBeNull();
    expect(node.token()).toBeNull();
    const auto = locker()('/master', { value: 'v' });
    expect(auto.localid()).toMatch(/^[0-9a-f-]{36}$/);
  });
});
