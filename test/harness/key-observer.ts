import type { Etcd3, Watcher } from 'etcd3';
import { sharedNow } from '../../src/testing/history.js';

/**
 * Watches an election's key range straight on etcd (the admin client, no
 * proxy) and notes when each candidate key is deleted, by the key's create
 * revision: the token of the term it carried. The note is taken when the event
 * arrives, so it is an upper bound of the deletion time (late while the
 * watcher itself reconnects, never early).
 */
export class KeyObserver {
  readonly deletedAt = new Map<string, number>();
  readonly #watcher: Watcher;

  private constructor(watcher: Watcher) {
    this.#watcher = watcher;
    watcher.on('delete', (_kv, previous) => {
      const token = previous?.create_revision;
      if (token && !this.deletedAt.has(token)) this.deletedAt.set(token, sharedNow());
    });
    watcher.on('error', () => undefined);
  }

  static async start(admin: Etcd3, prefix: string): Promise<KeyObserver> {
    const watcher = await admin.watch().prefix(prefix).withPreviousKV().create();
    return new KeyObserver(watcher);
  }

  async close(): Promise<void> {
    await this.#watcher.cancel().catch(() => undefined);
  }
}
