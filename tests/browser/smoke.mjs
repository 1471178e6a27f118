// Browser smoke test of the built web lab.
//
//   node tests/browser/smoke.mjs [--root build/wasm/web] [--artifacts artifacts]
//
// Serves the lab with serve.py, drives Debian's Chromium (WebGL2 on SwiftShader) through
// playwright-core and checks that the lab loads, runs its main loop, draws something, sizes its
// canvas to the window at any device pixel ratio, keeps the page's globals clean, and explains
// itself when WebGL2 or the wasm is missing. One `ok - ...` / `not ok - ...` line per check;
// exits 1 if any check fails. The screenshot is saved to <artifacts>/lab.png.

import fs from 'node:fs';
import path from 'node:path';

import {
  assert, canvasSize, check, checkBackingStore, colourStats, decodePng, noProblems, runBrowserTest,
  waitFrames,
  waitReady, watchProblems,
} from './harness.mjs';

async function labPage(browser, url, args) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  try {
    // The globals of a blank page from the same (secure) origin; about:blank lacks some.
    const blankUrl = new URL('cowlab-smoke-blank.html', url).href;
    await context.route(blankUrl, (route) => route.fulfill({
      contentType: 'text/html', body: '<!doctype html><title>blank</title>' }));
    const blank = await context.newPage();
    await blank.goto(blankUrl);
    const blankKeys = new Set(await blank.evaluate(() => Object.keys(window)));
    await blank.close();

    const page = await context.newPage();
    const problems = watchProblems(page);
    await page.goto(url);
    const ready = await check('the lab becomes ready (cowlab.ready resolves after the first frame)',
      () => waitReady(page));
    if (!ready) {
      const shown = await page.locator('#cowlab-problem').textContent().catch(() => '');
      if (shown.trim()) console.log(`# the page shows: ${shown.trim().replace(/\s+/g, ' ')}`);
      await check('no errors on the page', () => noProblems(problems));
      return;
    }

    let version = '';
    await check('cowlab.version() is a version number', async () => {
      version = await page.evaluate(() => window.cowlab.version());
      assert(/^\d+\.\d+\.\d+/.test(version), `got ${JSON.stringify(version)}`);
    });
    await check('cowlab.info() describes a machine with frames', async () => {
      const info = await page.evaluate(() => window.cowlab.info());
      const text = JSON.stringify(info);
      assert(info && typeof info === 'object' && !Array.isArray(info), `not an object: ${text}`);
      assert(info.total_frames > 0, `total_frames should be > 0: ${text}`);
      assert(info.free_frames >= 0 && info.free_frames <= info.total_frames,
        `free_frames should be within 0..total_frames: ${text}`);
      assert(info.version === version,
        `version ${JSON.stringify(info.version)} != version() ${JSON.stringify(version)}`);
    });
    await check('cowlab.module is the emscripten module', async () => {
      assert(await page.evaluate(() => typeof window.cowlab.module?.ccall === 'function'),
        'cowlab.module.ccall is not a function');
    });
    await check('the main loop runs (frameCount grows over 500 ms)', async () => {
      const before = await page.evaluate(() => window.cowlab.frameCount());
      await page.waitForTimeout(500);
      const after = await page.evaluate(() => window.cowlab.frameCount());
      assert(after > before, `frameCount went from ${before} to ${after}`);
    });
    await check('the loading indicator is hidden', async () => {
      assert(await page.locator('#cowlab-loading').isHidden(), 'it is still visible');
    });
    await check('the page adds no globals besides cowlab and createCowlab', async () => {
      const keys = await page.evaluate(() => Object.keys(window));
      const extra = keys.filter((k) => !blankKeys.has(k) && k !== 'cowlab' && k !== 'createCowlab');
      assert(extra.length === 0, `unexpected: ${extra.join(', ')}`);
      assert(keys.includes('cowlab') && keys.includes('createCowlab'),
        'cowlab or createCowlab missing');
    });
    await check('the canvas is not blank (screenshot saved to lab.png)', async () => {
      const png = await page.screenshot({ type: 'png' });
      fs.mkdirSync(args.artifacts, { recursive: true });
      fs.writeFileSync(path.join(args.artifacts, 'lab.png'), png);
      const stats = colourStats(decodePng(png));
      const text = `${stats.distinct} colours, ` +
        `${(stats.differing * 100).toFixed(2)}% unlike the commonest`;
      assert(stats.differing >= 0.01 && stats.distinct >= 8, text);
    });
    await check('the canvas fills the window with a 1x backing store',
      () => checkBackingStore(page, 1280, 800));
    await check('the canvas follows a resize to 800x600', async () => {
      await page.setViewportSize({ width: 800, height: 600 });
      await checkBackingStore(page, 800, 600);
    });
    await check('no errors on the page', () => noProblems(problems));
  } finally {
    await context.close();
  }
}

