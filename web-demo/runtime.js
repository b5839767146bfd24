// Loading the wasm runtime and exported models; shared by the demo page and
// the <sales-forecast> widget. All maths runs in wasm (shoptrain-shared).
import init, { Forecaster } from './pkg/shoptrain_runtime_wasm.js';

let ready = null;
/** Initialises the wasm module once per page. */
export function loadRuntime(wasmUrl = new URL('./pkg/shoptrain_runtime_wasm_bg.wasm', import.meta.url)) {
  ready ??= init({ module_or_path: wasmUrl });
  return ready;
}

/** fetch() that turns an HTTP error status into an Error naming what failed to load. */
export async function fetchOk(url, kind) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`cannot load ${kind} from ${url}: HTTP ${res.status}`);
  return res;
}

/**
 * Loads an exported model from its URL prefix, e.g.
 * `models/product_P001_all_kan_v1` (reads `_model.safetensors` and `_metadata.json`).
 */
export async function loadModel(prefixUrl) {
  await loadRuntime();
  const [weights, metadata] = await Promise.all([
    fetchOk(`${prefixUrl}_model.safetensors`, 'weights').then((r) => r.arrayBuffer()),
    fetchOk(`${prefixUrl}_metadata.json`, 'metadata').then((r) => r.text()),
  ]);
  return new Forecaster(new Uint8Array(weights), metadata);
}

/** Turns an array of row objects ({date, sales, ...}) into CSV text. */
export function rowsToCsv(rows) {
  if (!Array.isArray(rows) || rows.length === 0) throw new Error('history is empty');
  const cols = Object.keys(rows[0]);
  if (!cols.includes('date')) throw new Error("history rows need a 'date' field");
  return [cols.join(','), ...rows.map((r) => cols.map((c) => r[c]).join(','))].join('\n');
}

/** Parses simple CSV text into row objects (numbers where numeric). */
export function csvToRows(text) {
  const lines = text.trim().split(/\r?\n/);
  const head = lines[0].split(',').map((s) => s.trim());
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(head.map((h, i) => [h, h === 'date' ? cells[i]?.trim() : Number(cells[i])]));
  });
}

/** Forecast from history (CSV text or row objects): {dates, values, ms}. */
export function forecast(model, history) {
  const csv = typeof history === 'string' ? history : rowsToCsv(history);
  const t0 = performance.now();
  const out = JSON.parse(model.predictCsv(csv));
  return { ...out, ms: performance.now() - t0 };
}

export { Forecaster };
