// Headless Chromium: the demo page forecasts with every model type like
// native shoptrain, and each of its behaviours a user meets (errors, odd
// CSV, model switching, phone width, axes, zoom, hover, metrics, download).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, results, relErr, serve, launch, watchErrors } from './harness.mjs';

const manifest = JSON.parse(readFileSync(join(root, 'models/index.json'), 'utf8'));
const byType = (t) => manifest.models.find((m) => m.model_type === t && m.mode === 'product');
let server;
let browser;

before(async () => {
  server = await serve(root);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.stop();
});

async function demo(viewport = { width: 1100, height: 900 }) {
  const page = await browser.newPage();
  await page.setViewportSize(viewport);
  const errors = watchErrors(page);
  await page.goto(`${server.base}/`);
  await page.waitForSelector('body[data-ready="true"]');
  return { page, errors };
}

async function forecastWith(page, csv) {
  await page.fill('#history', csv);
  await page.click('#run');
  await page.waitForSelector('body[data-state="done"], body[data-state="error"]');
}

test('the demo forecasts with each model type like native shoptrain', async () => {
  const { page, errors } = await demo();
  const wasmType = await page.evaluate(async () => (await fetch('pkg/shoptrain_runtime_wasm_bg.wasm')).headers.get('content-type'));
  assert.equal(wasmType, 'application/wasm');
  for (const type of ['mlstm', 'transformer', 'kan']) {
    const entry = byType(type);
    await page.selectOption('#model', entry.prefix);
    await page.waitForFunction((p) => JSON.parse(document.getElementById('result').dataset.results ?? '{}')[p], entry.prefix);
    const out = JSON.parse(await page.getAttribute('#result', 'data-results'));
    const err = relErr(out[entry.prefix], entry.native_forecast.values);
    assert.ok(err <= 1e-4, `${entry.prefix}: browser vs native max relative error ${err}`);
    assert.match(await page.textContent('#latency'), /ms/);
  }
  await page.click('#compare');
  await page.waitForFunction(() => Object.keys(JSON.parse(document.getElementById('result').dataset.results)).length === 3);
  assert.equal(await page.locator('#chart svg .forecast-line').count(), 3);
  const prefixes = Object.keys(JSON.parse(await page.getAttribute('#result', 'data-results')));
  const labels = prefixes.map((p) => `${p.split('_').at(-2)} v${p.split('_v').at(-1)}`);
  assert.deepEqual(await page.locator('#chart svg .legend text').allTextContents(),
    ['history', ...labels, ...labels.map((l) => `P10–P90 ${l}`)]);
  // each model's P10-P90 band is drawn, in the legend and described for screen readers
  assert.equal(await page.locator('#chart svg .forecast-band').count(), 3);
  assert.equal(await page.locator('#chart svg .legend .legend-band').count(), 3);
  const desc = await page.textContent('#chart svg desc');
  for (const l of labels) {
    assert.match(desc, new RegExp(`${l}: sales expected between [0-9.]+ and [0-9.]+ on most days \\(P10–P90, 80% of days\\)`));
  }
  assert.match(await page.textContent('#band-summary'), /between [0-9.]+ and [0-9.]+ on most days/);
  assert.match(await page.locator('#chart svg .forecast-band').first().getAttribute('d'), /^M.*Z$/);
  await page.screenshot({ path: join(results, 'demo-desktop.png'), fullPage: true });
  assert.deepEqual(errors, []);
});

test('an error clears the earlier chart, table and latency', async () => {
  const { page } = await demo();
  assert.equal(await page.locator('#chart svg').count(), 1);
  await forecastWith(page, 'date,sales\n2024-01-01,oops');
  assert.match(await page.textContent('#error'), /line 2, column "sales": "oops" is not a number/);
  assert.equal(await page.locator('#chart svg').count(), 0);
  assert.equal(await page.locator('#result tbody tr').count(), 0);
  assert.equal(await page.textContent('#latency'), '');
  assert.equal(await page.textContent('#band-summary'), '');
  assert.ok(await page.isDisabled('#download'));
});

