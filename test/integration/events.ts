import type { LockedNode, LockedNodeEvents } from '../../src/api.js';

export interface RecordedEvent {
  readonly node: string;
  readonly event: string;
  readonly args: unknown[];
  readonly atMs: number;
}

/** Records every seed event of `nodes` (by their localid) with the time it was emitted. */
export class EventLog {
  readonly events: RecordedEvent[] = [];

  constructor(
    nodes: LockedNode[],
    names: readonly (keyof LockedNodeEvents)[] = ['change', 'select', 'deselect', 'refresh', 'ping', 'error'],
  ) {
    for (const node of nodes) {
      for (const event of names) {
        node.on(event, (...args: unknown[]) => {
          this.events.push({ node: node.localid(), event, args, atMs: performance.now() });
        });
      }
    }
  }

  of(event: string, node?: string): RecordedEvent[] {
    return this.events.filter((e) => e.event === event && (node === undefined || e.node === node));
  }
}
