import type { Etcd3, IWatchResponse } from 'etcd3';
import { sharedNow } from '../../src/testing/history.js';
import { prefixEnd } from '../../src/transport/keys.js';

type WatchStream = Awaited<ReturnType<Etcd3['watchClient']['watch']>>;

/**
 * Watches an election's key range straight on etcd (the admin client, no
 * proxy) and notes when each candidate key is deleted, by the key's create
 * revision: the token of the term it carried. The note is taken when the event
 * arrives, so it is an upper bound of the deletion time (late while the
 * watcher itself reconnects, never early).
 *
 * A raw watch stream of its own, not etcd3's Watcher: etcd3's watch manager
 * throws from a stream handler when a response arrives for a watcher being
 * cancelled, which would crash the harness at the end of a run.
 */
export class KeyObserver {
  readonly deletedAt = new Map<string, number>();
  readonly #admin: Etcd3;
  readonly #key: Buffer;
  readonly #rangeEnd: Buffer;
  #stream: WatchStream | null = null;
  #nextRevision = 0n;
  #closed = false;

  private constructor(admin: Etcd3, prefix: string) {
    this.#admin = admin;
    this.#key = Buffer.from(prefix);
    this.#rangeEnd = prefixEnd(this.#key);
  }

  static async start(admin: Etcd3, prefix: string): Promise<KeyObserver> {
    const observer = new KeyObserver(admin, prefix);
    await observer.#open();
    return observer;
  }

  async #open(): Promise<void> {
    if (this.#closed) return;
    const stream = await this.#admin.watchClient.watch();
    if (this.#closed) {
      stream.cancel();
      return;
    }
    this.#stream = stream;
    stream.on('data', (res: IWatchResponse) => this.#onResponse(res));
    const reopen = (): void => {
      if (this.#stream !== stream || this.#closed) return;
      this.#stream = null;
      setTimeout(() => void this.#open().catch(reopen), 200);
    };
    stream.on('error', reopen);
    stream.on('end', reopen);
    stream.write({
      create_request: {
        key: this.#key,
        range_end: this.#rangeEnd,
        prev_kv: true,
        ...(this.#nextRevision > 0n ? { start_revision: this.#nextRevision.toString() } : {}),
      },
    });
  }

  #onResponse(res: IWatchResponse): void {
    const at = sharedNow();
    if (BigInt(res.compact_revision || '0') > 0n) {
      // The events we missed are gone; watch on from now (the check can only miss, never invent).
      this.#nextRevision = 0n;
      this.#stream?.cancel();
      return;
    }
    for (const event of res.events) {
      this.#nextRevision = BigInt(event.kv.mod_revision) + 1n;
      const token = event.prev_kv?.create_revision;
      if (event.type === 'Delete' && token && !this.deletedAt.has(token)) this.deletedAt.set(token, at);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    const stream = this.#stream;
    this.#stream = null;
    stream?.cancel();
  }
}
