import { sharedNow } from '../../testing/history.js';
import { FAULT_LABEL, type Fault, type FaultKind, type FaultRecord } from './faults.js';
import type { LiveView } from './view.js';

interface ActiveFault {
  readonly fault: Fault;
  readonly record: FaultRecord;
  readonly healAt: number;
  timer: ReturnType<typeof setTimeout> | null;
  healing: Promise<void> | null;
}

/**
 * Injects faults, heals each one `holdMs` later (or all at once on `healAll`),
 * and keeps the record of every fault for the summary and the timeline.
 * Times are on the shared clock; events are shown relative to `startMs()`.
 */
export class FaultInjector {
  readonly records: FaultRecord[] = [];
  readonly #active = new Set<ActiveFault>();
  readonly #view: LiveView;
  readonly #startMs: () => number;

  constructor(view: LiveView, startMs: () => number) {
    this.#view = view;
    this.#startMs = startMs;
  }

  /** The fault `candidate` is under, if any. */
  underFault(candidate: string): { readonly kind: FaultKind; readonly healAt: number } | null {
    for (const a of this.#active) if (a.fault.victim.id === candidate) return { kind: a.fault.kind, healAt: a.healAt };
    return null;
  }

  async inject(fault: Fault): Promise<void> {
    const record: FaultRecord = {
      kind: fault.kind,
      victim: fault.victim.id,
      victimToken: fault.victim.selected ? fault.victim.token : null,
      atMs: sharedNow(),
      healedAtMs: null,
      failover: null,
    };
    this.records.push(record);
    const active: ActiveFault = { fault, record, healAt: record.atMs + fault.holdMs, timer: null, healing: null };
    this.#active.add(active);
    const leader = record.victimToken ? ` (leader, token ${record.victimToken})` : '';
    this.#view.event(
      record.atMs - this.#startMs(),
      `fault: ${FAULT_LABEL[fault.kind]} of ${fault.victim.id}${leader}`,
      'fault',
    );
    await fault.inject();
    active.timer = setTimeout(() => void this.#heal(active), Math.max(0, active.healAt - sharedNow()));
  }

  /** Heals every active fault now. */
  async healAll(): Promise<void> {
    await Promise.all([...this.#active].map((a) => this.#heal(a)));
  }

  /** Cancels the pending heal timers (teardown restores the victims itself). */
  dispose(): void {
    for (const a of this.#active) if (a.timer) clearTimeout(a.timer);
  }

  #heal(active: ActiveFault): Promise<void> {
    if (active.timer) clearTimeout(active.timer);
    active.timer = null;
    active.healing ??= active.fault.heal().then(() => {
      active.record.healedAtMs = sharedNow();
      this.#active.delete(active);
      const verb = active.fault.kind === 'stop' || active.fault.kind === 'crash' ? 'restarted' : 'healed';
      this.#view.event(active.record.healedAtMs - this.#startMs(), `${active.fault.victim.id} ${verb}`, 'heal');
    });
    return active.healing;
  }
}
