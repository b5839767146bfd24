// Node tests of the wasm package: every exported model forecasts its sample
// exactly like native `shoptrain` did, and broken bundles throw clear errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { initSync, Forecaster } from '../pkg/shoptrain_runtime_wasm.js';

const root = fileURLToPath(new URL('..', import.meta.url));
initSync({ module: readFileSync(`${root}/pkg/shoptrain_runtime_wasm_bg.wasm`) });
const manifest = JSON.parse(readFileSync(`${root}/models/index.json`, 'utf8'));
const weights = (m) => new Uint8Array(readFileSync(`${root}/models/${m.weights}`));
const metadata = (m) => readFileSync(`${root}/models/${m.metadata}`, 'utf8');
const byType = (t) => manifest.models.find((m) => m.model_type === t && m.mode === 'product');

export function maxRelativeError(actual, expected) {
  assert.equal(actual.length, expected.length);
  return Math.max(...actual.map((a, i) => Math.abs(a - expected[i]) / Math.max(Math.abs(expected[i]), 1e-6)));
}

test('the manifest holds all three model types', () => {
  const types = new Set(manifest.models.map((m) => m.model_type));
  assert.deepEqual([...types].sort(), ['kan', 'mlstm', 'transformer']);
});

test('the manifest holds hybrids, whose ETS the runtime fits itself, and a seasonal-base model', () => {
  const blends = manifest.models.map((m) => JSON.parse(metadata(m)).architecture.ets_blend === true);
  assert.equal(blends.filter((b) => b).length, manifest.models.length - 1, 'the default base blends ETS in');
  assert.equal(blends.filter((b) => !b).length, 1, 'scripts/test.sh exports one model trained with --base seasonal');
});

for (const m of manifest.models) {
  test(`wasm forecast of ${m.prefix} equals the native one within 1e-4`, () => {
    const f = new Forecaster(weights(m), metadata(m));
    assert.equal(f.modelType, m.model_type);
    assert.equal(f.window, m.window);
    assert.equal(f.horizon, m.horizon);
    assert.deepEqual(f.featureNames, m.features);
    const out = JSON.parse(f.predictCsv(m.sample_history_csv));
    assert.deepEqual(out.dates, m.native_forecast.dates);
    const err = maxRelativeError(out.values, m.native_forecast.values);
    assert.ok(err <= 1e-4, `max relative error ${err}`);
    // every quantile too, in order, with the median as the point forecast
    assert.deepEqual([...f.quantiles], m.native_forecast.quantiles.levels);
    assert.deepEqual(out.quantiles.levels, [0.1, 0.5, 0.9]);
    out.quantiles.values.forEach((q, j) => {
      const e = maxRelativeError(q, m.native_forecast.quantiles.values[j]);
      assert.ok(e <= 1e-4, `quantile ${out.quantiles.levels[j]}: max relative error ${e}`);
    });
    assert.deepEqual(out.quantiles.values[1], out.values);
    out.values.forEach((_, d) => {
      assert.ok(out.quantiles.values[0][d] <= out.values[d] && out.values[d] <= out.quantiles.values[2][d]);
    });
  });
}

const kan = byType('kan');

test('truncated weights are refused with a clear error', () => {
  const w = weights(kan);
  assert.throws(() => new Forecaster(w.slice(0, w.length >> 1), metadata(kan)), /tensor data but the file holds .* \(truncated download/);
  assert.throws(() => new Forecaster(w.slice(0, 5), metadata(kan)), /too short to be safetensors/);
});

test('a bit flip in the weights fails the checksum', () => {
  const w = weights(kan);
  w[w.length - 3] ^= 0x10;
  assert.throws(() => new Forecaster(w, metadata(kan)), /does not match the metadata's/);
});

test('an oversized header is refused before any allocation', () => {
  const w = weights(kan);
  new DataView(w.buffer).setBigUint64(0, 1n << 40n, true);
  assert.throws(() => new Forecaster(w, metadata(kan)), /header claims 1099511627776 bytes/);
});

test('a tensor of the wrong dtype is named', () => {
  const meta = JSON.parse(metadata(kan));
  const header = JSON.stringify({
    __metadata__: { prefix: meta.prefix, model_type: 'kan', format: 'shoptrain/1' },
    'layers.0.base.weight': { dtype: 'F64', shape: [1], data_offsets: [0, 8] },
  });
  const head = new TextEncoder().encode(header);
  const buf = new Uint8Array(8 + head.length + 8);
  new DataView(buf.buffer).setBigUint64(0, BigInt(head.length), true);
  buf.set(head, 8);
  assert.throws(() => new Forecaster(buf, metadata(kan)), /"layers.0.base.weight" is F64, expected F32/);
});

test('metadata of another model is refused', () => {
  const other = byType('transformer');
  assert.throws(() => new Forecaster(weights(kan), metadata(other)), /weights were saved for prefix/);
});

test('wrong tensor shapes are named', () => {
  const t = byType('transformer');
  const meta = JSON.parse(metadata(t));
  meta.architecture.ff = 64;
  assert.throws(() => new Forecaster(weights(t), JSON.stringify(meta)), /has shape \[128, 64\], the architecture needs \[64, 64\]/);
});

test('bad metadata and bad history are errors, not aborts', () => {
  assert.throws(() => new Forecaster(weights(kan), '{"schema_version": 9}'), /newer than this shoptrain/);
  assert.throws(() => new Forecaster(weights(kan), 'not json'), /not valid JSON/);
  const f = new Forecaster(weights(kan), metadata(kan));
  const lines = kan.sample_history_csv.trim().split('\n');
  assert.throws(() => f.predictCsv(lines.slice(0, 5).join('\n')), /4 rows given, the model needs at least 28/);
  assert.throws(() => f.predictCsv('date,price\n2024-01-01,3'), /column "sales" is missing/);
  // the runtime keeps working after errors
  assert.equal(JSON.parse(f.predictCsv(kan.sample_history_csv)).values.length, kan.horizon);
});
