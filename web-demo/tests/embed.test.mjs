// Headless Chromium: the <sales-forecast> widget on pages of another origin,
// as a web developer embeds it. Server A (`shoptrain serve` of web-demo,
// --allow-origin B) holds the package and the models; server B serves only
// the host pages.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root, results, relErr, serve, launch, watchErrors } from './harness.mjs';

const manifest = JSON.parse(readFileSync(join(root, 'models/index.json'), 'utf8'));
const kan = manifest.models.find((m) => m.model_type === 'kan' && m.mode === 'product');
const global = manifest.models.find((m) => m.mode === 'global');
const pages = mkdtempSync(join(tmpdir(), 'shoptrain-host-'));
let a;
let b;
let browser;

before(async () => {
  b = await serve(pages);
  a = await serve(root, ['--allow-origin', b.base]);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  a?.stop();
  b?.stop();
});

/** A page on origin B with `body` inside, loading the element from A. */
async function host(name, body, { head = '', viewport = { width: 1000, height: 800 }, before: prepare } = {}) {
  writeFileSync(join(pages, name), `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<meta name="viewport" content="width=device-width, initial-scale=1">${head}
<script type="module" src="${a.base}/sales-forecast.js"></script></head><body>${body}</body></html>`);
  const page = await browser.newPage();
  await page.setViewportSize(viewport);
  const errors = watchErrors(page);
  await prepare?.(page);
  await page.goto(`${b.base}/${name}`);
  return { page, errors };
}

const snippet = () => {
  const readme = readFileSync(join(root, '../README.md'), 'utf8');
  const m = readme.match(/<!-- embed-snippet -->\s*```html\n([\s\S]*?)```/);
  assert.ok(m, 'README.md has the embed snippet after <!-- embed-snippet -->');
  return m[1].replaceAll('http://localhost:8080', a.base).replaceAll('product_P001_all_kan_v1', kan.prefix);
};

test("the README's snippet forecasts on another origin, compressed and revalidated", async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  writeFileSync(join(pages, 'snippet.html'), `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>${snippet()}</body></html>`);
  const seen = [];
  page.on('response', (r) => r.url().startsWith(a.base) && seen.push(r));
  await page.goto(`${b.base}/snippet.html`);
  await page.waitForSelector('sales-forecast svg[role="img"]');
  const values = JSON.parse(await page.getAttribute('sales-forecast', 'data-forecast'));
  assert.ok(relErr(values, kan.native_forecast.values) <= 1e-4);
  // the fallback content is not CSV and is hidden once the element runs
  assert.equal(await page.locator('sales-forecast > p').isVisible(), false);
  const wasm = seen.find((r) => r.url().endsWith('.wasm'));
  assert.match((await wasm.allHeaders())['content-encoding'] ?? '', /^(gzip|br)$/);
  assert.equal((await wasm.allHeaders())['access-control-allow-origin'], b.base);
  await page.screenshot({ path: join(results, 'embed-snippet.png'), fullPage: true });

  // Chromium writes its cache after the load, so a reload at once may find
  // nothing to revalidate; a reload that does must get 304s, not the bytes
  let statuses = [];
  for (let tries = 0; tries < 5 && !statuses.some((s) => s.startsWith('304 ')); tries++) {
    await page.waitForTimeout(500);
    seen.length = 0;
    await page.reload();
    await page.waitForSelector('sales-forecast svg[role="img"]');
    statuses = seen.map((r) => `${r.status()} ${r.url().slice(a.base.length)}`);
  }
  assert.ok(statuses.some((s) => s.startsWith('304 ')), `no 304 on reload: ${statuses.join(', ')}`);
  assert.deepEqual(errors, []);
});

