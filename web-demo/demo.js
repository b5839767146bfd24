// The demo page: pick an exported model, edit or upload history, forecast in wasm.
import { loadModel, forecast, csvToRows } from './runtime.js';
import { renderChart, bandOf, describeBand } from './chart.js';

const $ = (id) => document.getElementById(id);
const COLORS = { mlstm: '#1c7ed6', transformer: '#d9480f', kan: '#2b8a3e' };
const cache = new Map();
let manifest;

function showError(e) {
  $('error').hidden = false;
  $('error').textContent = String(e?.message ?? e);
}

async function model(entry) {
  if (!cache.has(entry.prefix)) cache.set(entry.prefix, await loadModel(`models/${entry.prefix}`));
  return cache.get(entry.prefix);
}

function selected() {
  return manifest.models.find((m) => m.prefix === $('model').value);
}

function show(results) {
  const rows = csvToRows($('history').value);
  const history = { dates: rows.map((r) => r.date), values: rows.map((r) => r.sales) };
  $('chart').replaceChildren(renderChart({
    title: `${selected().series}: history and ${results[0].dates.length}-day forecast`,
    history,
    forecasts: results.map((r) => ({ label: r.label, dates: r.dates, values: r.values, color: COLORS[r.type] ?? '#333', band: bandOf(r.quantiles) })),
  }));
  const table = $('result');
  // each model's point forecast, and its interval when it has one
  const cell = (r, i) => {
    const band = bandOf(r.quantiles);
    return `<td>${r.values[i].toFixed(2)}${band ? ` <small>(${band.lower[i].toFixed(1)}–${band.upper[i].toFixed(1)})</small>` : ''}</td>`;
  };
  const header = (r) => {
    const band = bandOf(r.quantiles);
    return `<th>${r.label}${band ? ` <small>(${band.name})</small>` : ''}</th>`;
  };
  table.querySelector('thead').innerHTML = `<tr><th>date</th>${results.map(header).join('')}</tr>`;
  table.querySelector('tbody').replaceChildren(...results[0].dates.map((d, i) => {
    const tr = document.createElement('tr');
    tr.innerHTML = `<td>${d}</td>${results.map((r) => cell(r, i)).join('')}`;
    return tr;
  }));
  $('band-summary').textContent = results
    .map((r) => bandOf(r.quantiles) && describeBand(r.label, bandOf(r.quantiles)))
    .filter(Boolean)
    .join(' ');
  table.dataset.results = JSON.stringify(Object.fromEntries(results.map((r) => [r.prefix, r.values])));
  $('latency').textContent = results.map((r) => `${r.label}: ${r.ms.toFixed(1)} ms`).join(' · ');
}

async function run(entries) {
  $('error').hidden = true;
  try {
    const results = [];
    for (const entry of entries) {
      const m = await model(entry);
      const out = forecast(m, $('history').value);
      results.push({ ...out, prefix: entry.prefix, type: entry.model_type, label: `${entry.model_type} (${entry.prefix})` });
    }
    show(results);
    document.body.dataset.state = 'done';
  } catch (e) {
    showError(e);
    document.body.dataset.state = 'error';
  }
}

function onModelChange() {
  const entry = selected();
  $('model-info').textContent = `${entry.model_type}, window ${entry.window}, horizon ${entry.horizon}, features: ${entry.features.join(', ')}`;
  $('history').value = entry.sample_history_csv;
}

async function main() {
  try {
    const res = await fetch('models/index.json');
    if (!res.ok) throw new Error(`no exported models at models/index.json (HTTP ${res.status}); run shoptrain export`);
    manifest = await res.json();
    $('model').replaceChildren(...manifest.models.map((m) => new Option(`${m.prefix} (${m.model_type})`, m.prefix)));
    $('model').addEventListener('change', onModelChange);
    $('run').addEventListener('click', () => run([selected()]));
    $('compare').addEventListener('click', () => run(manifest.models.filter((m) => m.series === selected().series)));
    $('upload').addEventListener('change', async (ev) => {
      const file = ev.target.files[0];
      if (!file) return;
      $('history').value = await file.text();
      run([selected()]);
    });
    onModelChange();
    await run([selected()]);
  } catch (e) {
    showError(e);
  }
  document.body.dataset.ready = 'true';
}

main();
