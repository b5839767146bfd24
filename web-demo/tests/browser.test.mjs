// Headless Chromium (Debian's, driven by playwright-core): the demo page
// forecasts with every model type and matches the native forecasts, and the
// <sales-forecast> widget renders when embedded twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const manifest = JSON.parse(readFileSync(join(root, 'models/index.json'), 'utf8'));
const bin = process.env.SHOPTRAIN_BIN;
const port = 20000 + Math.floor(Math.random() * 20000);
const base = `http://127.0.0.1:${port}`;
let server;
let browser;

function relErr(a, b) {
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.max(Math.abs(b[i]), 1e-6)));
}

before(async () => {
  assert.ok(bin, 'set SHOPTRAIN_BIN to the shoptrain binary (scripts/test.sh does)');
  server = spawn(bin, ['serve', '--root', root, '--port', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    server.stdout.on('data', (d) => String(d).includes('serving') && resolve());
    server.on('exit', (code) => reject(new Error(`shoptrain serve exited with ${code}`)));
  });
  // a fresh profile each run; playwright passes it as --user-data-dir
  browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'shoptrain-chromium-')), {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  mkdirSync(join(root, 'test-results'), { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.kill();
});

test('the demo forecasts with each model type like native shoptrain', async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-ready="true"]');
  const wasmType = await page.evaluate(async () => (await fetch('pkg/shoptrain_runtime_wasm_bg.wasm')).headers.get('content-type'));
  assert.equal(wasmType, 'application/wasm');
  for (const type of ['mlstm', 'transformer', 'kan']) {
    const entry = manifest.models.find((m) => m.model_type === type && m.mode === 'product');
    await page.selectOption('#model', entry.prefix);
    await page.click('#run');
    await page.waitForFunction((p) => JSON.parse(document.getElementById('result').dataset.results ?? '{}')[p], entry.prefix);
    const results = JSON.parse(await page.getAttribute('#result', 'data-results'));
    const err = relErr(results[entry.prefix], entry.native_forecast.values);
    assert.ok(err <= 1e-4, `${entry.prefix}: browser vs native max relative error ${err}`);
    assert.match(await page.textContent('#latency'), /ms/);
  }
  await page.click('#compare');
  await page.waitForFunction(() => Object.keys(JSON.parse(document.getElementById('result').dataset.results)).length === 3);
  assert.equal(await page.locator('#chart svg .forecast-line').count(), 3);
  const labels = Object.keys(JSON.parse(await page.getAttribute('#result', 'data-results'))).map((p) => `${p.split('_').at(-2)} (${p})`);
  assert.deepEqual(await page.locator('#chart svg .legend text').allTextContents(),
    ['history', ...labels, ...labels.map((l) => `P10–P90 ${l}`)]);
  // each model's P10-P90 band is drawn, in the legend and described for screen readers
  assert.equal(await page.locator('#chart svg .forecast-band').count(), 3);
  assert.equal(await page.locator('#chart svg .legend .legend-band').count(), 3);
  const desc = await page.textContent('#chart svg desc');
  for (const l of labels) {
    assert.match(desc, new RegExp(`${l.replace(/[()]/g, '\\$&')}: sales expected between [0-9.]+ and [0-9.]+ on most days \\(P10–P90, 80% of days\\)`));
  }
  assert.match(await page.textContent('#band-summary'), /between [0-9.]+ and [0-9.]+ on most days/);
  // the band encloses the forecast line: its path spans the whole forecast
  const band = await page.locator('#chart svg .forecast-band').first().getAttribute('d');
  assert.match(band, /^M.*Z$/);
  await page.screenshot({ path: join(root, 'test-results/demo.png'), fullPage: true });

  await page.fill('#history', 'date,sales\n2024-01-01,oops');
  await page.click('#run');
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await page.textContent('#error'), /line 2, column "sales": "oops" is not a number/);
  assert.deepEqual(errors, []);
});

test('two embedded widgets render accessible charts', async () => {
  const page = await browser.newPage();
  await page.goto(`${base}/embed.html`);
  await page.waitForSelector('#from-url svg[role="img"]');
  await page.waitForSelector('#inline svg[role="img"]');
  for (const [id, type] of [['from-url', 'kan'], ['inline', 'transformer']]) {
    const entry = manifest.models.find((m) => m.model_type === type && m.mode === 'product');
    const values = JSON.parse(await page.getAttribute(`#${id}`, 'data-forecast'));
    assert.ok(relErr(values, entry.native_forecast.values) <= 1e-4);
    assert.match(await page.textContent(`#${id} svg desc`), /forecasts/);
    assert.equal(await page.locator(`#${id} svg .forecast-band`).count(), 1);
    assert.match(await page.textContent(`#${id} svg desc`), /between [0-9.]+ and [0-9.]+ on most days \(P10–P90/);
  }
  await page.screenshot({ path: join(root, 'test-results/embed.png'), fullPage: true });

  // a widget whose history URL is missing says so instead of charting an HTML error page
  const kan = manifest.models.find((m) => m.model_type === 'kan');
  await page.evaluate((prefix) => {
    const w = document.createElement('sales-forecast');
    w.id = 'broken';
    w.setAttribute('history', 'models/no-such-history.csv');
    w.setAttribute('src', `models/${prefix}`);
    document.body.append(w);
  }, kan.prefix);
  await page.waitForSelector('#broken .forecast-error');
  assert.equal(await page.textContent('#broken .forecast-error'),
    'Forecast unavailable: cannot load history CSV from models/no-such-history.csv: HTTP 404');

  // changing the history of a rendered widget forecasts again
  await page.evaluate(() => document.getElementById('from-url').setAttribute('history', 'models/gone.csv'));
  await page.waitForSelector('#from-url .forecast-error');
  assert.match(await page.textContent('#from-url .forecast-error'), /models\/gone\.csv: HTTP 404/);
});