test('negative sales are refused with the runtime message, nothing drawn', async () => {
  const { page } = await demo();
  const lines = byType('kan').sample_history_csv.split('\n');
  lines[3] = lines[3].replace(/^([^,]+),[^,]+/, '$1,-5');
  await page.selectOption('#model', byType('kan').prefix);
  await forecastWith(page, lines.join('\n'));
  assert.match(await page.textContent('#error'), /line 4, column "sales": -5 is negative; sales must be zero or more/);
  assert.equal(await page.locator('#chart svg').count(), 0);
  // the error state is the message alone: no squeezed captions, no blank
  // chart area, no history toggle with nothing to show
  assert.equal(await page.locator('.results').isVisible(), false);
  assert.equal(await page.locator('#metrics caption').isVisible(), false);
  assert.ok(await page.isDisabled('#view'));
  await page.screenshot({ path: join(results, 'demo-error.png'), fullPage: true });
  // the next good forecast brings them back
  await forecastWith(page, byType('kan').sample_history_csv);
  assert.ok(await page.locator('#chart svg').isVisible());
  assert.ok(!(await page.isDisabled('#view')));
});

test('a CSV with a quoted header is drawn as it is forecast', async () => {
  const { page } = await demo();
  const kan = byType('kan');
  await page.selectOption('#model', kan.prefix);
  const quoted = kan.sample_history_csv.replace(/^[^\n]+/, (h) => h.split(',').map((c) => `"${c}"`).join(','));
  await forecastWith(page, quoted);
  assert.equal(await page.getAttribute('body', 'data-state'), 'done');
  const paths = await page.locator('#chart svg path').evaluateAll((ps) => ps.map((p) => p.getAttribute('d')));
  assert.ok(paths.length >= 3 && paths.every((d) => !d.includes('NaN')), paths.join('\n'));
  const out = JSON.parse(await page.getAttribute('#result', 'data-results'))[kan.prefix];
  assert.ok(relErr(out, kan.native_forecast.values) <= 1e-4);
});

test('switching model keeps the history the user edited', async () => {
  const { page } = await demo();
  await page.selectOption('#model', byType('kan').prefix);
  const edited = byType('kan').sample_history_csv.replace(/\n([^,\n]+),(\d+)/, '\n$1,77');
  await page.fill('#history', edited);
  await page.selectOption('#model', byType('mlstm').prefix);
  await page.waitForSelector('body[data-state="done"]');
  assert.equal(await page.inputValue('#history'), edited);
  // the sample is one click away
  await page.click('#sample');
  assert.equal(await page.inputValue('#history'), byType('mlstm').sample_history_csv);
});

test('the inputs a user gives are apart from the calendar features', async () => {
  const { page } = await demo();
  const inputs = await page.textContent('#inputs');
  const derived = await page.textContent('#derived');
  assert.match(inputs, /^date, sales/);
  assert.doesNotMatch(inputs, /dow_sin|month_cos|is_weekend/);
  assert.equal(derived, 'dow_sin, dow_cos, month_sin, month_cos, is_weekend');
});

test('axes are labelled with round ticks and dates; the view zooms to recent weeks', async () => {
  const { page } = await demo();
  const chart = page.locator('#chart svg');
  assert.equal(await chart.locator('.y-label').textContent(), 'units sold per day');
  assert.match(await chart.locator('.x-label').textContent(), /^date/);
  const ticks = (await chart.locator('.y-tick').allTextContents()).map(Number);
  const step = ticks[1] - ticks[0];
  assert.ok(ticks.length >= 3 && ticks[0] === 0, ticks.join());
  assert.ok([1, 2, 2.5, 5].some((m) => Math.abs(step / 10 ** Math.floor(Math.log10(step)) - m) < 1e-9), `step ${step}`);
  assert.ok(ticks.every((t, i) => Math.abs(t - i * step) < 1e-9), ticks.join());
  assert.ok((await chart.locator('.x-tick').count()) >= 4);
  // forecast days get a fair share of the width in the recent view
  const share = () => page.evaluate(() => {
    const start = document.querySelector('#chart .forecast-start').getBoundingClientRect().x;
    const r = document.querySelector('#chart .hover-area').getBoundingClientRect();
    return (r.right - start) / r.width;
  });
  const recent = await share();
  await page.setInputFiles('#upload', { name: 'long.csv', mimeType: 'text/csv', buffer: Buffer.from(longHistory(byType('mlstm'), 365)) });
  await page.waitForFunction(() => document.getElementById('history').value.split('\n').length > 300 && document.body.dataset.state === 'done');
  const longRecent = await share();
  assert.ok(recent > 0.1 && longRecent > 0.1, `forecast share ${recent}, ${longRecent}`);
  await page.click('#view');
  assert.equal(await page.getAttribute('#view', 'aria-pressed'), 'true');
  assert.ok((await share()) < 0.05, 'the whole year is shown');
});

