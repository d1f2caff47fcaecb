/**
 * etcd's int64s are bigints here (revisions, lease IDs); the etcd3 package
 * hands them over as decimal strings. Key helpers follow etcd's Go client.
 */

export function toBigInt(decimal: string | number | undefined | null): bigint {
  if (decimal === undefined || decimal === null || decimal === '') return 0n;
  return BigInt(decimal);
}

/** Lower-case hex of a lease ID, as Go's `fmt.Sprintf("%x", leaseID)` writes it in election keys. */
export function leaseHex(leaseId: bigint): string {
  return leaseId.toString(16);
}

/** The key of a candidate: `<election>/<lease hex>` (concurrency.Election's layout). */
export function candidateKey(electionName: string, leaseId: bigint): string {
  return `${electionName}/${leaseHex(leaseId)}`;
}

/** The smallest key greater than every key that starts with `prefix` (Go's GetPrefixRangeEnd). */
export function prefixEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // all 0xff: range to the end of the keyspace
}
