import { decodeData, type Candidate } from '../api.js';

/** A candidate as the CLI shows it: the seed's id and value decoded from the stored data string. */
export interface CandidateView {
  readonly id: string;
  readonly value: string;
  readonly token: bigint;
  readonly key: string;
  readonly lease: string;
}

export function viewOf(candidate: Candidate): CandidateView {
  const lease = candidate.leaseId.toString(16);
  const { id, value } = decodeData(candidate.value, lease);
  return { id, value, token: candidate.token, key: candidate.key, lease };
}

/** JSON form: bigints as decimal strings (JSON numbers lose int64 precision). */
export function jsonOf(view: CandidateView): Record<string, string> {
  return { id: view.id, value: view.value, token: view.token.toString(), key: view.key, lease: view.lease };
}