async function hiDpiPage(browser, url) {
  const context = await browser.newContext({
    viewport: { width: 800, height: 600 }, deviceScaleFactor: 2 });
  try {
    const page = await context.newPage();
    const problems = watchProblems(page);
    await page.goto(url);
    await check('at devicePixelRatio 2 the backing store is twice the CSS size', async () => {
      await waitReady(page);
      await checkBackingStore(page, 800, 600);
      const size = await canvasSize(page);
      assert(size.dpr === 2, `devicePixelRatio is ${size.dpr}`);
    });
    await check('no errors on the devicePixelRatio 2 page', () => noProblems(problems));
  } finally {
    await context.close();
  }
}

async function noWebGL2Page(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    await context.addInitScript(() => {
      const getContext = HTMLCanvasElement.prototype.getContext;
      HTMLCanvasElement.prototype.getContext = function (type, ...rest) {
        return type === 'webgl2' ? null : getContext.call(this, type, ...rest);
      };
    });
    const page = await context.newPage();
    const problems = watchProblems(page);
    const requested = [];
    page.on('request', (r) => requested.push(new URL(r.url()).pathname));
    await page.goto(url);
    await check('without WebGL2 the page says so', async () => {
      const problem = page.locator('#cowlab-problem');
      await problem.waitFor({ state: 'visible', timeout: 10_000 });
      const text = await problem.textContent();
      assert(/needs WebGL2/.test(text), `it shows: ${text.trim()}`);
      assert(await page.locator('#cowlab-loading').isHidden(), 'the loading indicator is still shown');
    });
    await check('without WebGL2 cowlab.ready rejects and cowlab.js is not loaded', async () => {
      const outcome = await page.evaluate(() => window.cowlab.ready.then(
        () => 'resolved', (e) => `rejected: ${e.message}`));
      assert(outcome.startsWith('rejected'), `cowlab.ready ${outcome}`);
      assert(!requested.some((p) => /\/cowlab\.(js|wasm)$/.test(p)),
        `requested ${requested.join(', ')}`);
    });
    await check('no errors on the page without WebGL2', () => noProblems(problems));
  } finally {
    await context.close();
  }
}

async function missingWasmPage(browser, url) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    await context.route(/\/cowlab\.wasm$/,
      (route) => route.fulfill({ status: 404, body: 'not found' }));
    const page = await context.newPage();
    // The 404 itself is the point of this page; anything else is a problem.
    const problems = watchProblems(page, { allow: (t) => /cowlab\.wasm|status of 404/.test(t) });
    await page.goto(url);
    await check('when cowlab.wasm is missing the page says why', async () => {
      const problem = page.locator('#cowlab-problem');
      await problem.waitFor({ state: 'visible', timeout: 20_000 });
      const text = await problem.textContent();
      assert(/cowlab\.wasm/.test(text) && /404/.test(text), `it shows: ${text.trim()}`);
      const outcome = await page.evaluate(
        () => window.cowlab.ready.then(() => 'resolved', () => 'rejected'));
      assert(outcome === 'rejected', `cowlab.ready ${outcome}`);
    });
    await check('no uncaught errors when cowlab.wasm is missing', () => noProblems(problems));
  } finally {
    await context.close();
  }
}

