// bench_web: the web lab's figures, measured in headless Chromium on this machine.
//
//   node tools/bench_web.mjs [--root build/wasm/web]
//
// Prints: the wasm and js sizes raw, gzipped and as the brotli files the build writes next to
// them (target: at most 600 KB together as served, brotli counting), cold load to the first
// frame on localhost (median of 5 fresh browser contexts, from navigation to cowlab.ready
// resolving in the page; target: at most 1.0 s) with where it goes (the page's performance
// marks "cowlab:*", the lab's included, and resource timing), and the frame time with the
// physical-memory map of a 4 GiB machine (1,048,576 frames) on screen, every frame visible at
// one pixel per frame: the time the lab spends in its frame function and the interval between
// displayed frames.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium } from 'playwright-core';

import { CHROMIUM, CHROMIUM_FLAGS, REPO, startServer, waitFrames, waitReady } from '../tests/browser/harness.mjs';

const kib = (n) => (n / 1024).toFixed(0);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

// In the page, before its own scripts: when cowlab.ready resolves, in ms since navigation (a
// page of any version of the lab, with or without its marks, is measured the same way).
function noteReady() {
  const poll = () => {
    if (window.cowlab && window.cowlab.ready) window.cowlab.ready.then(() => { window.cowlabReadyAt = performance.now(); });
    else setTimeout(poll, 1);
  };
  poll();
}

// In the page: the cold load's marks (ms since navigation) and the lab files' resource timing.
function timeline() {
  const marks = {};
  for (const m of performance.getEntriesByType('mark')) if (m.name.startsWith('cowlab:')) marks[m.name.slice(7)] = m.startTime;
  const files = {};
  for (const r of performance.getEntriesByType('resource')) {
    const name = r.name.split('/').pop().split('?')[0];
    if (/^cowlab\.(js|wasm)$/.test(name)) {
      files[name] = { start: r.startTime, end: r.responseEnd, transfer: r.transferSize, encoded: r.encodedBodySize, decoded: r.decodedBodySize };
    }
  }
  return { marks, files };
}

// In the page, once loaded: what lesson parsing and the first step cost when done again.
function lessonCosts() {
  const time = (fn) => { const t = performance.now(); fn(); return performance.now() - t; };
  return {
    list: time(() => cowlab.lessons()),
    load: time(() => cowlab.loadLesson('fork-basics', {}, 1)),
    query: time(() => cowlab.module.ccall('cowlab_open_query', 'string', ['string'], [''])),
  };
}

// The phases of a cold load: each mark's median time since navigation, in the order reached,
// with the time since the mark before it (what the phase ending at the mark took).
const MARKS = {
  'page-script': 'page: html, css, cowlab-page.js',
  'webgl-checked': 'WebGL2 check (a probe context)',
  'js-loaded': 'cowlab.js: download, run',
  'wasm-fetched': 'cowlab.wasm: downloaded (compiled as it arrives, beside cowlab.js)',
  'wasm-compiled': 'cowlab.wasm: compile (the rest)',
  'wasm-instantiated': 'cowlab.wasm: instantiate',
  main: 'runtime start to main()',
  'gl-ready': 'SDL, GL context, ImGui init',
  'query-opened': 'URL query: its lesson loaded',
  'app-ready': 'App::init: page-map shaders, default lesson and its first step',
  'fonts-start': 'first frame starts',
  'fonts-done': 'font atlas',
  'frame-1-done': 'first frame: windows, page map, draw',
  'runtime-ready': 'main() returns to the page',
  ready: 'the page sees the frame: cowlab.ready',
};
function printBreakdown(runs) {
  console.log('  where the cold load goes (median ms over the runs; performance marks cowlab:*):');
  const names = [...new Set(runs.flatMap((r) => Object.keys(r.marks)))];
  const at = names.map((n) => [n, median(runs.map((r) => r.marks[n]).filter((x) => x !== undefined))]).sort((x, y) => x[1] - y[1]);
  let prev = 0;
  for (const [name, t] of at) {
    console.log(`    ${(t - prev).toFixed(0).padStart(5)} ms  ${MARKS[name] || name}`.padEnd(72) + ` (cowlab:${name} at ${t.toFixed(0)} ms)`);
    prev = t;
  }
  const ready = runs.map((r) => r.marks.ready).filter((x) => x !== undefined);
  if (ready.length) console.log(`    ${'total, navigation to cowlab.ready'.padEnd(58)} ${median(ready).toFixed(0).padStart(5)}`);
  for (const name of ['cowlab.js', 'cowlab.wasm']) {
    const f = runs[runs.length - 1].files[name];
    if (f) {
      console.log(`    ${name}: ${kib(f.encoded)} KiB over the wire for ${kib(f.decoded)} KiB` +
        `, ${median(runs.map((r) => (r.files[name] ? r.files[name].end - r.files[name].start : 0))).toFixed(0)} ms request to last byte`);
    }
  }
  const l = runs.lessons;
  if (l) {
    console.log(`    once loaded: listing the lessons ${l.list.toFixed(1)} ms, loading fork-basics at step 1 ` +
      `${l.load.toFixed(1)} ms, an empty URL query ${l.query.toFixed(1)} ms`);
  }
}

