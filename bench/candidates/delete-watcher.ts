/**
 * The other end of the cross-process floor (bench/scenarios/floor.ts): a plain
 * etcd3 client in a process of its own, as a successor candidate is, that
 * watches a prefix and reports each delete with the monotonic ms it arrived at.
 * `node delete-watcher.js <endpoints> <prefix>`; reports `{ ready: true }`
 * once its watch is created, then `{ deletedAt, key }` per delete. Exits when
 * the parent goes away or sends anything.
 */
import { Etcd3 } from 'etcd3';
import { monoMs } from './protocol.js';

export interface DeleteWatcherReport {
  readonly ready?: true;
  readonly deletedAt?: number;
  readonly key?: string;
}

async function main(): Promise<void> {
  const [endpoints, prefix] = process.argv.slice(2);
  if (!endpoints || !prefix) throw new Error('usage: delete-watcher.js <endpoints> <prefix>');
  const client = new Etcd3({ hosts: endpoints.split(',') });
  const send = (report: DeleteWatcherReport): void => void process.send?.(report);
  const watch = await client.watch().prefix(prefix).create();
  watch.on('delete', (kv) => send({ deletedAt: monoMs(), key: kv.key.toString() }));
  const exit = (): void => {
    client.close();
    process.exit(0);
  };
  process.on('disconnect', exit);
  process.on('message', exit);
  send({ ready: true });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
