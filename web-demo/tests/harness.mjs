// What the browser tests share: `shoptrain serve` on a free port, Debian's
// Chromium through playwright-core, and the forecast comparison.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const results = join(root, 'test-results');
mkdirSync(results, { recursive: true });

export function relErr(a, b) {
  assert.equal(a.length, b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.max(Math.abs(b[i]), 1e-6)));
}

let nextPort = 20000 + Math.floor(Math.random() * 20000);

/** `shoptrain serve --root ROOT ARGS...` on a fresh port: {base, port, stop}. */
export async function serve(rootDir, args = []) {
  const bin = process.env.SHOPTRAIN_BIN;
  assert.ok(bin, 'set SHOPTRAIN_BIN to the shoptrain binary (scripts/test.sh does)');
  const port = nextPort++;
  const proc = spawn(bin, ['serve', '--root', rootDir, '--port', String(port), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => String(d).includes('serving') && resolve());
    proc.on('exit', (code) => reject(new Error(`shoptrain serve exited with ${code}`)));
  });
  return { base: `http://127.0.0.1:${port}`, port, stop: () => proc.kill() };
}

/** Headless Chromium with a fresh profile (playwright passes it as --user-data-dir). */
export function launch() {
  return chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'shoptrain-chromium-')), {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Collects uncaught page errors; tests assert none happened. */
export function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (e) => errors.push(e));
  return errors;
}
