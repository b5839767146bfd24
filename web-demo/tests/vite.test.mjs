// The npm package as a web developer uses it: the tarball from
// scripts/build-npm.sh installed into a fresh Vite 8 project with TypeScript,
// type-checked, built, served, and driven in Chromium against models served
// from another origin. Forecasts must equal native shoptrain's within 1e-4.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { root, relErr, serve, launch, watchErrors } from './harness.mjs';

const manifest = JSON.parse(readFileSync(join(root, 'models/index.json'), 'utf8'));
const kan = manifest.models.find((m) => m.model_type === 'kan' && m.mode === 'product');
const tgz = process.env.SHOPTRAIN_NPM_TGZ;
const app = mkdtempSync(join(tmpdir(), 'shoptrain-vite-'));
let site;
let models;
let browser;

const MAIN = `
import { loadForecaster, parseHistory, type Forecast, type HistoryRow } from 'shoptrain-forecast';
import 'shoptrain-forecast/element';

declare global { interface Window { result?: { api: Forecast; element: number[] } | { error: string } } }

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const src = params.get('model') ?? '';
  const csv = await (await fetch(params.get('history') ?? '')).text();
  const model = await loadForecaster(src);
  // rows as an app holds them: JS Dates and numbers
  const parsed = await parseHistory(csv);
  const rows: HistoryRow[] = parsed.dates.map((d, i) => {
    const row: HistoryRow = { date: new Date(d) };
    for (const [name, values] of Object.entries(parsed.columns)) row[name] = values[i];
    return row;
  });
  const api = model.predict(rows);
  const el = document.createElement('sales-forecast');
  el.textContent = csv;
  const done = new Promise<number[]>((ok, fail) => {
    el.addEventListener('forecast', (e) => ok(e.detail.values));
    el.addEventListener('error', (e) => fail(new Error(e.detail.message)));
  });
  el.setAttribute('src', src);
  document.body.append(el);
  window.result = { api, element: await done };
}

main().catch((e: Error) => { window.result = { error: e.message }; });
`;

before(async () => {
  assert.ok(tgz && existsSync(tgz), 'set SHOPTRAIN_NPM_TGZ to the tarball scripts/build-npm.sh made (scripts/test.sh does)');
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'vite-check', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--silent', resolve(tgz), 'vite@8', 'typescript@5'], { cwd: app, stdio: 'inherit' });
  writeFileSync(join(app, 'index.html'), '<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>vite</title></head><body><script type="module" src="/main.ts"></script></body></html>');
  writeFileSync(join(app, 'main.ts'), MAIN);
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { target: 'es2022', module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], strict: true, noEmit: true },
    files: ['main.ts'],
  }));
});

after(async () => {
  await browser?.close();
  site?.stop();
  models?.stop();
});

test('the package type-checks with strict TypeScript', () => {
  execFileSync(join(app, 'node_modules/.bin/tsc'), ['-p', app], { cwd: app, stdio: 'inherit' });
});

test('a Vite 8 build of the package forecasts in Chromium like native shoptrain', async () => {
  execFileSync(join(app, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], { cwd: app, stdio: 'inherit' });
  const assets = readFileSync(join(app, 'dist/index.html'), 'utf8');
  assert.match(assets, /assets\/index-.*\.js/);
  site = await serve(join(app, 'dist'));
  models = await serve(root, ['--allow-origin', site.base]);
  browser = await launch();
  const page = await browser.newPage();
  const errors = watchErrors(page);
  const q = new URLSearchParams({ model: `${models.base}/models/${kan.prefix}`, history: `${models.base}/models/sample_${kan.prefix}.csv` });
  await page.goto(`${site.base}/?${q}`);
  await page.waitForFunction(() => window.result);
  const result = await page.evaluate(() => window.result);
  assert.equal(result.error, undefined, result.error);
  assert.deepEqual(result.api.dates, kan.native_forecast.dates);
  assert.ok(relErr(result.api.values, kan.native_forecast.values) <= 1e-4);
  kan.native_forecast.quantiles.values.forEach((want, j) => {
    assert.ok(relErr(result.api.quantiles.values[j], want) <= 1e-4, `quantile ${j}`);
  });
  assert.ok(relErr(result.element, kan.native_forecast.values) <= 1e-4);
  assert.deepEqual(errors, []);
});
