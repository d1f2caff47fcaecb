import type { TransportTrace } from '../../src/transport/trace.js';
import { cpuStep } from './cpu-reading.js';
import { monoMs } from './protocol.js';

/** One step of a candidate process: what happened, at its monotonic ms. */
export type Step = [t: number, what: string];

/** A step that is a watch response carrying a delete (the handover's, when it comes after the stop). */
export const isDeleteEvent = (what: string): boolean => what.startsWith('event') && what.includes('Delete');

/**
 * The trace that records, in this process, when locked's requests leave and
 * are answered and when watch events arrive: `sent <label>` / `answered
 * <label>` for txn, range and lease revoke, `event <types>` for each watch
 * response with events, `wrote <stream> <fields>` for each message written on
 * a watch or keepalive stream (a watch's create or cancel, a keepalive). The
 * adapter adds it to each locked client it creates (child.ts passes it to
 * `connect`). For `npm run bench:steps` only. `withCpu` (`--cpu`): each event
 * is followed by a CPU reading (cpu-reading.ts).
 */
export function stepsTrace(steps: Step[], withCpu = false): TransportTrace {
  const recorded = (method: string): boolean => method === 'txn' || method === 'range' || method === 'revoke';
  return {
    request(call) {
      if (recorded(call.method)) steps.push([monoMs(), `sent ${call.what}`]);
    },
    settled(call) {
      if (recorded(call.method)) steps.push([monoMs(), `answered ${call.what}`]);
    },
    opened(opened) {
      const stream = opened.stream as unknown as { write(message: object): unknown };
      const write = stream.write.bind(stream);
      stream.write = (message) => {
        steps.push([monoMs(), `wrote ${opened.kind} ${Object.keys(message).join(',')}`]);
        return write(message);
      };
    },
    received(received) {
      if (received.kind !== 'watch') return;
      steps.push([monoMs(), `event ${received.message.events.map((e) => e.type).join(',')}`]);
      if (withCpu) steps.push(cpuStep());
    },
  };
}
