import { decodeData, type Candidate } from '../api.js';

/** A candidate as the CLI shows it: the seed's id and value decoded from the stored data string. */
export interface CandidateView {
  readonly id: string;
  readonly value: string;
  readonly token: bigint;
  readonly key: string;
  readonly lease: string;
  /** Its priority (docs/DESIGN.md, "Priority"); 0 when it set none. */
  readonly priority: number;
}

export function viewOf(candidate: Candidate & { readonly priority?: number }): CandidateView {
  const lease = candidate.leaseId.toString(16);
  const { id, value } = decodeData(candidate.value, lease);
  return { id, value, token: candidate.token, key: candidate.key, lease, priority: candidate.priority ?? 0 };
}

/** JSON form: bigints as decimal strings (JSON numbers lose int64 precision); the priority a number. */
export function jsonOf(view: CandidateView): Record<string, string | number> {
  const { id, value, key, lease, priority } = view;
  return { id, value, token: view.token.toString(), key, lease, priority };
}
