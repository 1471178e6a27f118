// Shared pieces of the browser tests: serve.py as the server, Debian's Chromium through
// playwright-core, one `ok - ...` / `not ok - ...` line per check, PNG decoding.

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
// Playwright gives every launch a fresh temporary --user-data-dir of its own.
export const CHROMIUM_FLAGS = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
];
const SERVER_TIMEOUT_MS = 20_000;
export const READY_TIMEOUT_MS = 60_000;

// ---------------------------------------------------------------------------------------------
// Reporting

let failures = 0;
export const failureCount = () => failures;

export function report(name, error) {
  if (error) {
    failures++;
    const message = String(error.message || error).split('\n')[0]; // one line per check
    console.log(`not ok - ${name}: ${message}`);
  } else {
    console.log(`ok - ${name}`);
  }
}

// Runs one check; `fn` throws (through assert) to fail it. Returns whether it passed.
export async function check(name, fn) {
  try {
    await fn();
    report(name);
    return true;
  } catch (e) {
    report(name, e);
    return false;
  }
}

export function assert(condition, message) {
  if (!condition) throw new Error(message);
}

export function parseArgs(argv, script = 'tests/browser/smoke.mjs') {
  const args = { root: path.join(REPO, 'build', 'wasm', 'web'), artifacts: 'artifacts' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if ((flag === '--root' || flag === '--artifacts') && value !== undefined) {
      args[flag.slice(2)] = value;
      i++;
    } else {
      console.error(`usage: node ${script} [--root build/wasm/web] ` +
        '[--artifacts artifacts]');
      process.exit(2);
    }
  }
  args.root = path.resolve(args.root);
  args.artifacts = path.resolve(args.artifacts);
  fs.mkdirSync(args.artifacts, { recursive: true });   // every test writes its screenshots there
  return args;
}

// ---------------------------------------------------------------------------------------------
// The server

export function startServer(root) {
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
export function watchProblems(page, { allow = () => false } = {}) {
  const problems = [];
  const note = (text) => { if (!allow(text)) problems.push(text); };
  page.on('console', (m) => { if (m.type() === 'error') note(`console error: ${m.text()}`); });
  page.on('pageerror', (e) => note(`uncaught: ${e.message}`));
  page.on('requestfailed', (r) => note(`request failed: ${r.url()} (${r.failure()?.errorText})`));
  page.on('response', (r) => { if (r.status() >= 400) note(`HTTP ${r.status()}: ${r.url()}`); });
  return problems;
}

export function noProblems(problems) {
  assert(problems.length === 0, problems.slice(0, 5).join('; '));
}

export async function waitReady(page) {
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
// A click on the lab's canvas as a person makes it: move, press and release on separate frames.
export async function clickLab(page, x, y) {
  await page.mouse.move(x, y);
  await waitFrames(page, 2);
  await page.mouse.down();
  await waitFrames(page, 2);
  await page.mouse.up();
  await waitFrames(page, 3);
}

export async function waitFrames(page, frames) {
  const start = await page.evaluate(() => window.cowlab.frameCount());
  await page.waitForFunction((target) => window.cowlab.frameCount() >= target, start + frames,
    { timeout: 10_000 }).catch(() => {
    throw new Error(`the app rendered fewer than ${frames} frames in 10 s ` +
      `(frameCount stuck at ${start})`);
  });
}

export function canvasSize(page) {
  return page.evaluate(() => {
    const c = document.getElementById('canvas');
    return { width: c.width, height: c.height, clientWidth: c.clientWidth,
      clientHeight: c.clientHeight, dpr: window.devicePixelRatio,
      innerWidth: window.innerWidth, innerHeight: window.innerHeight };
  });
}

// The backing store must follow the CSS size times the device pixel ratio (within 1 px).
export async function checkBackingStore(page, width, height) {
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

export function decodePng(buf) {
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
export function colourStats({ width, height, channels, pixels }) {
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


// Serves the lab, launches Chromium, runs `pages(browser, url, args)`, cleans up, and exits
// with 1 if any check failed.
export async function runBrowserTest(script, pages) {
  const args = parseArgs(process.argv.slice(2), script);
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
    if (await check(`serve.py serves ${shown.startsWith('..') ? args.root : shown || '.'}`,
      async () => { url = await server.url; })) {
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
      await pages(browser, url, args);
    }
  } catch (e) {
    report(`${script} ran to the end`, e);
  } finally {
    if (browser) await browser.close().catch(() => {});
    await server.stop();
  }
  console.log(failures ? `# ${failures} check(s) failed` : '# all checks passed');
  process.exit(failures ? 1 : 0);
}
