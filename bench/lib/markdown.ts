/** A GitHub-flavoured markdown table; numeric-looking columns are right-aligned. */
export function table(header: string[], rows: string[][]): string {
  const numeric = header.map((_, i) => rows.length > 0 && rows.every((r) => /^[-–0-9.,%×<>≤ ]*$/.test(r[i] ?? '')));
  const sep = numeric.map((n) => (n ? '---:' : '---'));
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(sep), ...rows.map(line)].join('\n');
}
