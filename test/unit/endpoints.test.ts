import { describe, expect, it } from 'vitest';
import { parseEndpoints } from '../../src/core/endpoints.js';

describe('parseEndpoints', () => {
  it('takes the seed comma-separated string, with or without scheme and spaces', () => {
    expect(parseEndpoints('127.0.0.1:4001, http://127.0.0.1:4002')).toEqual({
      hosts: ['127.0.0.1:4001', '127.0.0.1:4002'],
      tls: false,
    });
  });

  it('takes an array, and https turns TLS on', () => {
    expect(parseEndpoints(['https://localhost:2379', '127.0.0.1:2380'])).toEqual({
      hosts: ['localhost:2379', '127.0.0.1:2380'],
      tls: true,
    });
  });

  it('defaults a missing port to 2379', () => {
    expect(parseEndpoints('127.0.0.1').hosts).toEqual(['127.0.0.1:2379']);
  });

  it('names the field and the rule for bad input', () => {
    expect(() => parseEndpoints('')).toThrow(/hosts must name at least one etcd endpoint/);
    expect(() => parseEndpoints(' , ')).toThrow(/hosts must name at least one etcd endpoint/);
    expect(() => parseEndpoints([])).toThrow(/hosts must name at least one etcd endpoint/);
    expect(() => parseEndpoints('127.0.0.1:notaport')).toThrow(
      /hosts entry "127.0.0.1:notaport" has port "notaport"; a port must be an integer from 1 to 65535/,
    );
    expect(() => parseEndpoints('127.0.0.1:70000')).toThrow(RangeError);
    expect(() => parseEndpoints('ftp://x:1')).toThrow(/is not of the form \[scheme:\/\/\]host\[:port\]/);
    expect(() => parseEndpoints(42)).toThrow(TypeError);
    expect(() => parseEndpoints([1])).toThrow(/hosts entries must be strings, got 1/);
  });
});