const rootArg = process.argv.indexOf('--root');
const onlyArg = process.argv.indexOf('--only');   // --only ID: play that lesson, nothing else
const only = onlyArg > 0 ? process.argv[onlyArg + 1] : null;
const loadOnly = process.argv.includes('--load');   // --load: the cold load, nothing else
const root = path.resolve(rootArg > 0 ? process.argv[rootArg + 1] : path.join(REPO, 'build', 'wasm', 'web'));

let gz = 0;
let served = 0;
console.log('cowlab web lab benchmark');
for (const name of ['cowlab.wasm', 'cowlab.js']) {
  const bytes = fs.readFileSync(path.join(root, name));
  const z = zlib.gzipSync(bytes, { level: 9 }).length;
  const brFile = path.join(root, `${name}.br`);
  const br = fs.existsSync(brFile) ? fs.statSync(brFile).size : 0;
  gz += z;
  served += br && br < z ? br : z;
  console.log(`  ${name.padEnd(12)} ${kib(bytes.length).padStart(6)} KiB raw, ${kib(z).padStart(5)} KiB gzipped` +
    (br ? `, ${kib(br).padStart(5)} KiB brotli (${name}.br)` : ', no .br beside it'));
}
console.log(`  wasm + js gzipped: ${kib(gz)} KiB; as served (brotli where the build wrote it): ${kib(served)} KiB` +
  ' (target: at most 600 KiB)');

const server = startServer(root);
const url = await server.url;
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
try {
  if (only) await playLessons(browser, url);
  else if (loadOnly) await coldLoad();
  else await everything();
} finally {
  await browser.close();
  await server.stop();
}

// Sizes printed above; then cold load, the page map's frame time, and every lesson played.
async function everything() {
  await coldLoad();
  await pageMapAndLessons();
}

async function coldLoad() {
  const RUNS = 5;
  const loads = [];     // navigation to cowlab.ready resolving in the page (the first frame)
  const harness = [];   // navigation to the test's first look after cowlab.ready (polling, CDP)
  const breakdowns = [];
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.addInitScript(noteReady);
    const page = await context.newPage();
    await page.goto(url);
    await waitReady(page);
    harness.push(await page.evaluate(() => performance.now()));
    breakdowns.push(await page.evaluate(timeline));
    loads.push(await page.evaluate(() => window.cowlabReadyAt));
    if (i === RUNS - 1) breakdowns.lessons = await page.evaluate(lessonCosts);
    await context.close();
  }
  const list = (xs) => [...xs].sort((a, b) => a - b).map((x) => x.toFixed(0)).join(', ');
  console.log(`  cold load to first frame: ${median(loads).toFixed(0)} ms median of ${RUNS} ` +
    `(${list(loads)} ms; target: at most 1000 ms)`);
  console.log(`    as the test harness sees it (cowlab.ready polled over CDP): ${median(harness).toFixed(0)} ms median (${list(harness)} ms)`);
  printBreakdown(breakdowns);
}

