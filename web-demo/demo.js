// The demo page: pick an exported model, edit or upload history, forecast in
// wasm. The chart reads the history through the runtime's own CSV parser, so
// what is drawn is what was forecast.
import { loadForecaster, loadManifest, parseHistory } from './runtime.js';
import { renderChart, bandOf, describeBand } from './chart.js';

const $ = (id) => document.getElementById(id);
const COLORS = { mlstm: '#1c7ed6', transformer: '#d9480f', kan: '#2b8a3e' };
const RECENT_DAYS = 56;
// on a phone fewer weeks of history, so the forecast days keep room to be told apart
const NARROW = 480;
const recentDays = () => ($('chart').clientWidth < NARROW ? 21 : RECENT_DAYS);
let manifest;
let shown = null; // the last results drawn: {history, results}
let edited = false; // the textarea holds the user's text, not a sample

const selected = () => manifest.models.find((m) => m.prefix === $('model').value);
const modelOf = (entry) => loadForecaster(`models/${entry.prefix}`);
const label = (r) => `${r.type} v${r.version}`;

/** Nothing of an earlier forecast may stay on screen under an error: the
 * whole results section goes (captions, chart area, the history toggle). */
function clearResults() {
  shown = null;
  document.querySelector('.results').hidden = true;
  $('view').disabled = true;
  $('chart').replaceChildren();
  $('result').querySelector('thead').replaceChildren();
  $('result').querySelector('tbody').replaceChildren();
  $('metrics').querySelector('thead').replaceChildren();
  $('metrics').querySelector('tbody').replaceChildren();
  $('band-summary').textContent = '';
  $('latency').textContent = '';
  $('download').disabled = true;
  delete $('result').dataset.results;
}

function showError(e) {
  clearResults();
  $('error').hidden = false;
  $('error').textContent = String(e?.message ?? e);
  document.body.dataset.state = 'error';
}

function drawChart() {
  if (!shown) return;
  const { history, results, title } = shown;
  const all = $('view').getAttribute('aria-pressed') === 'true';
  $('chart').replaceChildren(renderChart({
    title,
    history: { dates: history.dates, values: history.columns.sales },
    forecasts: results.map((r) => ({ label: label(r), dates: r.dates, values: r.values, color: COLORS[r.type] ?? '#333', band: r.band })),
    width: $('chart').clientWidth || 640,
    days: all ? 0 : recentDays(),
  }));
}

/** A table's rows; a cell is text, or [value, range] drawn as a value with
 * its interval beside it (below it on a phone, see style.css). */
function fillTable(table, head, rows) {
  const tr = (cells, tag) => {
    const row = document.createElement('tr');
    for (const c of cells) {
      const cell = document.createElement(tag);
      if (Array.isArray(c)) {
        const range = document.createElement('span');
        range.className = 'range';
        range.textContent = c[1];
        cell.append(c[0], range);
      } else {
        cell.textContent = c;
      }
      row.append(cell);
    }
    return row;
  };
  table.querySelector('thead').replaceChildren(tr(head, 'th'));
  table.querySelector('tbody').replaceChildren(...rows.map((r) => tr(r, 'td')));
}

function show(history, results, title) {
  shown = { history, results, title };
  document.querySelector('.results').hidden = false;
  $('view').disabled = false;
  drawChart();
  fillTable($('result'), ['date', ...results.map((r) => (r.band ? `${label(r)} (${r.band.name})` : label(r)))],
    results[0].dates.map((d, i) => [d, ...results.map((r) => {
      const { band } = r;
      return band ? [r.values[i].toFixed(2), ` (${band.lower[i].toFixed(1)}–${band.upper[i].toFixed(1)})`] : r.values[i].toFixed(2);
    })]));
  // validation MASE (below 1 beats the naive forecast the score is scaled by) beside each baseline
  const baselineNames = [...new Set(results.flatMap((r) => Object.keys(r.baselines ?? {})))].sort();
  // short heads so that the table fits a phone; the caption spells them out
  const SHORT = { ets: 'ETS', moving_average_7: 'MA 7', seasonal_naive_7: 'naive 7' };
  fillTable($('metrics'), ['model', 'MASE', 'MAE', 'P10–P90', ...baselineNames.map((b) => SHORT[b] ?? b.replaceAll('_', ' '))],
    results.map((r) => [label(r), num(r.metrics?.mase), num(r.metrics?.mae),
      r.coverage === undefined ? '–' : `${Math.round(r.coverage * 100)}%`,
      ...baselineNames.map((b) => num(r.baselines?.[b]?.mase))]));
  $('band-summary').textContent = results
    .map((r) => r.band && describeBand(label(r), r.band))
    .filter(Boolean)
    .join(' ');
  $('result').dataset.results = JSON.stringify(Object.fromEntries(results.map((r) => [r.prefix, r.values])));
  $('latency').textContent = results.map((r) => `${label(r)}: ${r.ms.toFixed(1)} ms`).join(' · ');
  $('download').disabled = false;
}

