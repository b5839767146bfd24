// Forecast latency of the wasm runtime in Node, per exported model: load time,
// then `predictCsv` on the model's sample history (what the demo page runs).
//   node web-demo/bench.mjs [RUNS]     (after scripts/build-wasm.sh and shoptrain export)
import { readFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { initSync, Forecaster } from './pkg/shoptrain_runtime_wasm.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const runs = Number(process.argv[2] ?? 200);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`bench: RUNS must be a positive integer, got ${process.argv[2]}`);
  process.exit(2);
}
for (const need of ['pkg/shoptrain_runtime_wasm_bg.wasm', 'models/index.json']) {
  if (!existsSync(`${root}/${need}`)) {
    console.error(`bench: web-demo/${need} is missing; run scripts/build-wasm.sh and shoptrain export first`);
    process.exit(1);
  }
}
const wasm = readFileSync(`${root}/pkg/shoptrain_runtime_wasm_bg.wasm`);
let t = performance.now();
initSync({ module: wasm });
console.log(`wasm: ${wasm.length} bytes, compiled and instantiated in ${(performance.now() - t).toFixed(1)} ms`);

const pct = (sorted, q) => sorted[Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length))) - 1];
const manifest = JSON.parse(readFileSync(`${root}/models/index.json`, 'utf8'));
console.log(['model'.padEnd(36), 'load ms'.padStart(8), 'p50 ms'.padStart(8), 'p95 ms'.padStart(8)].join(' '));
for (const m of manifest.models) {
  const weights = new Uint8Array(readFileSync(`${root}/models/${m.weights}`));
  const metadata = readFileSync(`${root}/models/${m.metadata}`, 'utf8');
  t = performance.now();
  const f = new Forecaster(weights, metadata);
  const load = performance.now() - t;
  f.predictCsv(m.sample_history_csv); // warm-up
  const times = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    f.predictCsv(m.sample_history_csv);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  console.log([m.prefix.padEnd(36), load.toFixed(1).padStart(8), pct(times, 0.5).toFixed(3).padStart(8), pct(times, 0.95).toFixed(3).padStart(8)].join(' '));
  f.free();
}