test("a page with the README's Content-Security-Policy forecasts; without 'wasm-unsafe-eval' it says why not", async () => {
  const readme = readFileSync(join(root, '../README.md'), 'utf8');
  const m = readme.match(/<!-- csp -->\s*```\n\s*([^\n]+)\n/);
  assert.ok(m, 'README.md has the CSP after <!-- csp -->');
  const csp = m[1].trim().replaceAll('http://localhost:8080', a.base);
  const page = async (name, policy) => {
    writeFileSync(join(pages, name), `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,">
<meta http-equiv="Content-Security-Policy" content="${policy}"></head><body>${snippet()}</body></html>`);
    const p = await browser.newPage();
    await p.goto(`${b.base}/${name}`);
    return p;
  };
  const ok = await page('csp.html', csp);
  await ok.waitForSelector('sales-forecast svg[role="img"]');
  assert.ok(relErr(JSON.parse(await ok.getAttribute('sales-forecast', 'data-forecast')), kan.native_forecast.values) <= 1e-4);
  const strict = await page('csp-strict.html', csp.replace(" 'wasm-unsafe-eval'", ''));
  await strict.locator('sales-forecast [role="alert"]').waitFor();
  assert.match(await strict.locator('sales-forecast [role="alert"]').textContent(), /Forecast unavailable: .*(WebAssembly|wasm|Content Security Policy)/i);
});

test('a page of an origin not allowed is refused the model', async () => {
  const other = await serve(pages);
  try {
    writeFileSync(join(pages, 'other.html'), `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"></head><body>${snippet()}</body></html>`);
    const page = await browser.newPage();
    await page.goto(`${other.base}/other.html`);
    // the module itself is blocked by CORS, so the element never upgrades:
    // the README snippet's fallback content says so and where to look
    await page.waitForTimeout(1500);
    assert.equal(await page.locator('sales-forecast svg').count(), 0);
    const fallback = page.locator('sales-forecast p');
    assert.ok(await fallback.isVisible());
    assert.match(await fallback.textContent(), /could not load.*Troubleshooting/s);
  } finally {
    other.stop();
  }
});

test('the widget lives in a shadow root: host styles stay out, the title is human', async () => {
  const { page, errors } = await host('styled.html', `
    <style>svg text { font-size: 40px !important; } p, text { color: red; fill: red; }
    sales-forecast#custom { --sales-forecast-color: rgb(0, 128, 0); }</style>
    <sales-forecast id="plain" src="${a.base}/models/${kan.prefix}" history="${a.base}/models/sample_${kan.prefix}.csv"></sales-forecast>
    <sales-forecast id="custom" title="Aspirin, next week" src="${a.base}/models/${kan.prefix}" history="${a.base}/models/sample_${kan.prefix}.csv"></sales-forecast>`);
  await page.waitForSelector('#plain svg[role="img"]');
  await page.waitForSelector('#custom svg[role="img"]');
  assert.ok(await page.evaluate(() => document.getElementById('plain').shadowRoot !== null));
  assert.equal(await page.locator('#plain .chart-title').textContent(), 'Product P001 at all stores: 7-day forecast');
  assert.equal(await page.locator('#custom .chart-title').textContent(), 'Aspirin, next week');
  // the P10-P90 band, its legend entry and its sentence for screen readers
  assert.equal(await page.locator('#plain .forecast-band').count(), 1);
  assert.equal(await page.locator('#plain .legend-band').count(), 1);
  assert.match(await page.locator('#plain svg desc').textContent(), /kan: sales expected between [0-9.]+ and [0-9.]+ on most days \(P10–P90, 80% of days\)/);
  // every date label lies inside the chart's box, the last one too
  const overhang = await page.locator('#plain .x-tick').evaluateAll((ticks) => {
    const box = ticks[0].ownerSVGElement.getBoundingClientRect();
    return ticks.map((t) => { const r = t.getBoundingClientRect(); return Math.max(box.left - r.left, r.right - box.right); });
  });
  assert.ok(overhang.length >= 2 && overhang.every((o) => o <= 0.5), `labels overhang by ${overhang.join(', ')} px`);
  const height = await page.locator('#plain .y-tick').first().evaluate((t) => t.getBoundingClientRect().height);
  assert.ok(height < 20, `host CSS reached the chart: tick text ${height} px high`);
  const stroke = await page.locator('#custom .forecast-line').evaluate((p) => getComputedStyle(p).stroke);
  assert.equal(stroke, 'rgb(0, 128, 0)');
  await page.screenshot({ path: join(results, 'embed-desktop.png'), fullPage: true });
  assert.deepEqual(errors, []);
});

test('the widget shows a loading state, then the chart; two widgets download the model once', async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const weights = [];
  const { page } = await host('loading.html', `
    <sales-forecast id="one" src="${a.base}/models/${kan.prefix}" history="${a.base}/models/sample_${kan.prefix}.csv"></sales-forecast>
    <sales-forecast id="two" src="${a.base}/models/${kan.prefix}" history="${a.base}/models/sample_${kan.prefix}.csv"></sales-forecast>`, {
    before: (p) => p.route('**/*_model.safetensors', async (route) => {
      weights.push(route.request().url());
      await gate;
      await route.continue();
    }),
  });
  const status = page.locator('#one [role="status"]');
  await status.waitFor();
  assert.equal(await status.textContent(), 'Loading forecast…');
  assert.equal(await page.getAttribute('#one', 'aria-busy'), 'true');
  release();
  await page.waitForSelector('#one svg[role="img"]');
  await page.waitForSelector('#two svg[role="img"]');
  assert.equal(weights.length, 1, weights.join());
  assert.equal(await page.getAttribute('#one', 'aria-busy'), null);
});