// A machine of 12,845,056 frames (fork-cost at 16 GiB: 49 GiB of RAM, more rows of 1,024 frames
// than a texture may have): the physical map shows its 16 GiB in use, not an empty map.
// The lab opened at `query` in a 1280x800 page of its own: fn(page), then no errors on it.
async function withLabAt(browser, url, query, what, fn) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  try {
    const page = await context.newPage();
    const problems = watchProblems(page);
    await page.goto(`${url}${query}`);
    await waitReady(page);
    await fn(page);
    await check(`no errors on ${what}`, () => noProblems(problems));
  } finally {
    await context.close();
  }
}

async function bigMachinePage(browser, url, args) {
  await withLabAt(browser, url, '?lesson=fork-cost&size_gib=16&step=2', 'the big machine\'s page', async (page) => {
    await check('the physical map of a 49 GiB machine shows its used frames (big-machine-map.png)', async () => {
      const deadline = Date.now() + 120_000;
      while (Date.now() < deadline && await page.evaluate(() => cowlab.busy())) await page.waitForTimeout(50);
      const info = await page.evaluate(() => cowlab.info());
      assert(info.total_frames > 8192 * 1024, `the machine has ${info.total_frames} frames`);
      await page.evaluate(() => cowlab.showView('memory'));
      await waitFrames(page, 5);
      const png = await page.screenshot({ clip: { x: 550, y: 420, width: 700, height: 350 } });
      fs.mkdirSync(args.artifacts, { recursive: true });
      fs.writeFileSync(path.join(args.artifacts, 'big-machine-map.png'), png);
      const { width, height, channels, pixels } = decodePng(png);
      let bluish = 0;   // the palette's "private" cells: blue well above red
      for (let i = 0; i < width * height * channels; i += channels) if (pixels[i + 2] > 150 && pixels[i + 2] > pixels[i] + 60) bluish++;
      const share = bluish / (width * height);
      assert(share > 0.2, `${(share * 100).toFixed(1)}% of the map's pixels are private frames' colour`);
    });
  });
}

// Parameters that ask more than can be run are refused before anything runs, with the reason:
// redis-bgsave's 500,000 values of 4 KiB on its default 2 GiB machine.
async function refusedPage(browser, url, args) {
  await withLabAt(browser, url, '?lesson=redis-bgsave', 'the refusing page', async (page) => {
    await check('a dataset larger than the machine is refused at once, saying why, and the value is put back ' +
      '(refused-dataset.png)', async () => {
      const before = await page.evaluate(() => cowlab.state());
      const t0 = Date.now();
      const r = await page.evaluate(() => cowlab.setParam('value_bytes', 4096));
      const ms = Date.now() - t0;
      assert(r.error && /500,000 keys of 4 KiB need .* of simulated RAM; this machine has 2 GiB: the dataset does not fit/.test(r.error),
        `setParam answered ${JSON.stringify(r)}`);
      assert(ms < 5000, `the refusal took ${ms} ms`);
      const after = await page.evaluate(() => cowlab.state());
      assert(after.params.value_bytes === before.params.value_bytes,
        `value_bytes is ${after.params.value_bytes}, was ${before.params.value_bytes}`);
      await waitFrames(page, 3);
      fs.writeFileSync(path.join(args.artifacts, 'refused-dataset.png'), await page.screenshot());
    });
  });
}

await runBrowserTest('tests/browser/smoke.mjs', async (browser, url, args) => {
  await refusedPage(browser, url, args);
  await labPage(browser, url, args);
  await bigMachinePage(browser, url, args);
  await hiDpiPage(browser, url);
  await noWebGL2Page(browser, url);
  await missingWasmPage(browser, url);
});
