/** Display names of the implementations compared. */
export const LABELS: Record<string, string> = {
  locked: 'locked 3',
  'locked-core': 'locked 3 (core API)',
  etcd3: 'npm etcd3 Election',
  v3election: 'etcd v3election (Go concurrency.Election in etcd)',
  etcdctl: 'etcdctl elect (60 s session)',
  'locked-v2': 'locked 2.4.1 (etcd v2 API)',
};

export const label = (kind: string): string => LABELS[kind] ?? kind;