test('hovering the chart shows the day and its values', async () => {
  const { page } = await demo();
  const area = await page.locator('#chart .hover-area').boundingBox();
  await page.mouse.move(area.x + area.width - 3, area.y + area.height / 2);
  await page.waitForSelector('#chart .hover[visibility="visible"]');
  assert.match(await page.textContent('#chart .hover-text'), /^\d{4}-\d{2}-\d{2}: [0-9.]+ \([0-9.]+–[0-9.]+\)$/);
});

test("each model's validation metrics are shown beside the baselines", async () => {
  const { page } = await demo();
  await page.click('#compare');
  await page.waitForFunction(() => document.querySelectorAll('#metrics tbody tr').length === 3);
  const head = await page.locator('#metrics thead th').allTextContents();
  assert.ok(head.includes('MASE') && head.includes('naive 7') && head.includes('ETS'), head.join('|'));
  assert.match(await page.textContent('#metrics caption'), /naive 7 \(same day last week\)/);
  const first = await page.locator('#metrics tbody tr').first().locator('td').allTextContents();
  assert.match(first[1], /^\d+\.\d{3}$/);
});

test('the forecast downloads as CSV', async () => {
  const { page } = await demo();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
  const text = readFileSync(await download.path(), 'utf8');
  const lines = text.trim().split('\n');
  assert.equal(lines[0], 'date,model,forecast,p10,p90');
  assert.equal(lines.length, 1 + manifest.models[0].horizon);
  const [, model, value, p10, p90] = lines[1].split(',');
  assert.equal(model, manifest.models[0].prefix);
  assert.ok(Number(p10) <= Number(value) && Number(value) <= Number(p90));
});

test('at phone width nothing scrolls sideways and chart text stays readable', async () => {
  const { page, errors } = await demo({ width: 390, height: 844 });
  await page.click('#compare');
  await page.waitForFunction(() => document.querySelectorAll('#chart svg .forecast-line').length === 3);
  const sideways = await page.evaluate(() => document.scrollingElement.scrollWidth);
  assert.ok(sideways <= 390, `page is ${sideways} px wide`);
  const smallest = await page.evaluate(() => Math.min(...[...document.querySelectorAll('#chart svg text')]
    .filter((t) => t.textContent).map((t) => t.getBoundingClientRect().height)));
  assert.ok(smallest >= 11, `smallest chart text ${smallest} px`);
  // no table column clipped in its scroll box, forecast cells at most two lines
  const clipped = await page.evaluate(() => [...document.querySelectorAll('.scroll')]
    .map((s) => s.scrollWidth - s.clientWidth));
  assert.ok(clipped.every((c) => c <= 0), `tables overflow their boxes by ${clipped.join(', ')} px`);
  const lineHeight = await page.evaluate(() => parseFloat(getComputedStyle(document.querySelector('#result td')).fontSize) * 1.3);
  const tallest = await page.evaluate(() => Math.max(...[...document.querySelectorAll('#result td')].map((c) => c.getBoundingClientRect().height)));
  assert.ok(tallest <= 2 * lineHeight + 6, `a forecast cell is ${tallest} px high (line ${lineHeight})`);
  // the forecast days keep a fair share of the chart: fewer weeks of history
  const forecastWidth = await page.evaluate(() => {
    const start = document.querySelector('#chart .forecast-start').getBoundingClientRect().x;
    return document.querySelector('#chart .hover-area').getBoundingClientRect().right - start;
  });
  assert.ok(forecastWidth >= 70, `forecast part of the chart is ${forecastWidth} px wide`);
  // the last date label is inside the chart
  const overhang = await page.evaluate(() => {
    const box = document.querySelector('#chart svg').getBoundingClientRect();
    return Math.max(...[...document.querySelectorAll('#chart .x-tick')].map((t) => t.getBoundingClientRect().right - box.right));
  });
  assert.ok(overhang <= 0.5, `a date label overhangs by ${overhang} px`);
  await page.screenshot({ path: join(results, 'demo-phone.png'), fullPage: true });
  assert.deepEqual(errors, []);
});

/** A year of made-up daily history in the model's columns, ending like its sample. */
function longHistory(entry, days) {
  const [head, ...rows] = entry.sample_history_csv.trim().split('\n');
  const last = new Date(`${rows.at(-1).split(',')[0]}T00:00:00Z`);
  const out = [head];
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(last.getTime() - i * 86400000).toISOString().slice(0, 10);
    const src = rows[(rows.length - 1 - (i % rows.length) + rows.length) % rows.length].split(',');
    out.push([d, ...src.slice(1)].join(','));
  }
  return out.join('\n');
}
