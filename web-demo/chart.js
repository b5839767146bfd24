// An accessible SVG line chart of history and forecast; no dependencies.
// Drawn at the pixel width it is shown at, so its text stays readable on a
// phone; colours are CSS values (custom properties work).
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
 * The band a forecast's `interval` ({levels, lower, upper}: its outermost
 * quantiles, from `Forecaster.predict`) draws, with its name; null for none.
 */
export function bandOf(interval) {
  return interval ? { ...interval, name: intervalName(interval.levels) } : null;
}

/** The screen-reader sentence for a band: "between A and B on most days". */
export function describeBand(label, band) {
  const lo = Math.min(...band.lower);
  const hi = Math.max(...band.upper);
  const share = Math.round((band.levels[1] - band.levels[0]) * 100);
  return `${label}: sales expected between ${lo.toFixed(1)} and ${hi.toFixed(1)} on most days (${band.name}, ${share}% of days).`;
}

/** Round axis ticks (steps of 1, 2 or 5 × 10^k) from 0 to at least `max`. */
export function niceTicks(max, count = 5) {
  const raw = Math.max(max, 1e-9) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  const ticks = [];
  for (let v = 0; v < max + step * 0.999; v += step) ticks.push(Math.round(v / step) * step);
  return ticks;
}

const DAY = 86400000;
const dayOf = (iso) => Date.parse(`${iso}T00:00:00Z`) / DAY;
const isoOf = (day) => new Date(day * DAY).toISOString().slice(0, 10);

/** Date ticks every 1, 2, 7, 14 days or 1, 2, 3, 6, 12 months, at most `most` of them. */
export function dateTicks(first, last, most) {
  const [a, b] = [dayOf(first), dayOf(last)];
  const span = b - a;
  const step = [1, 2, 7, 14].find((s) => span / s <= most - 1);
  if (step) {
    // weekly ticks on Mondays (1970-01-05 was one)
    const start = step >= 7 ? a + ((((4 - a) % 7) + 7) % 7) : a;
    const out = [];
    for (let d = start; d <= b; d += step) out.push(isoOf(d));
    return out;
  }
  // month starts inside the range: about span / months of them
  const months = [1, 2, 3, 6, 12].find((m) => span / (30.44 * m) <= most) ?? 24;
  const out = [];
  const d = new Date(a * DAY);
  d.setUTCDate(1);
  if (d.getTime() / DAY < a) d.setUTCMonth(d.getUTCMonth() + 1);
  while (d.getUTCMonth() % months) d.setUTCMonth(d.getUTCMonth() + 1);
  for (; d.getTime() / DAY <= b; d.setUTCMonth(d.getUTCMonth() + months)) out.push(d.toISOString().slice(0, 10));
  return out;
}

const fmt = (v) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1));

/**
 * Renders history (dates, values) and forecasts into an <svg> `width` pixels
 * wide. forecasts: [{label, dates, values, color, band?}] with band from
 * bandOf(interval); `days` shows only the last days of history (all when 0).
 */
