// shoptrain-forecast: exported shoptrain models forecasting in the browser
// (or Node). A thin layer over the wasm runtime (runtime-wasm/): loading,
// one download per model URL, JS values in and plain objects out. All
// parsing and maths runs in wasm, so every page reads CSV alike.
import init, {
  Forecaster as WasmForecaster, parseHistory as wasmParseHistory, parseManifest, modelFiles,
} from './pkg/shoptrain_runtime_wasm.js';

let ready = null;

/**
 * Initialises the wasm module once per page; `loadForecaster` calls it. Give
 * the wasm's URL or bytes to load it from elsewhere than beside this file.
 */
export function initRuntime(wasm) {
  ready ??= init({ module_or_path: wasm ?? new URL('./pkg/shoptrain_runtime_wasm_bg.wasm', import.meta.url) });
  return ready;
}

/** fetch() that turns an HTTP error status into an Error naming what failed to load. */
export async function fetchOk(url, kind) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`cannot load ${kind} from ${url}: ${e.message} (offline, or the server does not allow this page's origin: shoptrain serve --allow-origin)`);
  }
  if (!res.ok) throw new Error(`cannot load ${kind} from ${url}: HTTP ${res.status}`);
  return res;
}

const loads = new Map();

/**
 * Loads an exported model. `source` is its URL prefix (e.g.
 * `https://host/models/product_P001_all_kan_v1`, which reads
 * `_model.safetensors` and `_metadata.json` beside it) or
 * `{weights, metadata}` (bytes and JSON text or object). A URL is
 * downloaded once per page: every call with it shares one Forecaster.
 */
export function loadForecaster(source, { base } = {}) {
  if (typeof source === 'string' || source instanceof URL) {
    const url = new URL(String(source), base ?? globalThis.document?.baseURI ?? import.meta.url).href;
    if (!loads.has(url)) {
      const loading = fetchModel(url);
      loads.set(url, loading);
      // a failed download may be retried (the server may come back)
      loading.catch(() => loads.delete(url));
    }
    return loads.get(url);
  }
  if (!source || !source.weights || !source.metadata) {
    return Promise.reject(new TypeError('loadForecaster takes a model URL prefix or {weights, metadata}'));
  }
  return initRuntime().then(() => new Forecaster(source.weights, source.metadata));
}

async function fetchModel(source) {
  await initRuntime();
  // the file names come from the naming rules in wasm, not spelled here; a
  // URL of one of the two files stands for its prefix
  const suffixes = modelFiles('');
  const url = suffixes.reduce((u, s) => (u.endsWith(s) ? u.slice(0, -s.length) : u), source);
  const slash = url.lastIndexOf('/') + 1;
  const [weightsFile, metadataFile] = modelFiles(url.slice(slash));
  const [weights, metadata] = await Promise.all([
    fetchOk(url.slice(0, slash) + weightsFile, 'model weights').then((r) => r.arrayBuffer()),
    fetchOk(url.slice(0, slash) + metadataFile, 'model metadata').then((r) => r.text()),
  ]);
  return new Forecaster(weights, metadata);
}

/**
 * Loads an export manifest (`index.json` from `shoptrain export`) and checks
 * its format: one of another version throws, saying to export again. Its
 * entries' `weights`, `metadata` and `sample` are file names beside it.
 */
export async function loadManifest(url) {
  const res = await fetchOk(url, 'export manifest');
  const text = await res.text();
  await initRuntime();
  return JSON.parse(parseManifest(text));
}

/** A loaded model. */
export class Forecaster {
  #wasm;

  /** Weights (ArrayBuffer or Uint8Array) and metadata (JSON text or object); call `initRuntime()` first. */
  constructor(weights, metadata) {
    const text = typeof metadata === 'string' ? metadata : JSON.stringify(metadata);
    this.#wasm = new WasmForecaster(weights instanceof Uint8Array ? weights : new Uint8Array(weights), text);
    /** The model's metadata file, parsed: metrics, baselines, training. */
    this.metadata = JSON.parse(text);
  }

