// The README's pictures: the demo page after "Compare model types" at 1280
// and 390 px, and embed.html's widgets, from `shoptrain serve` of this folder
// with the models scripts/demo.sh exported.
//   SHOPTRAIN_BIN=target/release/shoptrain node web-demo/screenshots.mjs
import { join } from 'node:path';
import { root, serve, launch } from './tests/harness.mjs';

const server = await serve(root);
const browser = await launch();
try {
  for (const [name, width, height] of [['screenshot.png', 1280, 900], ['screenshot-phone.png', 390, 844]]) {
    const page = await browser.newPage();
    await page.setViewportSize({ width, height });
    await page.goto(`${server.base}/`);
    await page.waitForSelector('body[data-ready="true"]');
    await page.click('#compare');
    await page.waitForFunction(() => document.querySelectorAll('#chart svg .forecast-line').length >= 3);
    await page.screenshot({ path: join(root, name), fullPage: true });
  }
  const page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.goto(`${server.base}/embed.html`);
  await page.waitForFunction(() => document.querySelectorAll('sales-forecast').length === 2
    && [...document.querySelectorAll('sales-forecast')].every((e) => e.shadowRoot.querySelector('svg')));
  await page.screenshot({ path: join(root, 'screenshot-widget.png'), fullPage: true });
} finally {
  await browser.close();
  server.stop();
}
