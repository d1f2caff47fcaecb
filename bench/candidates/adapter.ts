import type { TransportTrace } from '../../src/transport/trace.js';
import type { JoinConfig } from './protocol.js';

/** What a candidate implementation tells the child's reporter. */
export interface Hooks {
  /** This candidate leads now. */
  elected(): void;
  /** Its lease was renewed (keepalive answered) — the crash-handover floor is measured from the last one. */
  renewed(): void;
  /** It no longer leads. */
  deposed(): void;
  error(err: unknown): void;
}

/** One candidacy in one election. */
export interface Contender {
  /** Begins campaigning; must not block (progress is reported through the hooks). */
  start(): void;
  /** Leaves the election the library's graceful way (resign / stop); resolves when the library says it is done. */
  stop(): Promise<void>;
}

/** One connection to etcd, on which candidacies are made. */
export interface Adapter {
  join(config: JoinConfig, hooks: Hooks): Contender;
  close(): Promise<void>;
}

/** Connects; locked's adapters add `trace` (bench:steps' recorder) to each client they create. */
export type Connect = (endpoints: string, trace?: TransportTrace) => Promise<Adapter>;
