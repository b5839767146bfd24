// Types of shoptrain-forecast's main entry point (runtime.js).

/** A day of history: `date` and the model's input columns (`sales` first). */
export interface HistoryRow {
  date: Date | string;
  [column: string]: Date | string | number;
}

/** History as CSV text (a `date` column and the model's input columns) or rows. */
export type History = string | HistoryRow[];

export interface PredictOptions {
  /** The forecast days' `knownFuture` columns (a `date` and one row a day). */
  future?: History;
  /** Pick one series of a long CSV with `store_id` / `product_id` columns. */
  store?: string;
  product?: string;
}

export interface Quantiles {
  /** e.g. [0.1, 0.5, 0.9] */
  levels: number[];
  /** One array per level, one value per forecast day. */
  values: number[][];
}

export interface Forecast {
  /** The forecast days, YYYY-MM-DD. */
  dates: string[];
  /** The point forecast (the median), units per day, never negative. */
  values: number[];
  quantiles: Quantiles | null;
  /** The outermost levels as an interval (P10–P90 by default). */
  interval: { levels: [number, number]; lower: number[]; upper: number[] } | null;
  /** Milliseconds the forecast took. */
  ms: number;
}

export interface Metrics {
  mase: number;
  mae: number;
  rmse: number;
  smape: number;
  [name: string]: number;
}

export class Forecaster {
  /** Call `initRuntime()` first; `loadForecaster` does both. */
  constructor(weights: ArrayBuffer | Uint8Array, metadata: string | object);
  /** The model's metadata file, parsed. */
  readonly metadata: Record<string, unknown>;
  readonly prefix: string;
  readonly modelType: 'mlstm' | 'transformer' | 'kan';
  /** What is forecast, in words: "product P001 at all stores". */
  readonly series: string;
  /** "Product P001 at all stores" */
  readonly title: string;
  /** Days of history read. */
  readonly window: number;
  /** Days forecast. */
  readonly horizon: number;
  readonly quantiles: number[];
  /** Columns a history must give besides `date`, `sales` first. */
  readonly inputColumns: string[];
  /** Features derived from each date; never given. */
  readonly calendarFeatures: string[];
  readonly featureNames: string[];
  /** Columns read for the forecast days too (`PredictOptions.future`). */
  readonly knownFuture: string[];
  /** Validation metrics, and the baselines' on the same days. */
  readonly metrics: Metrics | null;
  readonly baselines: Record<string, Metrics> | null;
  /** Throws an Error naming the line and column of bad input. */
  predict(history: History, options?: PredictOptions): Forecast;
  /** Frees the weights' wasm memory; the object is unusable after. */
  free(): void;
}

/**
 * Loads a model from its URL prefix (`.../product_P001_all_kan_v1`, reading
 * `_model.safetensors` and `_metadata.json`) or from bytes. One download per
 * URL: calls with the same URL share one Forecaster.
 */
export function loadForecaster(
  source: string | URL | { weights: ArrayBuffer | Uint8Array; metadata: string | object },
  options?: { base?: string | URL },
): Promise<Forecaster>;

/** Initialises the wasm once; give its URL or bytes to load it from elsewhere. */
export function initRuntime(wasm?: string | URL | Request | Response | BufferSource | WebAssembly.Module): Promise<unknown>;

/** Reads history as `predict` does (same errors). */
export function parseHistory(
  history: History,
  pick?: { store?: string; product?: string },
): Promise<{ dates: string[]; columns: Record<string, number[]> }>;

/** A Date as YYYY-MM-DD (UTC midnight by its UTC day, other times by the local day). */
export function formatDate(date: Date): string;

/** CSV text as is; rows as CSV with the first row's keys as header. */
export function toCsv(history: History): string;

/** fetch() that throws an Error naming what failed to load. */
export function fetchOk(url: string | URL, kind: string): Promise<Response>;