async function pageMapAndLessons() {
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
  await playLessons(browser, url);
}

// Every lesson at default and at max parameters, played twice: through the page's API, whose
// calls return when a step has run (the heaviest step's engine time in wasm), then from the
// keyboard as a learner plays it (Right arrow), the lab running each step in slices between
// frames. Prints the longest gap between displayed frames and the lab's own longest frame,
// which leaves out GL drawing and the swap (SwiftShader's, on the CPU here): the stall the
// lab causes. Target: no stall over 50 ms.
async function playLessons(browser, url) {
  console.log('  playing every lesson (target: no stall over 50 ms; heaviest step natively: cowlab-bench-lessons)');
  console.log('    lesson           params   heaviest step (wasm)   longest frame gap   lab\'s longest frame   engine heap   (that frame: its parts, ms)');
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  await page.goto(url);
  await waitReady(page);
  const lessons = await page.evaluate(() => cowlab.lessons());
  for (const lesson of lessons) {
    if (only && lesson.id !== only) continue;
    for (const set of ['default', 'max']) {
      const figures = await page.evaluate(async ({ id, set }) => {
        // Max: each parameter's upper end, found by asking for too much and reading the bound.
        const params = {};
        if (set === 'max') {
          for (const name of Object.keys(cowlab.state().params)) {
            const e = cowlab.setParam(name, 1e300).error || '';
            const m = /, ([-0-9.e+]+)\]$/.exec(e);
            if (m) params[name] = Number(m[1]);
          }
        }
        const load = cowlab.loadLesson(id, params, 1);
        if (load.error) return { error: load.error };
        let heaviest = 0, at = 0;
        for (let n = 0; n < 40 && !cowlab.state().at_end; n++) {
          const t0 = performance.now();
          const res = cowlab.next();
          const dt = performance.now() - t0;
          if (res.error) break;
          if (dt > heaviest) { heaviest = dt; at = cowlab.state().step + 1; }
        }
        cowlab.loadLesson(id, params, 1);
        return { heaviest, at, query: cowlab.shareUrl() };
      }, { id: lesson.id, set });
      if (figures.error) { console.log(`    ${lesson.id.padEnd(16)} ${set.padEnd(8)} ${figures.error}`); continue; }
      // The keyboard: focus the canvas (a click on the lesson window's empty lower part), then Right.
      await page.mouse.click(200, 780);
      await page.evaluate(() => {
        cowlab.frameStats();
        window.__gaps = [];
        window.__stopGaps = false;
        let last = performance.now();
        const tick = (now) => { window.__gaps.push(now - last); last = now; if (!window.__stopGaps) requestAnimationFrame(tick); };
        requestAnimationFrame(tick);
      });
      for (let n = 0; n < 40; n++) {
        await page.keyboard.press('ArrowRight');
        await page.waitForTimeout(40);
        const deadline = Date.now() + 120_000;
        while (Date.now() < deadline && await page.evaluate(() => cowlab.busy())) await page.waitForTimeout(20);
        if ((await page.evaluate(() => cowlab.state())).at_end) break;
      }
      const gaps = await page.evaluate(() => { window.__stopGaps = true; return window.__gaps; });
      const stats = await page.evaluate(() => cowlab.frameStats());
      const heap = await page.evaluate(() => cowlab.module && cowlab.module.HEAPU8 ? cowlab.module.HEAPU8.length : 0);
      console.log(`    ${lesson.id.padEnd(16)} ${set.padEnd(8)} ${figures.heaviest.toFixed(0).padStart(7)} ms (step ${figures.at})` +
        `   ${Math.max(...gaps).toFixed(0).padStart(9)} ms   ${stats.lab_max_ms.toFixed(0).padStart(13)} ms` +
        `   ${(heap / 1048576).toFixed(0).padStart(8)} MiB` +
        `   (${stats.lab_max_parts.update.toFixed(0)} update, ${stats.lab_max_parts.work.toFixed(0)} of it work;` +
        ` ${stats.lab_max_parts.windows.toFixed(0)} windows)`);
    }
  }
  await context.close();
}
