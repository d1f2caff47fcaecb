import type { DemoReport } from './demo.js';
import { FAULT_LABEL, type FaultKind } from './faults.js';

/**
 * Who led when, as an SVG: one lane per candidate, a bar per leadership
 * interval (labelled with its token), each fault marked by a dashed line at its
 * injection and a band over the victim's lane for as long as it lasted.
 */
const COLORS: Record<FaultKind, string> = {
  stop: '#4c78a8',
  crash: '#e45756',
  pause: '#f58518',
  cut: '#b279a2',
  preempt: '#54a24b',
};
const SHORT: Record<FaultKind, string> = {
  stop: 'stop',
  crash: 'crash',
  pause: 'pause',
  cut: 'cut',
  preempt: 'preempt',
};
const LEAD = '#54a24b';

export function timelineSvg(report: DemoReport, title: string): string {
  const width = 1000;
  const left = 60;
  const right = 20;
  const top = 78;
  const lane = 34;
  const lanes = report.candidates.length;
  const plotBottom = top + lanes * lane;
  const height = plotBottom + 78;
  const t0 = report.startMs;
  const span = Math.max(1, report.endMs - t0);
  const x = (ms: number): number => left + ((ms - t0) / span) * (width - left - right);
  const y = (id: string): number => top + report.candidates.indexOf(id) * lane;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`,
  );
  // lanes
  report.candidates.forEach((id, i) => {
    const ly = top + i * lane;
    out.push(
      `<rect x="${left}" y="${ly}" width="${width - left - right}" height="${lane}" fill="${i % 2 ? '#ffffff' : '#f4f4f4'}"/>`,
      `<text x="${left - 10}" y="${ly + lane / 2 + 4}" text-anchor="end" font-weight="bold">${esc(id)}</text>`,
    );
  });
  // fault bands on the victim's lane
  for (const f of report.faults) {
    const x1 = x(f.atMs);
    const x2 = x(f.healedAtMs ?? report.endMs);
    out.push(
      `<rect x="${x1.toFixed(1)}" y="${y(f.victim) + 2}" width="${Math.max(1, x2 - x1).toFixed(1)}" height="${lane - 4}" fill="${COLORS[f.kind]}" fill-opacity="0.22" stroke="${COLORS[f.kind]}" stroke-opacity="0.6"/>`,
    );
  }
  // leadership intervals
  for (const i of report.intervals) {
    const x1 = x(i.startMs);
    const w = Math.max(1.5, x(i.endMs) - x1);
    const ly = y(i.candidate);
    out.push(
      `<rect x="${x1.toFixed(1)}" y="${ly + 8}" width="${w.toFixed(1)}" height="${lane - 16}" rx="3" fill="${LEAD}"/>`,
    );
    if (w > 44) {
      out.push(
        `<text x="${(x1 + w / 2).toFixed(1)}" y="${ly + lane / 2 + 4}" text-anchor="middle" fill="#ffffff" font-size="11">token ${esc(i.token)}</text>`,
      );
    }
  }
  // fault markers: a dashed line across all lanes, a label above (two rows so neighbours do not collide)
  report.faults.forEach((f, n) => {
    const fx = x(f.atMs);
    const ly = n % 2 === 0 ? top - 24 : top - 8;
    out.push(
      `<line x1="${fx.toFixed(1)}" y1="${ly + 4}" x2="${fx.toFixed(1)}" y2="${plotBottom}" stroke="${COLORS[f.kind]}" stroke-width="1.5" stroke-dasharray="4 3"/>`,
      `<text x="${(fx + 3).toFixed(1)}" y="${ly}" fill="${COLORS[f.kind]}" font-weight="bold">${SHORT[f.kind]} ${esc(f.victim)}</text>`,
    );
  });
  // time axis
  out.push(`<line x1="${left}" y1="${plotBottom}" x2="${width - right}" y2="${plotBottom}" stroke="#333"/>`);
  const stepMs = span > 60_000 ? 10_000 : span > 20_000 ? 5000 : 2000;
  for (let ms = 0; ms <= span; ms += stepMs) {
    const tx = x(t0 + ms);
    out.push(
      `<line x1="${tx.toFixed(1)}" y1="${plotBottom}" x2="${tx.toFixed(1)}" y2="${plotBottom + 5}" stroke="#333"/>`,
      `<text x="${tx.toFixed(1)}" y="${plotBottom + 18}" text-anchor="middle">${ms / 1000} s</text>`,
    );
  }
  // legend
  const ly = plotBottom + 44;
  let lx = left;
  out.push(
    `<rect x="${lx}" y="${ly - 10}" width="22" height="12" rx="3" fill="${LEAD}"/>`,
    `<text x="${lx + 28}" y="${ly}">leading (isSelected() samples)</text>`,
  );
  lx += 220;
  for (const kind of Object.keys(COLORS) as FaultKind[]) {
    out.push(
      `<rect x="${lx}" y="${ly - 10}" width="22" height="12" fill="${COLORS[kind]}" fill-opacity="0.22" stroke="${COLORS[kind]}"/>`,
      `<text x="${lx + 28}" y="${ly}">${esc(FAULT_LABEL[kind])}</text>`,
    );
    lx += 170;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
