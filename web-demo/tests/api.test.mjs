// Node tests of the package's JS API (runtime.js): loading from bytes,
// rows with Date objects, objects out, the runtime's CSV rules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initRuntime, loadForecaster, parseHistory, toCsv, formatDate } from '../runtime.js';

const maxRelativeError = (a, b) => Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.max(Math.abs(b[i]), 1e-6)));
const root = fileURLToPath(new URL('..', import.meta.url));
await initRuntime(readFileSync(`${root}/pkg/shoptrain_runtime_wasm_bg.wasm`));
const manifest = JSON.parse(readFileSync(`${root}/models/index.json`, 'utf8'));
const kan = manifest.models.find((m) => m.model_type === 'kan' && m.mode === 'product');
const global = manifest.models.find((m) => m.mode === 'global');
const load = (m) => loadForecaster({
  weights: readFileSync(`${root}/models/${m.weights}`),
  metadata: readFileSync(`${root}/models/${m.metadata}`, 'utf8'),
});

/** The sample history as row objects with JS Dates, as an app would hold it. */
async function rowsWithDates(m) {
  const h = await parseHistory(m.sample_history_csv);
  return h.dates.map((d, i) => ({ date: new Date(d), ...Object.fromEntries(Object.entries(h.columns).map(([c, v]) => [c, v[i]])) }));
}

test('predict takes rows with Date objects and returns objects equal to native', async () => {
  const f = await load(kan);
  const out = f.predict(await rowsWithDates(kan));
  assert.deepEqual(out.dates, kan.native_forecast.dates);
  assert.ok(maxRelativeError(out.values, kan.native_forecast.values) <= 1e-4);
  assert.deepEqual(out.interval.levels, [0.1, 0.9]);
  assert.ok(maxRelativeError(out.interval.upper, kan.native_forecast.quantiles.values[2]) <= 1e-4);
  assert.equal(typeof out.ms, 'number');
  assert.equal(f.title, 'Product P001 at all stores');
  assert.ok(f.inputColumns.includes('sales') && !f.inputColumns.includes('dow_sin'), f.inputColumns.join());
  assert.deepEqual(f.calendarFeatures, ['dow_sin', 'dow_cos', 'month_sin', 'month_cos', 'is_weekend']);
  assert.equal(typeof f.metrics.mase, 'number');
  assert.equal(typeof f.baselines.seasonal_naive_7.mase, 'number');
});

test('dates: UTC midnight by its UTC day, other times by the local day; bad Dates refused', () => {
  assert.equal(formatDate(new Date('2024-03-09')), '2024-03-09');
  assert.equal(formatDate(new Date(2024, 2, 9, 15, 30)), '2024-03-09');
  assert.throws(() => toCsv([{ date: new Date('nope'), sales: 1 }]), /invalid Date/);
  assert.equal(toCsv([{ date: '2024-01-01', sales: 2, store_id: 'a,b' }]), 'date,sales,store_id\n2024-01-01,2,"a,b"');
});

test('a global model picks its series from a long CSV', async () => {
  const f = await load(global);
  const one = (await parseHistory(global.sample_history_csv));
  // two stores: the sample for S1 and twice its sales for S2
  const long = ['date,store_id,product_id,' + Object.keys(one.columns).join(',')];
  one.dates.forEach((d, i) => {
    const vals = Object.values(one.columns).map((v) => v[i]);
    const doubled = Object.entries(one.columns).map(([c, v]) => (c === 'sales' ? v[i] * 2 : v[i]));
    long.push([d, 'S1', 'P1', ...vals].join(','), [d, 'S2', 'P1', ...doubled].join(','));
  });
  const csv = long.join('\n');
  assert.throws(() => f.predict(csv), /the CSV holds several stores \(S1, S2\); pick one/);
  const s1 = f.predict(csv, { store: 'S1' });
  assert.ok(maxRelativeError(s1.values, global.native_forecast.values) <= 1e-4);
  const s2 = f.predict(csv, { store: 'S2', product: 'P1' });
  // twice the sales, about twice the forecast
  s2.values.forEach((v, d) => assert.ok(Math.abs(v - 2 * s1.values[d]) <= 0.05 * s1.values[d] + 0.5, `${v} vs 2 × ${s1.values[d]}`));
  assert.throws(() => f.predict(csv, { store: 'S9' }), /no rows for store "S9"; the CSV holds stores S1, S2/);
});

test('history is read by the runtime: quoted headers, negative and non-numeric sales', async () => {
  const quoted = kan.sample_history_csv.replace(/^[^\n]+/, (h) => h.split(',').map((c) => `"${c}"`).join(','));
  const h = await parseHistory(quoted);
  assert.ok(h.columns.sales.every(Number.isFinite));
  const f = await load(kan);
  assert.ok(maxRelativeError(f.predict(quoted).values, kan.native_forecast.values) <= 1e-4);
  await assert.rejects(parseHistory('date,sales\n2024-01-01,-3'), /line 2, column "sales": -3 is negative; sales must be zero or more/);
  await assert.rejects(parseHistory('date,sales\n2024-01-01,lots'), /line 2, column "sales": "lots" is not a number/);
  await assert.rejects(loadForecaster({}), /takes a model URL prefix or \{weights, metadata\}/);
});

test('an empty file is named as empty, not as a missing column', async () => {
  const f = await load(kan);
  for (const empty of ['', '\n', '  \n \n']) {
    assert.throws(() => f.predict(empty), /history: the CSV is empty/);
  }
});

test('the export manifest is read through the runtime; another format is refused', async () => {
  const { loadManifest } = await import('../runtime.js');
  const { createServer } = await import('node:http');
  const bodies = {
    '/index.json': readFileSync(`${root}/models/index.json`, 'utf8'),
    '/old.json': JSON.stringify({ format: 'shoptrain-export/1', exported_at: 'x', models: [] }),
  };
  const server = createServer((req, res) => res.end(bodies[req.url] ?? ''));
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${server.address().port}`;
  try {
    const m = await loadManifest(`${base}/index.json`);
    assert.equal(m.format, 'shoptrain-export/2');
    const entry = m.models.find((e) => e.prefix === kan.prefix);
    assert.equal(entry.weights, `${kan.prefix}_model.safetensors`);
    assert.equal(entry.sample, `sample_${kan.prefix}.csv`);
    assert.equal(entry.version, Number(kan.prefix.split('_v').at(-1)));
    await assert.rejects(loadManifest(`${base}/old.json`), /format shoptrain-export\/1, this runtime reads shoptrain-export\/2: export the models again/);
  } finally {
    server.close();
  }
});
