/**
 * The report's chart as a hand-written SVG (no browser, no library): one panel per headline figure,
 * a group of bars per link, a bar per tool, on a log scale (the tools differ by orders of
 * magnitude on bad links). A bar that gave up at the report's cap is hatched and labelled `>`.
 * Targets are dashed lines over the link they apply to. Pure.
 */
import { BENCH_LINKS, type LinkProfileId } from './link-profiles.js';
import { findMeasurement, metricInfo, type Measurement, type MetricId } from './report-metrics.js';
import { CTRL_C_LIMIT_MS, SEQ_LIMIT_MS, TARGET_LINK } from './report-targets.js';
import type { ToolName } from './remote-shell.js';

export interface ChartInput {
  readonly title: string;
  readonly subtitle: string;
  readonly measurements: readonly Measurement[];
  readonly links: readonly LinkProfileId[];
  readonly tools: readonly ToolName[];
}

interface Panel {
  readonly metric: MetricId;
  readonly title: string;
  /** A target drawn as a dashed line over one link's bars. */
  readonly target?: { readonly link: LinkProfileId; readonly value: number };
}

const PANELS: readonly Panel[] = [
  { metric: 'keyDisplayMedian', title: 'keystroke → screen, median (ms)' },
  { metric: 'keyConfirmMedian', title: 'keystroke → server echo, median (ms)' },
  { metric: 'ctrlC', title: 'Ctrl-C in runaway seq → prompt (ms)', target: { link: TARGET_LINK, value: CTRL_C_LIMIT_MS } },
  { metric: 'seq', title: 'seq 1 200000 → prompt (ms)', target: { link: TARGET_LINK, value: SEQ_LIMIT_MS } },
  { metric: 'seqWire', title: 'bytes on the wire, seq 1 200000 (KiB)' },
  { metric: 'ctrlCWire', title: 'bytes on the wire, Ctrl-C run (KiB)' },
];

export const TOOL_COLORS: Readonly<Record<ToolName, string>> = { tsmosh: '#1f77b4', mosh: '#2ca02c', ssh: '#d62728' };

const SHORT_LINK: Readonly<Record<LinkProfileId, string>> = {
  clean: 'clean',
  rtt50: '50 ms',
  'rtt250-loss5': '250 ms 5%',
  'rtt500-loss20': '500 ms 20%',
};

const WIDTH = 1020;
const COLS = 2;
const PANEL_W = 490;
const PANEL_H = 250;
const MARGIN_X = 20;
const GAP = 22;
const PLOT = { left: 46, right: 8, top: 26, bottom: 34 };

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** 1234 → "1.2k", 0.42 → "0.42": short labels above bars. */
export function compactNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(a >= 1e7 ? 0 : 1)}M`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(a >= 1e4 ? 0 : 1)}k`;
  if (a >= 10) return v.toFixed(0);
  if (a >= 1) return v.toFixed(1);
  return v.toFixed(2);
}

function tickLabel(exp: number): string {
  return compactNumber(10 ** exp);
}

function panelSvg(panel: Panel, input: ChartInput, x0: number, y0: number): string {
  const out: string[] = [];
  const w = PANEL_W - PLOT.left - PLOT.right;
  const h = PANEL_H - PLOT.top - PLOT.bottom;
  const px = x0 + PLOT.left;
  const py = y0 + PLOT.top;
  const target = panel.target !== undefined && input.links.includes(panel.target.link) ? ` · dashed: target ≤ ${compactNumber(panel.target.value)}` : '';
  out.push(`<text x="${x0 + PANEL_W / 2}" y="${y0 + 14}" class="pt">${escapeXml(panel.title + target)}</text>`);
  const values: number[] = [];
  for (const link of input.links) {
    for (const tool of input.tools) {
      const m = findMeasurement(input.measurements, tool, link, panel.metric);
      if (m?.value !== null && m?.value !== undefined && m.value > 0) values.push(m.value);
    }
  }
  if (panel.target !== undefined && input.links.includes(panel.target.link)) values.push(panel.target.value);
  if (values.length === 0) {
    out.push(`<text x="${x0 + PANEL_W / 2}" y="${y0 + PANEL_H / 2}" class="na">not measured</text>`);
    return out.join('\n');
  }
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(...values))));
  const yOf = (v: number): number => py + h - ((Math.log10(Math.max(v, 10 ** lo)) - lo) / (hi - lo)) * h;
  for (let e = lo; e <= hi; e++) {
    const y = yOf(10 ** e).toFixed(1);
    out.push(`<line x1="${px}" y1="${y}" x2="${px + w}" y2="${y}" class="grid"/>`);
    out.push(`<text x="${px - 4}" y="${Number(y) + 3.5}" class="tick">${tickLabel(e)}</text>`);
  }
  out.push(`<line x1="${px}" y1="${py + h}" x2="${px + w}" y2="${py + h}" class="axis"/>`);
  const groupW = w / input.links.length;
  const barW = Math.min(28, (groupW - 12) / input.tools.length);
  input.links.forEach((link, g) => {
    const gx = px + g * groupW;
    const barsX = gx + (groupW - barW * input.tools.length) / 2;
    out.push(`<text x="${gx + groupW / 2}" y="${py + h + 14}" class="xl">${escapeXml(SHORT_LINK[link])}</text>`);
    input.tools.forEach((tool, t) => {
      const bx = barsX + t * barW;
      const m = findMeasurement(input.measurements, tool, link, panel.metric);
      if (m === undefined || m.value === null) {
        out.push(`<text x="${bx + barW / 2}" y="${py + h - 4}" class="vl na">–</text>`);
        return;
      }
      const y = yOf(m.value);
      const fill = m.atLeast === true ? `url(#hatch-${tool})` : TOOL_COLORS[tool];
      out.push(`<rect x="${(bx + 1).toFixed(1)}" y="${y.toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${(py + h - y).toFixed(1)}" fill="${fill}"><title>${escapeXml(`${tool}, ${link}: ${m.atLeast === true ? 'more than ' : ''}${m.value.toFixed(metricInfo(m.metric).digits)} ${metricInfo(m.metric).unit}`)}</title></rect>`);
      out.push(`<text x="${(bx + barW / 2).toFixed(1)}" y="${(y - 3).toFixed(1)}" class="vl">${m.atLeast === true ? '&gt;' : ''}${compactNumber(m.value)}</text>`);
    });
    if (panel.target !== undefined && panel.target.link === link) {
      const ty = yOf(panel.target.value).toFixed(1);
      out.push(`<line x1="${gx + 2}" y1="${ty}" x2="${gx + groupW - 2}" y2="${ty}" class="target"><title>target: at most ${panel.target.value}</title></line>`);
    }
  });
  return out.join('\n');
}