const num = (v) => (typeof v === 'number' ? v.toFixed(3) : '–');

async function run(entries) {
  $('error').hidden = true;
  document.body.dataset.state = 'running';
  try {
    const csv = $('history').value;
    // one parser: a history the runtime refuses is refused before anything is drawn
    const history = await parseHistory(csv);
    const results = [];
    for (const entry of entries) {
      const m = await modelOf(entry);
      const out = m.predict(csv);
      results.push({ ...out, band: bandOf(out.interval), prefix: entry.prefix, version: entry.version, type: entry.model_type, metrics: m.metrics, baselines: m.baselines, coverage: m.metadata.quantile_metrics?.coverage });
    }
    const first = await modelOf(entries[0]);
    show(history, results, `${first.title}: ${results[0].dates.length}-day forecast`);
    document.body.dataset.state = 'done';
  } catch (e) {
    showError(e);
  }
}

/** The forecast as CSV: one row per day and model, with the interval. */
function downloadCsv() {
  if (!shown) return;
  const lines = ['date,model,forecast,p10,p90'];
  for (const r of shown.results) {
    const { band } = r;
    r.dates.forEach((d, i) => lines.push([d, r.prefix, r.values[i], band?.lower[i] ?? '', band?.upper[i] ?? ''].join(',')));
  }
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([`${lines.join('\n')}\n`], { type: 'text/csv' }));
  a.download = `forecast_${shown.results.map((r) => r.prefix).join('+')}.csv`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 0);
}

async function describeModel(entry) {
  const m = await modelOf(entry);
  $('inputs').textContent = ['date', ...m.inputColumns].join(', ');
  $('derived').textContent = m.calendarFeatures.join(', ') || 'none';
}

/** A new model keeps the user's edited history unless it cannot read it and the user agrees to replace it. */
async function onModelChange() {
  const entry = selected();
  await describeModel(entry);
  if (edited) {
    const m = await modelOf(entry);
    const header = $('history').value.split(/\r?\n/, 1)[0].split(',').map((h) => h.trim().replace(/^"|"$/g, ''));
    const fits = m.inputColumns.every((c) => header.includes(c));
    if (fits || !window.confirm(`Your history lacks columns ${entry.prefix} reads (${m.inputColumns.filter((c) => !header.includes(c)).join(', ')}). Replace it with this model's sample?`)) return;
  }
  $('history').value = entry.sample_history_csv;
  edited = false;
}

async function main() {
  try {
    // the runtime checks the manifest's format (an old export is refused, saying what to do)
    manifest = await loadManifest('models/index.json').catch((e) => {
      throw new Error(`${e.message} (run shoptrain export into web-demo/models)`);
    });
    $('model').replaceChildren(...manifest.models.map((m) => new Option(`${m.series} — ${m.model_type} v${m.version}`, m.prefix)));
    $('model').addEventListener('change', () => onModelChange().then(() => run([selected()]), showError));
    $('history').addEventListener('input', () => { edited = true; });
    $('run').addEventListener('click', () => run([selected()]));
    $('compare').addEventListener('click', () => run(manifest.models.filter((m) => m.series === selected().series)));
    $('sample').addEventListener('click', () => { $('history').value = selected().sample_history_csv; edited = false; run([selected()]); });
    $('view').addEventListener('click', () => {
      const all = $('view').getAttribute('aria-pressed') !== 'true';
      $('view').setAttribute('aria-pressed', String(all));
      $('view').textContent = all ? `Show the last ${recentDays() / 7} weeks` : 'Show the whole history';
      drawChart();
    });
    $('download').addEventListener('click', downloadCsv);
    $('upload').addEventListener('change', async (ev) => {
      const file = ev.target.files[0];
      if (!file) return;
      $('history').value = await file.text();
      edited = true;
      run([selected()]);
    });
    let width = 0;
    new ResizeObserver(() => {
      if ($('chart').clientWidth !== width) { width = $('chart').clientWidth; drawChart(); }
    }).observe($('chart'));
    await describeModel(selected());
    $('history').value = selected().sample_history_csv;
    await run([selected()]);
  } catch (e) {
    showError(e);
  }
  document.body.dataset.ready = 'true';
}

main();
