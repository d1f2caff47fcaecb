import type { TransportTrace } from '../../src/transport/trace.js';
import { monoMs } from './protocol.js';

/** One step of a candidate process: what happened, at its monotonic ms. */
export type Step = [t: number, what: string];

/**
 * The trace that records, in this process, when locked's requests leave and
 * are answered and when watch events arrive: `sent <label>` / `answered
 * <label>` for txn, range and lease revoke, `event <types>` for each watch
 * response with events. The adapter adds it to each locked client it creates
 * (child.ts passes it to `connect`). For `npm run bench:steps` only.
 */
export function stepsTrace(steps: Step[]): TransportTrace {
  const recorded = (method: string): boolean => method === 'txn' || method === 'range' || method === 'revoke';
  return {
    request(call) {
      if (recorded(call.method)) steps.push([monoMs(), `sent ${call.what}`]);
    },
    settled(call) {
      if (recorded(call.method)) steps.push([monoMs(), `answered ${call.what}`]);
    },
    received(received) {
      if (received.kind === 'watch')
        steps.push([monoMs(), `event ${received.message.events.map((e) => e.type).join(',')}`]);
    },
  };
}
