// Forecast latency of the wasm runtime in headless Chromium, per exported
// product model: the package's loadForecaster, then predict on the model's
// sample history (what the demo page runs). Chromium coarsens
// performance.now(), so each sample is the mean of a block of 10 forecasts.
//   SHOPTRAIN_BIN=target/release/shoptrain node web-demo/bench-browser.mjs [BLOCKS]
import { serve, launch, root } from './tests/harness.mjs';

const blocks = Number(process.argv[2] ?? 100);
if (!Number.isInteger(blocks) || blocks < 1) {
  console.error(`bench-browser: BLOCKS must be a positive integer, got ${process.argv[2]}`);
  process.exit(2);
}
const server = await serve(root);
const browser = await launch();
try {
  const page = await browser.newPage();
  // a page that loads nothing itself, so every model is downloaded here
  await page.goto(`${server.base}/models/index.json`);
  const rows = await page.evaluate(async (blocks) => {
    const { initRuntime, loadForecaster } = await import('/runtime.js');
    const manifest = await (await fetch('/models/index.json')).json();
    let t = performance.now();
    await initRuntime();
    const out = [{ prefix: 'wasm download + compile', load: performance.now() - t }];
    for (const m of manifest.models.filter((e) => e.mode === 'product')) {
      t = performance.now();
      const f = await loadForecaster(`/models/${m.prefix}`);
      const load = performance.now() - t;
      f.predict(m.sample_history_csv); // warm-up
      const times = [];
      for (let b = 0; b < blocks; b++) {
        t = performance.now();
        for (let i = 0; i < 10; i++) f.predict(m.sample_history_csv);
        times.push((performance.now() - t) / 10);
      }
      times.sort((x, y) => x - y);
      const pct = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
      out.push({ prefix: m.prefix, load, p50: pct(0.5), p95: pct(0.95) });
    }
    return out;
  }, blocks);
  console.log(['model'.padEnd(36), 'load ms'.padStart(8), 'p50 ms'.padStart(8), 'p95 ms'.padStart(8)].join(' '));
  for (const r of rows) {
    const ms = (v) => (v === undefined ? '' : v.toFixed(3)).padStart(8);
    console.log([r.prefix.padEnd(36), r.load.toFixed(1).padStart(8), ms(r.p50), ms(r.p95)].join(' '));
  }
} finally {
  await browser.close();
  server.stop();
}