test('errors are shown accessibly and sent as bubbling events; forecasts too', async () => {
  const { page, errors } = await host('events.html', `
    <div id="wrap"><sales-forecast id="nosrc" history="${a.base}/models/sample_${kan.prefix}.csv"></sales-forecast></div>
    <sales-forecast id="ok" src="${a.base}/models/${kan.prefix}" history="${a.base}/models/sample_${kan.prefix}.csv"></sales-forecast>
    <sales-forecast id="gone" src="${a.base}/models/${kan.prefix}" history="${a.base}/models/gone.csv"></sales-forecast>`, {
    before: (p) => p.addInitScript(() => {
      window.events = [];
      for (const type of ['forecast', 'error']) {
        document.addEventListener(type, (e) => window.events.push({ type, id: e.target.id, detail: e.detail }));
      }
    }),
  });
  await page.waitForFunction(() => window.events.length === 2);
  await page.waitForTimeout(300);
  const events = await page.evaluate(() => window.events);
  const by = Object.fromEntries(events.map((e) => [e.id, e]));
  // no src yet: the element waits for one (a page's script may set it), no error
  assert.equal(by.nosrc, undefined, JSON.stringify(events));
  assert.match(await page.locator('#nosrc [role="status"]').textContent(), /^Waiting for a model: set the src attribute/);
  assert.equal(await page.locator('#nosrc [role="alert"]').count(), 0);
  assert.equal(by.gone.type, 'error');
  assert.match(by.gone.detail.message, /models\/gone\.csv: HTTP 404/);
  assert.equal(by.ok.type, 'forecast');
  assert.equal(by.ok.detail.prefix, kan.prefix);
  assert.ok(relErr(by.ok.detail.values, kan.native_forecast.values) <= 1e-4);
  // once src is set, it forecasts
  await page.evaluate((src) => document.getElementById('nosrc').setAttribute('src', src), `${a.base}/models/${kan.prefix}`);
  await page.waitForFunction(() => window.events.some((e) => e.id === 'nosrc'));
  const late = (await page.evaluate(() => window.events)).find((e) => e.id === 'nosrc');
  assert.equal(late.type, 'forecast');
  assert.deepEqual(errors, []);
});

test('a global model forecasts the series its store and product attributes pick', async () => {
  // the sample series under store S1, and a second store with other sales
  const [head, ...rows] = global.sample_history_csv.trim().split('\n');
  const cols = head.split(',');
  const long = [`date,store_id,product_id,${cols.slice(1).join(',')}`];
  for (const r of rows) {
    const [d, sales, ...rest] = r.split(',');
    long.push([d, 'S1', 'P1', sales, ...rest].join(','), [d, 'S2', 'P1', Number(sales) * 3, ...rest].join(','));
  }
  writeFileSync(join(pages, 'long.csv'), long.join('\n'));
  const { page } = await host('global.html', `
    <sales-forecast id="s1" store="S1" product="P1" src="${a.base}/models/${global.prefix}" history="long.csv"></sales-forecast>
    <sales-forecast id="both" src="${a.base}/models/${global.prefix}" history="long.csv"></sales-forecast>`, { viewport: { width: 390, height: 844 } });
  await page.waitForSelector('#s1 svg[role="img"]');
  assert.equal(await page.locator('#s1 .chart-title').textContent(), 'Store S1, product P1: 7-day forecast');
  assert.ok((await page.locator('#s1 .x-tick').count()) >= 2, 'date ticks at phone width');
  const values = JSON.parse(await page.getAttribute('#s1', 'data-forecast'));
  assert.ok(relErr(values, global.native_forecast.values) <= 1e-4);
  await page.locator('#both [role="alert"]').waitFor();
  assert.match(await page.locator('#both [role="alert"]').textContent(), /several stores \(S1, S2\); pick one/);
  const sideways = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(sideways <= 390, `page is ${sideways} px wide`);
  await page.screenshot({ path: join(results, 'embed-phone.png'), fullPage: true });
});