  get prefix() { return this.#wasm.prefix; }
  get modelType() { return this.#wasm.modelType; }
  /** What is forecast, in words: "product P001 at all stores". */
  get series() { return this.#wasm.series; }
  /** A title for people: "Product P001 at all stores". */
  get title() { const s = this.series; return s.charAt(0).toUpperCase() + s.slice(1); }
  /** Days of history the model reads, and days it forecasts. */
  get window() { return this.#wasm.window; }
  get horizon() { return this.#wasm.horizon; }
  /** Quantile levels forecast, e.g. [0.1, 0.5, 0.9]; [] for a point-forecast model. */
  get quantiles() { return [...this.#wasm.quantiles]; }
  /** Columns a history must give (besides `date`), `sales` first. */
  get inputColumns() { return this.#wasm.inputColumns; }
  /** Features derived from the dates; never given by the user. */
  get calendarFeatures() { return this.#wasm.calendarFeatures; }
  /** Every input feature in the model's order. */
  get featureNames() { return this.#wasm.featureNames; }
  /** Columns read for the forecast days too (`options.future`). */
  get knownFuture() { return this.#wasm.knownFuture; }
  /** Validation metrics ({mase, mae, ...}) and the baselines' on the same days. */
  get metrics() { return this.metadata.metrics ?? null; }
  get baselines() { return this.metadata.baselines ?? null; }

  /**
   * Forecasts the `horizon` days after the history's last date. `history`
   * is CSV text or an array of rows ({date: Date | 'YYYY-MM-DD', sales, ...});
   * `options.future` the forecast days' `knownFuture` columns (same forms);
   * `options.store` / `options.product` pick one series of a long CSV.
   * Throws an Error naming the line and column of bad input.
   */
  predict(history, { future, store, product } = {}) {
    const t0 = globalThis.performance?.now() ?? Date.now();
    const out = JSON.parse(this.#wasm.predictCsv(toCsv(history), future === undefined ? undefined : toCsv(future), store, product));
    const ms = (globalThis.performance?.now() ?? Date.now()) - t0;
    const q = out.quantiles;
    const interval = q && q.levels.length >= 2
      ? { levels: [q.levels[0], q.levels.at(-1)], lower: q.values[0], upper: q.values.at(-1) }
      : null;
    return { dates: out.dates, values: out.values, quantiles: q, interval, ms };
  }

  /** Frees the wasm memory holding the weights; the object is unusable after. */
  free() { this.#wasm.free(); }
}

/**
 * Reads history exactly as `predict` does: {dates, columns: {name: number[]}}.
 * Throws the same errors (bad dates, non-numeric or negative sales).
 */
export async function parseHistory(history, { store, product } = {}) {
  await initRuntime();
  return JSON.parse(wasmParseHistory(toCsv(history), store, product));
}

/** A Date as YYYY-MM-DD: midnight UTC (what `new Date('2024-05-01')` gives) by its UTC day, other times by the local day. */
export function formatDate(d) {
  const utcMidnight = d.getUTCHours() === 0 && d.getUTCMinutes() === 0 && d.getUTCSeconds() === 0;
  const [y, m, day] = utcMidnight
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate()];
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

function cell(v) {
  if (v instanceof Date) {
    if (Number.isNaN(v.getTime())) throw new Error('history has an invalid Date');
    return formatDate(v);
  }
  const s = String(v ?? '');
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** CSV text as is; an array of row objects as CSV with the first row's keys as header. */
export function toCsv(history) {
  if (typeof history === 'string') return history;
  if (!Array.isArray(history) || history.length === 0) {
    throw new Error('history is empty: give CSV text or an array of {date, sales, ...} rows');
  }
  const cols = Object.keys(history[0]);
  if (!cols.includes('date')) throw new Error("history rows need a 'date' field");
  return [cols.map(cell).join(','), ...history.map((r) => cols.map((c) => cell(r[c])).join(','))].join('\n');
}
