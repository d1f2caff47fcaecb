/**
 * A writer of protobuf's wire format, for the one message locked encodes itself (txn-request.ts):
 * varint fields (integers, bools, enums) and length-delimited ones (bytes, sub-messages). A field is
 * written when it is given, default or not, as protobufjs writes a field set on the object.
 *
 * Tags, lengths and varints go into small arrays; bytes and sub-messages are kept as parts and copied
 * once, by `finish`, into one buffer of the exact length.
 */
export class ProtoWriter {
  readonly #parts: (number[] | Uint8Array)[] = [];
  #small: number[] = [];
  #length = 0;

  /** A varint field: an integer of up to 64 bits (a negative one as its two's complement, ten bytes). */
  varint(field: number, value: number | bigint | boolean): void {
    this.#raw(field * 8);
    this.#raw(typeof value === 'boolean' ? (value ? 1 : 0) : value);
  }

  /** A length-delimited field: bytes, or a sub-message written by another writer (taken as it is now). */
  bytes(field: number, value: Uint8Array | ProtoWriter): void {
    this.#raw(field * 8 + 2);
    this.#raw(value instanceof ProtoWriter ? value.#length : value.length);
    this.#endSmall();
    if (value instanceof ProtoWriter) {
      value.#endSmall();
      this.#parts.push(...value.#parts);
    } else this.#parts.push(value);
    this.#length += value.length;
  }

  /** The bytes written so far. */
  get length(): number {
    return this.#length;
  }

  finish(): Buffer {
    this.#endSmall();
    const out = Buffer.allocUnsafe(this.#length);
    let pos = 0;
    for (const part of this.#parts) {
      if (part instanceof Uint8Array) out.set(part, pos);
      else for (let i = 0; i < part.length; i++) out[pos + i] = part[i]!;
      pos += part.length;
    }
    return out;
  }

  #endSmall(): void {
    if (this.#small.length === 0) return;
    this.#parts.push(this.#small);
    this.#small = [];
  }

  #raw(value: number | bigint): void {
    const small = this.#small;
    const before = small.length;
    if (typeof value === 'number' && value >= 0 && value <= Number.MAX_SAFE_INTEGER) {
      let v = value;
      while (v >= 0x80) {
        small.push((v % 0x80) | 0x80);
        v = Math.floor(v / 0x80);
      }
      small.push(v);
    } else {
      let v = BigInt.asUintN(64, BigInt(value));
      while (v >= 0x80n) {
        small.push(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      small.push(Number(v));
    }
    this.#length += small.length - before;
  }
}