export function renderChart({ title, history, forecasts, width = 640, height = 280, days = 0, yLabel = 'units sold per day' }) {
  width = Math.max(280, Math.round(width));
  const compact = width < 480;
  const font = compact ? 12 : 13;
  const skip = days > 0 ? Math.max(0, history.values.length - days) : 0;
  const shown = { dates: history.dates.slice(skip), values: history.values.slice(skip) };
  const bands = forecasts.filter((f) => f.band).map((f) => ({ label: `${f.band.name} ${f.label}`, color: f.color, band: true }));
  const lines = forecasts.map(({ label, color }) => ({ label, color }));
  const legend = legendLayout([{ label: 'history', color: HISTORY_COLOR }, ...lines, ...bands], width, font);
  const pad = { l: font * 4.2, r: 12, t: font * 2.4, b: font * 3.4 + legend.height };
  const total = height + legend.height;
  const svg = el('svg', { viewBox: `0 0 ${width} ${total}`, width, height: total, role: 'img', class: 'forecast-chart', 'font-size': font });
  const summary = forecasts.map((f) => `${f.label}: ${f.values.map((v) => v.toFixed(1)).join(', ')}`).join('; ');
  svg.append(el('title', {}, title));
  const bandText = forecasts.filter((f) => f.band).map((f) => describeBand(f.label, f.band)).join(' ');
  svg.append(el('desc', {}, `History of ${history.values.length} days, then forecasts. ${summary}. ${bandText}`.trim()));

  const all = [...shown.values, ...forecasts.flatMap((f) => [...f.values, ...(f.band?.upper ?? [])])];
  const ticks = niceTicks(Math.max(1, ...all));
  const max = ticks.at(-1);
  const n = shown.values.length + Math.max(0, ...forecasts.map((f) => f.values.length));
  const plotW = width - pad.l - pad.r;
  const x = (i) => pad.l + (i / Math.max(1, n - 1)) * plotW;
  const bottom = total - pad.b;
  const y = (v) => bottom - (v / max) * (bottom - pad.t);
  svg.append(el('text', { x: pad.l, y: font * 1.3, class: 'chart-title', 'font-weight': 600 }, title));
  for (const v of ticks) {
    svg.append(el('line', { x1: pad.l, x2: width - pad.r, y1: y(v), y2: y(v), class: 'grid', style: 'stroke: var(--sales-forecast-grid, #e3e3e3)' }));
    svg.append(el('text', { x: pad.l - 6, y: y(v) + font * 0.35, 'text-anchor': 'end', class: 'y-tick' }, String(v)));
  }
  svg.append(el('text', { transform: `translate(${font}, ${(pad.t + bottom) / 2}) rotate(-90)`, 'text-anchor': 'middle', class: 'y-label' }, yLabel));

  const dates = [...shown.dates, ...(forecasts[0]?.dates ?? [])];
  const index = new Map(dates.map((d, i) => [d, i]));
  if (dates.length) {
    for (const d of dateTicks(dates[0], dates.at(-1), Math.max(2, Math.floor(plotW / (font * 6.5))))) {
      if (!index.has(d)) continue;
      const xi = x(index.get(d));
      svg.append(el('line', { x1: xi, x2: xi, y1: bottom, y2: bottom + 4, style: 'stroke: #999' }));
      // a label centred on a tick near an edge would be cut by the box:
      // there it ends (or starts) at the tick instead
      const half = 5 * font * 0.62 * 0.5;
      const anchor = xi + half > width - 1 ? 'end' : xi - half < 1 ? 'start' : 'middle';
      svg.append(el('text', { x: xi, y: bottom + font + 4, 'text-anchor': anchor, class: 'x-tick' }, d.slice(5)));
    }
    svg.append(el('text', { x: pad.l + plotW / 2, y: bottom + font * 2.5, 'text-anchor': 'middle', class: 'x-label' },
      `date (${dates[0].slice(0, 4)}${dates.at(-1).slice(0, 4) !== dates[0].slice(0, 4) ? `–${dates.at(-1).slice(0, 4)}` : ''}, month-day)`));
  }

  const start = shown.values.length - 1;
  const firstForecast = forecasts[0]?.dates[0];
  if (firstForecast && start >= 0) {
    // where history ends and the forecast begins
    svg.append(el('line', { x1: x(start), x2: x(start), y1: pad.t, y2: bottom, style: 'stroke: #999', 'stroke-dasharray': '4 3', class: 'forecast-start' }));
  }
  const path = (values, offset) => values.map((v, i) => `${i ? 'L' : 'M'}${x(i + offset).toFixed(1)},${y(v).toFixed(1)}`).join('');
  for (const f of forecasts.filter((f) => f.band && start >= 0)) {
    // upper edge left to right, lower edge back, from the last history day
    const upper = [shown.values[start], ...f.band.upper];
    const lower = [shown.values[start], ...f.band.lower].reverse();
    const d = `${path(upper, start)}${lower.map((v, i) => `L${x(start + lower.length - 1 - i).toFixed(1)},${y(v).toFixed(1)}`).join('')}Z`;
    svg.append(el('path', { d, style: `fill: ${f.color}`, 'fill-opacity': 0.18, stroke: 'none', class: 'forecast-band', 'data-label': f.label }));
  }
  svg.append(el('path', { d: path(shown.values, 0), fill: 'none', style: `stroke: ${HISTORY_COLOR}`, 'stroke-width': 1.5, class: 'history-line' }));
  for (const f of forecasts) {
    const vals = start >= 0 ? [shown.values[start], ...f.values] : f.values;
    svg.append(el('path', { d: path(vals, Math.max(start, 0)), fill: 'none', style: `stroke: ${f.color}`, 'stroke-width': 2, class: 'forecast-line', 'data-label': f.label }));
  }

  const g = el('g', { class: 'legend', 'aria-hidden': 'true' });
  const legendTop = bottom + font * 3.2;
  for (const item of legend.items) {
    const top = legendTop + item.row * legend.row;
    g.append(item.band
      ? el('rect', { x: pad.l + item.x, y: top, width: 16, height: font * 0.8, style: `fill: ${item.color}`, 'fill-opacity': 0.18, class: 'legend-band' })
      : el('line', { x1: pad.l + item.x, x2: pad.l + item.x + 16, y1: top + font * 0.4, y2: top + font * 0.4, style: `stroke: ${item.color}`, 'stroke-width': 2 }));
    g.append(el('text', { x: pad.l + item.x + 20, y: top + font * 0.8 }, item.label));
  }
  svg.append(g);
  addHover(svg, { x, n, pad, bottom, width, font, dates, shown, forecasts });
  return svg;
}

