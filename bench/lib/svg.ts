/**
 * Simple horizontal bar charts as standalone SVG (no dependencies): one bar
 * per row at the median, a whisker to the p90 and a tick at the max, the
 * number printed beside it. Rows can be grouped under headings.
 */
export interface Bar {
  readonly label: string;
  readonly value: number;
  readonly p90?: number;
  readonly max?: number;
  /** Text printed after the bar (default: the value and unit). */
  readonly note?: string;
  /** Highlight (locked's bars). */
  readonly accent?: boolean;
}

export interface Group {
  readonly title?: string;
  readonly bars: readonly Bar[];
}

export interface Chart {
  readonly title: string;
  readonly unit: string;
  readonly groups: readonly Group[];
  /** Log scale for values spanning orders of magnitude. */
  readonly log?: boolean;
  /** A vertical reference line (e.g. a target or the floor) per group title, or for all. */
  readonly reference?: { readonly value: number; readonly label: string };
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function formatValue(v: number, unit: string): string {
  if (!Number.isFinite(v)) return 'n/a';
  const digits = Math.abs(v) >= 100 ? 0 : Math.abs(v) >= 10 ? 1 : 2;
  return `${v.toFixed(digits)} ${unit}`;
}

export function barChart(chart: Chart): string {
  const labelW = 250;
  const plotW = 430;
  const noteW = 150;
  const rowH = 22;
  const headH = 22;
  const width = labelW + plotW + noteW;
  const all = chart.groups.flatMap((g) => g.bars);
  const finite = all.flatMap((b) => [b.value, b.p90 ?? b.value, b.max ?? b.value]).filter((v) => Number.isFinite(v));
  if (chart.reference) finite.push(chart.reference.value);
  const top = Math.max(...finite, 1e-9);
  const low = chart.log ? Math.max(Math.min(...finite.filter((v) => v > 0), top) / 2, 1e-6) : 0;
  const x = (v: number): number => {
    if (!Number.isFinite(v) || v <= 0) return labelW;
    if (chart.log) {
      const span = Math.log10(top * 1.1) - Math.log10(low);
      return labelW + (Math.max(0, Math.log10(v) - Math.log10(low)) / span) * plotW;
    }
    return labelW + (v / (top * 1.05)) * plotW;
  };
  const parts: string[] = [];
  let y = 40;
  for (const group of chart.groups) {
    if (group.title) {
      parts.push(`<text x="8" y="${y + 15}" font-weight="bold">${esc(group.title)}</text>`);
      y += headH;
    }
    for (const bar of group.bars) {
      const fill = bar.accent ? '#2b6cb0' : '#a0aec0';
      const mid = y + rowH / 2;
      parts.push(`<text x="${labelW - 8}" y="${mid + 4}" text-anchor="end">${esc(bar.label)}</text>`);
      if (Number.isFinite(bar.value)) {
        parts.push(
          `<rect x="${labelW}" y="${y + 4}" width="${Math.max(1, x(bar.value) - labelW).toFixed(1)}" height="${rowH - 8}" fill="${fill}"/>`,
        );
      }
      if (bar.p90 !== undefined && Number.isFinite(bar.p90) && bar.p90 > bar.value) {
        parts.push(
          `<line x1="${x(bar.value).toFixed(1)}" y1="${mid}" x2="${x(bar.p90).toFixed(1)}" y2="${mid}" stroke="#1a202c"/>`,
        );
      }
      if (bar.max !== undefined && Number.isFinite(bar.max)) {
        parts.push(
          `<line x1="${x(bar.max).toFixed(1)}" y1="${y + 6}" x2="${x(bar.max).toFixed(1)}" y2="${y + rowH - 6}" stroke="#c53030"/>`,
        );
      }
      const note = bar.note ?? formatValue(bar.value, chart.unit);
      parts.push(`<text x="${labelW + plotW + 8}" y="${mid + 4}">${esc(note)}</text>`);
      y += rowH;
    }
    y += 6;
  }
  if (chart.reference) {
    const rx = x(chart.reference.value).toFixed(1);
    parts.push(`<line x1="${rx}" y1="34" x2="${rx}" y2="${y}" stroke="#dd6b20" stroke-dasharray="4 3"/>`);
    parts.push(
      `<text x="${rx}" y="${y + 14}" text-anchor="middle" fill="#dd6b20">${esc(chart.reference.label)}</text>`,
    );
    y += 16;
  }
  const legend = `bar: median · line: to p90 · red tick: max${chart.log ? ' · log scale' : ''}`;
  parts.push(`<text x="8" y="${y + 16}" fill="#4a5568" font-size="11">${esc(legend)}</text>`);
  const height = y + 26;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="8" y="22" font-size="15" font-weight="bold">${esc(chart.title)}</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
