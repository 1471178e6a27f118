// Browser smoke test of the built web lab.
//
//   node tests/browser/smoke.mjs [--root build/wasm/web] [--artifacts artifacts]
//
// Serves the lab with serve.py, drives Debian's Chromium (WebGL2 on SwiftShader) through
// playwright-core and checks that the lab loads, runs its main loop, draws something, sizes its
// canvas to the window at any device pixel ratio, keeps the page's globals clean, and explains
// itself when WebGL2 or the wasm is missing. One `ok - ...` / `not ok - ...` line per check;
// exits 1 if any check fails. The screenshot is saved to <artifacts>/lab.png.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// Playwright gives every launch a fresh temporary --user-data-dir of its own.
const CHROMIUM_FLAGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
];
const SERVER_TIMEOUT_MS = 20_000;
const READY_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// Reporting

let failures = 0;

function report(name, error) {
  if (error) {
    failures++;
    const message = String(error.message || error).split('\n')[0]; // one line per check
    console.log(`not ok - ${name}: ${message}`);
  } else {
    console.log(`ok - ${name}`);
  }
}

// Runs one check; `fn` throws (through assert) to fail it. Returns whether it passed.
async function check(name, fn) {
  try {
    await fn();
    report(name);
    return true;
  } catch (e) {
    report(name, e);
    return false;
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

function parseArgs(argv) {
  const args = { root: path.join(REPO, 'build', 'wasm', 'web'), artifacts: 'artifacts' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if ((flag === '--root' || flag === '--artifacts') && value !== undefined) {
      args[flag.slice(2)] = value;
      i++;
    } else {
      console.error('usage: node tests/browser/smoke.mjs [--root build/wasm/web] ' +
        '[--artifacts artifacts]');
      process.exit(2);
    }
  }
  args.root = path.resolve(args.root);
  args.artifacts = path.resolve(args.artifacts);
  return args;
}

// ---------------------------------------------------------------------------------------------
// The server

function startServer(root) {
  const child = spawn('python3',
    [path.join(REPO, 'serve.py'), '--no-build', '--root', root, '--port', '0', '--quiet'],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const stopped = new Promise((resolve) => child.once('close', resolve));
  const url = new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(
      `serve.py printed no URL within ${SERVER_TIMEOUT_MS / 1000} s${err ? `: ${err.trim()}` : ''}`)),
    SERVER_TIMEOUT_MS);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/http:\/\/\S+/);
      if (match) {
        clearTimeout(timer);
        resolve(match[0]);
      }
    });
    child.stderr.on('data', (chunk) => { err += chunk; });
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`cannot run python3: ${e.message}`));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      const last = err.trim().split('\n').pop(); // argparse puts the reason last
      reject(new Error(`serve.py exited (${code}) before serving${last ? `: ${last}` : ''}`));
    });
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await stopped;
  };
  return { url, stop, child };
}

// ---------------------------------------------------------------------------------------------
// Pages

