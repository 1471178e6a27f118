// bench_web: the web lab's figures, measured in headless Chromium on this machine.
//
//   node tools/bench_web.mjs [--root build/wasm/web]
//
// Prints: the wasm and js sizes raw and gzipped (target: at most 1 MB gzipped together),
// cold load to the first frame on localhost (median of 3 fresh browser contexts), and the
// frame time with the physical-memory map of a 4 GiB machine (1,048,576 frames) on screen,
// every frame visible at one pixel per frame: the time the lab spends in its frame function
// and the interval between displayed frames.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_FLAGS, REPO, startServer, waitFrames, waitReady } from '../tests/browser/harness.mjs';

const rootArg = process.argv.indexOf('--root');
const root = path.resolve(rootArg > 0 ? process.argv[rootArg + 1] : path.join(REPO, 'build', 'wasm', 'web'));

let gz = 0;
console.log('cowlab web lab benchmark');
for (const name of ['cowlab.wasm', 'cowlab.js']) {
  const bytes = fs.readFileSync(path.join(root, name));
  const z = zlib.gzipSync(bytes, { level: 9 }).length;
  gz += z;
  console.log(`  ${name.padEnd(12)} ${(bytes.length / 1024).toFixed(0).padStart(6)} KiB raw, ${(z / 1024).toFixed(0).padStart(5)} KiB gzipped`);
}
console.log(`  wasm + js gzipped: ${(gz / 1024).toFixed(0)} KiB (target: at most 1024 KiB)`);

const server = startServer(root);
const url = await server.url;
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
try {
  const loads = [];
  for (let i = 0; i < 3; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(url);
    await waitReady(page);
    loads.push(await page.evaluate(() => performance.now()));
    await context.close();
  }
  loads.sort((a, b) => a - b);
  console.log(`  cold load to first frame: ${loads[1].toFixed(0)} ms median (${loads.map((x) => x.toFixed(0)).join(', ')} ms)`);

  // Frame time with a 4 GiB machine (1,048,576 frames) in the page map.
  const measure = async (width, height, zoom) => {
    const context = await browser.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    await page.goto(`${url}?lesson=fork-cost&size_gib=1&step=3`);
    await waitReady(page);
    const info = await page.evaluate(() => cowlab.info());
    await page.evaluate((z) => { cowlab.showView('memory'); cowlab.setZoom(z); }, zoom);
    await waitFrames(page, 10);
    await page.evaluate(() => cowlab.frameStats());   // reset
    const intervals = await page.evaluate(() => new Promise((resolve) => {
      const t = [];
      const tick = (now) => { t.push(now); if (t.length < 121) requestAnimationFrame(tick); else resolve(t.slice(1).map((x, i) => x - t[i])); };
      requestAnimationFrame(tick);
    }));
    const stats = await page.evaluate(() => cowlab.frameStats());
    intervals.sort((a, b) => a - b);
    const mean = intervals.reduce((a, b) => a + b, 0) / intervals.length;
    console.log(`  page map of ${info.total_frames} frames, ${width}x${height} window, ${zoom} px per frame:`);
    console.log(`    frame function ${stats.mean_ms.toFixed(2)} ms mean, ${stats.max_ms.toFixed(2)} ms max over ${stats.frames} frames;` +
      ` displayed every ${mean.toFixed(1)} ms (p95 ${intervals[Math.floor(intervals.length * 0.95)].toFixed(1)} ms, ${(1000 / mean).toFixed(0)} fps)`);
    await context.close();
  };
  console.log('  (headless Chromium draws WebGL2 with SwiftShader, on the CPU: a GPU does far better)');
  await measure(1280, 800, 6);
  await measure(1280, 800, 1);
  await measure(2560, 1600, 1);   // every one of the 1,048,576 frames on screen
} finally {
  await browser.close();
  await server.stop();
}
