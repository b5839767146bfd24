// An accessible SVG line chart of history and forecast; no dependencies.
const NS = 'http://www.w3.org/2000/svg';

function el(name, attrs = {}, text) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** "P10–P90" for the levels [0.1, 0.9]. */
export function intervalName([lo, hi]) {
  const p = (l) => `P${Math.round(l * 1000) / 10}`;
  return `${p(lo)}–${p(hi)}`;
}

/**
 * The band a forecast's quantiles draw (outermost levels), or null: what
 * `predictCsv` returns as `quantiles` ({levels, values}).
 */
export function bandOf(quantiles) {
  if (!quantiles || quantiles.levels.length < 2) return null;
  const levels = [quantiles.levels[0], quantiles.levels.at(-1)];
  return { levels, lower: quantiles.values[0], upper: quantiles.values.at(-1), name: intervalName(levels) };
}

/** The screen-reader sentence for a band: "between A and B on most days". */
export function describeBand(label, band) {
  const lo = Math.min(...band.lower);
  const hi = Math.max(...band.upper);
  const share = Math.round((band.levels[1] - band.levels[0]) * 100);
  return `${label}: sales expected between ${lo.toFixed(1)} and ${hi.toFixed(1)} on most days (${band.name}, ${share}% of days).`;
}

/**
 * Renders history (dates, values) and one or more forecasts into an <svg>.
 * forecasts: [{label, dates, values, color, band?}] where band is bandOf(quantiles).
 */
export function renderChart({ title, history, forecasts, width = 640, height = 260 }) {
  const bands = forecasts.filter((f) => f.band).map((f) => ({ label: `${f.band.name} ${f.label}`, color: f.color, band: true }));
  const lines = forecasts.map(({ label, color }) => ({ label, color }));
  const legend = legendLayout([{ label: 'history', color: HISTORY_COLOR }, ...lines, ...bands], width);
  const pad = { l: 48, r: 12, t: 28, b: 28 + legend.height };
  const total = height + legend.height;
  const svg = el('svg', { viewBox: `0 0 ${width} ${total}`, role: 'img', width: '100%', class: 'forecast-chart' });
  const summary = forecasts
    .map((f) => `${f.label}: ${f.values.map((v) => v.toFixed(1)).join(', ')}`)
    .join('; ');
  svg.append(el('title', {}, title));
  const bandText = forecasts.filter((f) => f.band).map((f) => describeBand(f.label, f.band)).join(' ');
  svg.append(el('desc', {}, `History of ${history.values.length} days, then forecasts. ${summary}. ${bandText}`.trim()));
  const all = [...history.values, ...forecasts.flatMap((f) => [...f.values, ...(f.band?.upper ?? [])])];
  const max = Math.max(1, ...all) * 1.1;
  const n = history.values.length + Math.max(0, ...forecasts.map((f) => f.values.length));
  const x = (i) => pad.l + (i / Math.max(1, n - 1)) * (width - pad.l - pad.r);
  const y = (v) => total - pad.b - (v / max) * (total - pad.t - pad.b);
  svg.append(el('text', { x: pad.l, y: 18, class: 'chart-title' }, title));
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    svg.append(el('line', { x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v), stroke: '#e3e3e3' }));
    svg.append(el('text', { x: pad.l - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 10 }, v.toFixed(0)));
  }
  const start = history.values.length - 1;
  const firstForecast = forecasts[0]?.dates[0];
  if (firstForecast) {
    // where history ends and the forecast begins
    svg.append(el('line', { x1: x(start), x2: x(start), y1: pad.t, y2: y(0), stroke: '#999', 'stroke-dasharray': '4 3', class: 'forecast-start' }));
    svg.append(el('text', { x: x(start) - 4, y: pad.t + 10, 'font-size': 10, fill: '#666', 'text-anchor': 'end' }, `forecast from ${firstForecast}`));
  }
  const path = (values, offset) => values.map((v, i) => `${i ? 'L' : 'M'}${x(i + offset).toFixed(1)},${y(v).toFixed(1)}`).join('');
  for (const f of forecasts.filter((f) => f.band)) {
    // upper edge left to right, lower edge back, from the last history day
    const upper = [history.values[start], ...f.band.upper];
    const lower = [history.values[start], ...f.band.lower].reverse();
    const d = `${path(upper, start)}${lower.map((v, i) => `L${x(start + lower.length - 1 - i).toFixed(1)},${y(v).toFixed(1)}`).join('')}Z`;
    svg.append(el('path', { d, fill: f.color, 'fill-opacity': 0.18, stroke: 'none', class: 'forecast-band', 'data-label': f.label }));
  }
  svg.append(el('path', { d: path(history.values, 0), fill: 'none', stroke: HISTORY_COLOR, 'stroke-width': 1.5, class: 'history-line' }));
  for (const f of forecasts) {
    const vals = [history.values[start], ...f.values];
    svg.append(el('path', { d: path(vals, start), fill: 'none', stroke: f.color, 'stroke-width': 2, class: 'forecast-line', 'data-label': f.label }));
  }
  const first = history.dates[0] ?? '';
  const last = forecasts[0]?.dates.at(-1) ?? history.dates.at(-1) ?? '';
  const axisY = total - pad.b + 20;
  svg.append(el('text', { x: pad.l, y: axisY, 'font-size': 10 }, first));
  svg.append(el('text', { x: width - pad.r, y: axisY, 'font-size': 10, 'text-anchor': 'end' }, last));
  const g = el('g', { class: 'legend', 'aria-hidden': 'true' });
  for (const item of legend.items) {
    const top = axisY + 8 + item.row * LEGEND_ROW;
    g.append(item.band
      ? el('rect', { x: pad.l + item.x, y: top + 1, width: 16, height: 10, fill: item.color, 'fill-opacity': 0.18, class: 'legend-band' })
      : el('line', { x1: pad.l + item.x, x2: pad.l + item.x + 16, y1: top + 6, y2: top + 6, stroke: item.color, 'stroke-width': 2 }));
    g.append(el('text', { x: pad.l + item.x + 20, y: top + 10, 'font-size': 10 }, item.label));
  }
  svg.append(g);
  return svg;
}

const HISTORY_COLOR = '#555';
const LEGEND_ROW = 16;

/** Places legend entries left to right, wrapping rows; widths are estimated (no layout pass). */
function legendLayout(entries, width) {
  const avail = width - 60;
  let x = 0;
  let row = 0;
  const items = entries.map(({ label, color, band }) => {
    const w = 20 + label.length * 6 + 16;
    if (x > 0 && x + w > avail) { x = 0; row += 1; }
    const item = { label, color, band, x, row };
    x += w;
    return item;
  });
  return { items, height: (row + 1) * LEGEND_ROW + 4 };
}
