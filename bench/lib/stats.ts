/** Order statistics of a sample, as the benchmark reports them. */
export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly median: number;
  readonly p90: number;
  /** Nearest rank: the largest sample when there are fewer than 100. */
  readonly p99: number;
  readonly max: number;
}

/** Nearest-rank percentile (p in 0..100) of sorted values. */
function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function summarize(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length / 2;
  const median =
    sorted.length === 0
      ? NaN
      : sorted.length % 2 === 1
        ? sorted[Math.floor(mid)]!
        : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return {
    n: sorted.length,
    min: sorted[0] ?? NaN,
    median,
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: sorted[sorted.length - 1] ?? NaN,
  };
}

/** A number for a table: ms with sensible precision, '–' for missing. */
/** Count, median and p90 of `values` as table cells ('0', '–', '–' when there are none). */
export function countMedianP90(values: readonly number[]): string[] {
  if (values.length === 0) return ['0', '–', '–'];
  const s = summarize(values);
  return [String(s.n), fmt(s.median), fmt(s.p90)];
}

export function fmt(value: number, digits?: number): string {
  if (!Number.isFinite(value)) return '–';
  const d = digits ?? (Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2);
  return value.toFixed(d);
}

/** Seeded PRNG (mulberry32), so a run's random phases can be repeated from the printed seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Bytes as whole MiB, for the reports. */
export function mb(bytes: number): string {
  return fmt(bytes / 2 ** 20, 0);
}