// Collects everything that should never happen on a healthy page.
function watchProblems(page, { allow = () => false } = {}) {
  const problems = [];
  const note = (text) => { if (!allow(text)) problems.push(text); };
  page.on('console', (m) => { if (m.type() === 'error') note(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => note(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => note(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('response', (r) => { if (r.status() >= 400) note(`HTTP ${r.status()}: ${r.url()}`); });
  return problems;
}

function noProblems(problems) {
  assert(problems.length === 0, problems.slice(0, 5).join('; '));
}

async function waitReady(page) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(
      `cowlab.ready did not resolve within ${READY_TIMEOUT_MS / 1000} s`)), READY_TIMEOUT_MS);
  });
  try {
    await Promise.race([
      page.waitForFunction(() => window.cowlab !== undefined, null, { timeout: READY_TIMEOUT_MS })
        .then(() => page.evaluate(() => window.cowlab.ready.then(() => true))),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

// Waits until the app has rendered `frames` more frames (so it has seen a resize).
async function waitFrames(page, frames) {
  const start = await page.evaluate(() => window.cowlab.frameCount());
  await page.waitForFunction((target) => window.cowlab.frameCount() >= target, start + frames,
    { timeout: 10_000 }).catch(() => {
    throw new Error(`the app rendered fewer than ${frames} frames in 10 s ` +
      `(frameCount stuck at ${start})`);
  });
}

function canvasSize(page) {
  return page.evaluate(() => {
    const c = document.getElementById('canvas');
    return { width: c.width, height: c.height, clientWidth: c.clientWidth,
      clientHeight: c.clientHeight, dpr: window.devicePixelRatio,
      innerWidth: window.innerWidth, innerHeight: window.innerHeight };
  });
}

// The backing store must follow the CSS size times the device pixel ratio (within 1 px).
async function checkBackingStore(page, width, height) {
  let size = await canvasSize(page);
  // The app resizes on its next frame; give it a few.
  for (let i = 0; i < 20; i++) {
    const matches = Math.abs(size.width - size.clientWidth * size.dpr) <= 1 &&
      Math.abs(size.height - size.clientHeight * size.dpr) <= 1;
    if (matches && size.clientWidth === width && size.clientHeight === height) break;
    await waitFrames(page, 2);
    size = await canvasSize(page);
  }
  const text = `canvas ${size.width}x${size.height}, CSS ${size.clientWidth}x${size.clientHeight}, ` +
    `devicePixelRatio ${size.dpr}`;
  assert(size.clientWidth === width && size.clientHeight === height,
    `the canvas should fill the ${width}x${height} window: ${text}`);
  assert(Math.abs(size.width - size.clientWidth * size.dpr) <= 1 &&
    Math.abs(size.height - size.clientHeight * size.dpr) <= 1,
  `backing store should be CSS size x devicePixelRatio: ${text}`);
}

// ---------------------------------------------------------------------------------------------
// PNG: 8-bit RGB/RGBA, non-interlaced, filters 0-4 (what Chromium's screenshots are).

function decodePng(buf) {
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  assert(buf.length > 8 && buf.subarray(0, 8).equals(signature), 'not a PNG');
  let width = 0, height = 0, bitDepth = 0, colorType = 0, interlace = 0;
  const idat = [];
  for (let at = 8; at + 8 <= buf.length;) {
    const length = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    const data = buf.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      bitDepth = data[8];
      colorType = data[9];
      interlace = data[12];
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      break;
    }
    at += 12 + length;
  }
  assert(bitDepth === 8 && (colorType === 2 || colorType === 6) && interlace === 0,
    `unsupported PNG (bit depth ${bitDepth}, colour type ${colorType}, interlace ${interlace})`);
  const channels = colorType === 6 ? 4 : 3;
  const stride = width * channels;
  const raw = zlib.inflateSync(Buffer.concat(idat));
  assert(raw.length >= height * (stride + 1), 'PNG image data is truncated');
  const pixels = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = y * (stride + 1) + 1;
    const row = y * stride;
    const prev = row - stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[row + x - channels] : 0;
      const b = y > 0 ? pixels[prev + x] : 0;
      const c = x >= channels && y > 0 ? pixels[prev + x - channels] : 0;
      let predictor;
      switch (filter) {
        case 0: predictor = 0; break;
        case 1: predictor = a; break;
        case 2: predictor = b; break;
        case 3: predictor = (a + b) >> 1; break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`bad PNG filter ${filter} on row ${y}`);
      }
      pixels[row + x] = (raw[line + x] + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

// How varied an image is: distinct RGB colours and the share of pixels unlike the commonest.
function colourStats({ width, height, channels, pixels }) {
  const counts = new Map();
  for (let i = 0; i < width * height * channels; i += channels) {
    const key = (pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2];
    counts.set(key, (counts.get(key) || 0) + 1);
  }
  const commonest = Math.max(...counts.values());
  return { distinct: counts.size, differing: 1 - commonest / (width * height) };
}

// ---------------------------------------------------------------------------------------------
// The checks

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

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const server = startServer(args.root);
  const stopServer = () => { if (server.child.exitCode === null) server.child.kill('SIGTERM'); };
  process.once('exit', stopServer);
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => { stopServer(); process.exit(130); });
  }

  let browser;
  try {
    let url;
    const shown = path.relative(process.cwd(), args.root);
    if (!await check(`serve.py serves ${shown.startsWith('..') ? args.root : shown || '.'}`,
      async () => { url = await server.url; })) return;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
    await labPage(browser, url, args);
    await hiDpiPage(browser, url);
    await noWebGL2Page(browser, url);
    await missingWasmPage(browser, url);
  } catch (e) {
    report('the smoke test ran to the end', e);
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.stop();
  }
}

await main();
console.log(failures ? `# ${failures} check(s) failed` : '# all checks passed');
process.exit(failures ? 1 : 0);
