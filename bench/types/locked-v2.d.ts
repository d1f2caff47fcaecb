/** Types for the original locked@2.4.1 (installed as `locked-v2`), as far as the benchmark uses it. */
declare module 'locked-v2' {
  import type { EventEmitter } from 'node:events';

  interface LockedV2Node extends EventEmitter {
    start(done?: () => void): void;
    stop(): void;
    isSelected(): boolean;
    id(): string | null;
    value(): string | null;
  }

  function lockedV2(
    etcdhosts: string,
  ): (opts: { id?: string; path: string; value: string; ttl?: number }) => LockedV2Node;
  export = lockedV2;
}