/** A crosshair and the day's values under the pointer. */
function addHover(svg, { x, n, pad, bottom, width, font, dates, shown, forecasts }) {
  const hover = el('g', { class: 'hover', visibility: 'hidden', 'pointer-events': 'none' });
  const line = el('line', { y1: pad.t, y2: bottom, style: 'stroke: #777' });
  const box = el('rect', { height: font * 1.6, rx: 3, style: 'fill: var(--sales-forecast-background, #fff); stroke: #999' });
  const text = el('text', { class: 'hover-text' });
  hover.append(line, box, text);
  svg.append(hover);
  const area = el('rect', { x: pad.l, y: pad.t, width: width - pad.l - pad.r, height: bottom - pad.t, fill: 'transparent', class: 'hover-area' });
  svg.append(area);
  area.addEventListener('pointermove', (ev) => {
    const r = svg.getBoundingClientRect();
    const px = ((ev.clientX - r.left) / r.width) * width;
    const i = Math.min(n - 1, Math.max(0, Math.round(((px - pad.l) / (width - pad.l - pad.r)) * (n - 1))));
    const h = i - shown.values.length;
    const parts = h < 0
      ? [`${shown.values[i].toFixed(0)} sold`]
      : forecasts.map((f) => `${f.values[h] === undefined ? '' : fmt(f.values[h])}${f.band ? ` (${fmt(f.band.lower[h])}–${fmt(f.band.upper[h])})` : ''}`);
    text.textContent = `${dates[i]}: ${parts.join(' · ')}`;
    line.setAttribute('x1', x(i));
    line.setAttribute('x2', x(i));
    const w = text.textContent.length * font * 0.56 + 10;
    const left = Math.min(Math.max(pad.l, x(i) - w / 2), width - w - 2);
    box.setAttribute('x', left);
    box.setAttribute('y', pad.t);
    box.setAttribute('width', w);
    text.setAttribute('x', left + 5);
    text.setAttribute('y', pad.t + font * 1.15);
    hover.setAttribute('visibility', 'visible');
  });
  area.addEventListener('pointerleave', () => hover.setAttribute('visibility', 'hidden'));
}

const HISTORY_COLOR = 'var(--sales-forecast-history, #555)';

/** Places legend entries left to right, wrapping rows; widths are estimated (no layout pass). */
function legendLayout(entries, width, font) {
  const avail = width - font * 4.2 - 12;
  const row = font * 1.4;
  let x = 0;
  let r = 0;
  const items = entries.map(({ label, color, band }) => {
    const w = 20 + label.length * font * 0.55 + 14;
    if (x > 0 && x + w > avail) { x = 0; r += 1; }
    const item = { label, color, band, x, row: r };
    x += w;
    return item;
  });
  return { items, row, height: (r + 1) * row + 4 };
}
