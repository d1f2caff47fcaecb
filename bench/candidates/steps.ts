import { Transport } from '../../src/transport/transport.js';
import { WatchHub } from '../../src/transport/watch-hub.js';
import { monoMs } from './protocol.js';

/** One step of a candidate process: what happened, at its monotonic ms. */
export type Step = [t: number, what: string];

type Call = (this: Transport, ...args: unknown[]) => Promise<unknown>;

/**
 * Records, in this process, when locked's requests leave and are answered and
 * when watch events arrive: `sent <label>` / `answered <label>` for txn, range
 * and lease revoke, `event <types>` for each watch response with events. Wraps
 * the prototypes (as the tests' transport spy does), so the library itself
 * carries no tracing. For `npm run bench:steps` only.
 */
export function recordSteps(steps: Step[]): void {
  const proto = Transport.prototype as unknown as Record<'txn' | 'range' | 'revoke', Call>;
  for (const method of ['txn', 'range', 'revoke'] as const) {
    const original = proto[method];
    proto[method] = async function (this: Transport, ...args: unknown[]): Promise<unknown> {
      const label = method === 'revoke' ? 'lease revoke' : typeof args[1] === 'string' ? args[1] : method;
      steps.push([monoMs(), `sent ${label}`]);
      try {
        return await original.apply(this, args);
      } finally {
        steps.push([monoMs(), `answered ${label}`]);
      }
    };
  }
  const hub = WatchHub.prototype as unknown as { watch: WatchHub['watch'] };
  const watch = hub.watch;
  hub.watch = function (this: WatchHub, target, handlers) {
    return watch.call(this, target, {
      ...handlers,
      onEvents: (events, revision) => {
        steps.push([monoMs(), `event ${events.map((e) => e.type).join(',')}`]);
        handlers.onEvents(events, revision);
      },
    });
  };
}
