/**
 * The bench's SVG chart, drawn by hand (no chart library): one row per scenario with a bar of req/s on
 * a log scale beside the bare node:http floor (a dashed line), its share of the floor, and a bar of
 * its p99 latency on a scale of its own. Text only from the bench's own figures, escaped anyway.
 */
export type ChartRow = { name: string; rps: number; p50: number; p99: number; non2xx: number };

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));

export function benchChartSvg(rows: ChartRow[], floor: number, title: string): string {
  const labelW = 250;
  const rpsW = 420;
  const ratioW = 70;
  const p99W = 230;
  const rowH = 26;
  const top = 58;
  const width = labelW + rpsW + ratioW + p99W + 40;
  const height = top + rows.length * rowH + 40;
  const maxRps = Math.max(floor, ...rows.map((r) => r.rps), 10);
  // Log scale from 1 req/s: the rows span four orders of magnitude.
  const x = (rps: number) => (Math.log10(Math.max(rps, 1)) / Math.log10(maxRps)) * rpsW;
  const maxP99 = Math.max(1, ...rows.map((r) => r.p99));
  const px = (ms: number) => (ms / maxP99) * (p99W - 60);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="10" y="20" font-size="14" font-weight="bold" fill="#111">${esc(title)}</text>`);
  out.push(`<text x="${labelW}" y="44" fill="#444">req/s (log scale; dashed: bare node:http ${fmt(floor)} req/s)</text>`);
  out.push(`<text x="${labelW + rpsW + 8}" y="44" fill="#444">× floor</text>`);
  out.push(`<text x="${labelW + rpsW + ratioW + 8}" y="44" fill="#444">p99 ms</text>`);
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    const fill = r.non2xx > 0 ? "#c0392b" : "#2e86c1";
    out.push(`<text x="10" y="${y + 15}" fill="#111">${esc(r.name)}</text>`);
    out.push(`<rect x="${labelW}" y="${y + 4}" width="${x(r.rps).toFixed(1)}" height="${rowH - 10}" fill="${fill}"/>`);
    out.push(`<text x="${labelW + x(r.rps) + 4}" y="${y + 15}" fill="#111">${fmt(r.rps)}</text>`);
    out.push(`<text x="${labelW + rpsW + 8}" y="${y + 15}" fill="#111">${(r.rps / floor).toFixed(3)}</text>`);
    out.push(`<rect x="${labelW + rpsW + ratioW + 8}" y="${y + 4}" width="${px(r.p99).toFixed(1)}" height="${rowH - 10}" fill="#e67e22"/>`);
    out.push(`<text x="${labelW + rpsW + ratioW + 12 + px(r.p99)}" y="${y + 15}" fill="#111">${fmt(r.p99)}</text>`);
  });
  const fx = labelW + x(floor);
  out.push(`<line x1="${fx.toFixed(1)}" y1="${top - 4}" x2="${fx.toFixed(1)}" y2="${top + rows.length * rowH}" stroke="#111" stroke-dasharray="4 3"/>`);
  out.push(`<text x="10" y="${height - 12}" fill="#666">red bar: the scenario answered non-2xx responses</text>`);
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
