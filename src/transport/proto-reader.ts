/**
 * A reader of protobuf's wire format, for the one message locked decodes itself (watch-response.ts).
 * Only what proto3 messages of scalars, bytes and sub-messages need: varints, length-delimited fields,
 * and skipping any field it is not asked for. Every read is bounds-checked: a message cut short or
 * malformed throws (grpc-js then fails the call, as it does when its own decoder throws).
 */
export class ProtoReader {
  readonly #buf: Buffer;
  #pos: number;
  #end: number;

  constructor(buf: Uint8Array) {
    this.#buf = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.length);
    this.#pos = 0;
    this.#end = buf.length;
  }

  /** Whether the current message (the whole buffer, or the sub-message being read) has more fields. */
  get more(): boolean {
    return this.#pos < this.#end;
  }

  /**
   * A varint: a number when below 2^49 (every revision, ID and count locked meets in practice), else a
   * bigint of its 64 bits. Throws past the message's end or after ten bytes.
   */
  varint(): number | bigint {
    const buf = this.#buf;
    let pos = this.#pos;
    let low = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (pos >= this.#end) throw malformed('varint past the end');
      const byte = buf[pos++]!;
      low += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        this.#pos = pos;
        return low;
      }
      scale *= 128;
    }
    let big = BigInt(low);
    for (let shift = 49n; shift < 70n; shift += 7n) {
      if (pos >= this.#end) throw malformed('varint past the end');
      const byte = buf[pos++]!;
      big |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) {
        this.#pos = pos;
        return BigInt.asUintN(64, big);
      }
    }
    throw malformed('varint longer than 10 bytes');
  }

  /** A field's tag: its number times 8 plus its wire type. */
  tag(): number {
    const tag = this.varint();
    if (typeof tag !== 'number' || tag > 0xffffffff) throw malformed('field tag out of range');
    return tag;
  }

  /** An int64 as a decimal string (negative ones come as ten-byte two's complement). */
  int64(): string {
    const v = this.varint();
    return typeof v === 'number' ? String(v) : BigInt.asIntN(64, v).toString();
  }

  /** A uint64 as a decimal string. */
  uint64(): string {
    return String(this.varint());
  }

  bool(): boolean {
    return this.varint() !== 0;
  }

  /** An enum's number (a negative int32 comes as ten bytes). */
  enum(): number {
    const v = this.varint();
    return typeof v === 'number' ? v : Number(BigInt.asIntN(32, v));
  }

  /** A length-delimited field's bytes: a view of the buffer, not a copy (as protobufjs gives). */
  bytes(): Buffer {
    const start = this.#lengthStart();
    return this.#buf.subarray(start, this.#pos);
  }

  string(): string {
    const start = this.#lengthStart();
    return this.#buf.toString('utf8', start, this.#pos);
  }

  /**
   * Reads a sub-message: `read` sees only its fields (`more` ends at its end); then the reader continues
   * after it. A sub-message whose fields overrun it throws.
   */
  message<T>(read: (r: ProtoReader) => T): T {
    const start = this.#lengthStart();
    const end = this.#pos;
    const outer = this.#end;
    this.#pos = start;
    this.#end = end;
    const value = read(this);
    if (this.#pos !== end) throw malformed('sub-message overran its length');
    this.#end = outer;
    return value;
  }

  /** Skips a field of `wireType` that is not asked for (as protobuf readers must, for newer fields). */
  skip(wireType: number): void {
    if (wireType === 0) this.varint();
    else if (wireType === 2) this.#lengthStart();
    else if (wireType === 1 || wireType === 5) this.#advance(wireType === 1 ? 8 : 4);
    else throw malformed(`wire type ${wireType}`);
  }

  /** Reads a length, checks it fits, moves past the bytes; returns where they start. */
  #lengthStart(): number {
    const length = this.varint();
    if (typeof length !== 'number') throw malformed('length out of range');
    const start = this.#pos;
    this.#advance(length);
    return start;
  }

  #advance(n: number): void {
    if (this.#pos + n > this.#end) throw malformed('field past the end');
    this.#pos += n;
  }
}

function malformed(why: string): Error {
  return new Error(`malformed protobuf message: ${why}`);
}