/** Splits `text` at spaces into lines of at most `max` characters (a longer word gets a line of its own). */
export function wrapText(text: string, max: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    if (line !== '' && line.length + 1 + word.length > max) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  if (line !== '') lines.push(line);
  return lines;
}

/** About how many characters of 11 px text fit across the chart. */
const SMALL_TEXT_CHARS = Math.floor((WIDTH - 2 * MARGIN_X) / 6.1);
const LINE_H = 14;

export function renderChart(input: ChartInput): string {
  const header: string[] = [`<text x="${MARGIN_X}" y="24" class="t">${escapeXml(input.title)}</text>`];
  let y = 42;
  for (const line of wrapText(input.subtitle, SMALL_TEXT_CHARS)) {
    header.push(`<text x="${MARGIN_X}" y="${y}" class="st">${escapeXml(line)}</text>`);
    y += LINE_H;
  }
  y += 4;
  input.tools.forEach((tool, i) => {
    header.push(`<rect x="${MARGIN_X + i * 110}" y="${y - 10}" width="12" height="12" fill="${TOOL_COLORS[tool]}"/><text x="${MARGIN_X + 18 + i * 110}" y="${y + 0.5}" class="lg">${tool}</text>`);
  });
  y += LINE_H + 4;
  const note = `Log scale. Hatched: gave up at the cap (the true value is larger). Links: ${input.links.map((l) => `${SHORT_LINK[l]} = ${BENCH_LINKS.find((b) => b.id === l)!.label}`).join('; ')}.`;
  for (const line of wrapText(note, SMALL_TEXT_CHARS)) {
    header.push(`<text x="${MARGIN_X}" y="${y}" class="st">${escapeXml(line)}</text>`);
    y += LINE_H;
  }
  const top = y + 6;
  const rows = Math.ceil(PANELS.length / COLS);
  const height = top + rows * (PANEL_H + GAP) + 10;
  const patterns = input.tools
    .map(
      (tool) =>
        `<pattern id="hatch-${tool}" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect width="6" height="6" fill="${TOOL_COLORS[tool]}" opacity="0.35"/><line x1="0" y1="0" x2="0" y2="6" stroke="${TOOL_COLORS[tool]}" stroke-width="3"/></pattern>`,
    )
    .join('\n');
  const panels = PANELS.map((panel, i) => panelSvg(panel, input, MARGIN_X + (i % COLS) * PANEL_W, top + Math.floor(i / COLS) * (PANEL_H + GAP)));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif">`,
    '<style>',
    '.t{font-size:17px;font-weight:bold}.st{font-size:11px;fill:#444}.pt{font-size:12.5px;font-weight:bold;text-anchor:middle}',
    '.tick{font-size:9.5px;text-anchor:end;fill:#555}.xl{font-size:10px;text-anchor:middle;fill:#333}.vl{font-size:8.5px;text-anchor:middle;fill:#222}',
    '.na{font-size:11px;text-anchor:middle;fill:#999}.lg{font-size:12px}.grid{stroke:#e3e3e3;stroke-width:1}.axis{stroke:#888;stroke-width:1}',
    '.target{stroke:#000;stroke-width:1.5;stroke-dasharray:5 3}',
    '</style>',
    `<defs>${patterns}</defs>`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    ...header,
    ...panels,
    '</svg>',
    '',
  ].join('\n');
}
