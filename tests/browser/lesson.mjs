// Browser test of the lesson player.
//
//   node tests/browser/lesson.mjs [--root build/wasm/web] [--artifacts artifacts]
//
// Drives a whole lesson through window.cowlab (load, predict, set a parameter, step to the
// end) and checks the engine's figures; clicks the lab's own "Next step" button with the
// mouse; opens a URL with bad parameters and checks that the lab says so and keeps working;
// saves a screenshot of each window to <artifacts>/.

import fs from 'node:fs';
import path from 'node:path';

import { assert, check, clickLab, noProblems, runBrowserTest, waitFrames, waitReady, watchProblems } from './harness.mjs';

const VIEW = { width: 1280, height: 800 };


async function openLab(browser, url) {
  const context = await browser.newContext({ viewport: VIEW, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(url);
  await waitReady(page);
  return { context, page, problems };
}

// Steps to the end of the loaded lesson, predicting every checkpoint with `guess(c, i)`.
async function playToEnd(page, guess) {
  const seen = [];
  for (let n = 0; n < 50; n++) {
    const state = await page.evaluate(() => cowlab.state());
    if (!state.ran) {
      for (let i = 0; i < state.checkpoints.length; i++) {
        const r = await page.evaluate(([k, g]) => cowlab.answer(k, g), [i, guess(state.checkpoints[i], i)]);
        assert(r.ok, `answer ${i} of step ${state.step + 1}: ${r.error}`);
      }
    }
    if (state.at_end) break;
    const r = await page.evaluate(() => cowlab.next());
    assert(r.ok, `next at step ${state.step + 1}: ${r.error}`);
    seen.push(await page.evaluate(() => cowlab.state()));
  }
  return seen;
}

async function apiLesson(browser, url, args) {
  const { context, page, problems } = await openLab(browser, url);
  try {
    await check('the lab lands on the default lesson (fork-basics)', async () => {
      const s = await page.evaluate(() => cowlab.state());
      assert(s.loaded && s.lesson === 'fork-basics', `state: ${JSON.stringify(s).slice(0, 200)}`);
      const lessons = await page.evaluate(() => cowlab.lessons());
      assert(lessons.length >= 6 && lessons.some((l) => l.id === 'fork-cost'), `lessons: ${lessons.length}`);
    });

    let states = [];
    await check('a whole lesson plays through the JS API, and the answers are the engine\'s', async () => {
      const r = await page.evaluate(() => cowlab.loadLesson('fork-basics', { ints: 10 }, 1));
      assert(r.ok, r.error);
      states = await playToEnd(page, (c) => (c.kind === 'choice' ? 0 : 1));
      const last = states[states.length - 1];
      assert(last.at_end && last.step === last.steps - 1, `ended at step ${last.step + 1} of ${last.steps}`);
      const copies = states.find((s) => s.step === 2 && s.ran).checkpoints[0];
      assert(copies.revealed && copies.answer === 1 && copies.right === true,
        `"pages copied" checkpoint: ${JSON.stringify(copies)}`);
      const metrics = await page.evaluate(() => cowlab.metrics());
      const child = metrics.processes.find((p) => p.name === 'child');
      assert(child && child.cow_copies === 1, `child: ${JSON.stringify(child)}`);
      assert(child.private_dirty === 4096, `child Private_Dirty ${child.private_dirty}, expected 4096`);
    });

    await check('a parameter change replays the lesson: 2000 ints copy 2 pages', async () => {
      let r = await page.evaluate(() => cowlab.goTo(3));
      assert(r.ok, r.error);
      r = await page.evaluate(() => cowlab.setParam('ints', 2000));
      assert(r.ok, r.error);
      await page.evaluate(() => cowlab.next());
      const child = (await page.evaluate(() => cowlab.metrics())).processes.find((p) => p.name === 'child');
      assert(child.cow_copies === 2, `2000 ints = 8000 bytes = 2 pages; the child copied ${child.cow_copies}`);
      const bad = await page.evaluate(() => cowlab.setParam('ints', -5));
      assert(bad.error && /outside/.test(bad.error), `a bad value should be refused: ${JSON.stringify(bad)}`);
    });

    await check('screenshots of each window', async () => {
      await page.evaluate(() => cowlab.loadLesson('fork-basics', {}, 3));
      await page.evaluate(() => cowlab.answer(0, 1));
      await page.evaluate(() => cowlab.next());
      await waitFrames(page, 3);
      fs.mkdirSync(args.artifacts, { recursive: true });
      const shots = { 'lesson-window.png': { x: 0, y: 0, width: 536, height: 800 },
        'processes-window.png': { x: 536, y: 0, width: 744, height: 334 } };
      for (const [name, clip] of Object.entries(shots)) {
        fs.writeFileSync(path.join(args.artifacts, name), await page.screenshot({ clip }));
      }
      const bottom = { x: 536, y: 334, width: 744, height: 466 };
      await page.evaluate(() => cowlab.goTo(5));
      for (const view of ['memory', 'address', 'metrics', 'events']) {
        const r = await page.evaluate((v) => cowlab.showView(v), view);
        assert(r.ok, r.error);
        await waitFrames(page, 3);
        fs.writeFileSync(path.join(args.artifacts, `${view}-window.png`), await page.screenshot({ clip: bottom }));
      }
      const bad = await page.evaluate(() => cowlab.showView('nope'));
      assert(bad.error, 'an unknown view is refused');
      fs.writeFileSync(path.join(args.artifacts, 'lesson-full.png'), await page.screenshot());
    });

    await check('no errors on the page while playing', () => noProblems(problems));
  } finally {
    await context.close();
  }
}

async function mouse(browser, url) {
  // A fresh page: notices from other checks would move the buttons.
  const { context, page, problems } = await openLab(browser, url);
  try {
    await check('clicking "Next step" with the mouse advances the lesson', async () => {
      await waitFrames(page, 3);
      const before = await page.evaluate(() => cowlab.state());
      // The lesson window's button row: "< Back" "Next step >" "Reset" "Play" ... at the top left.
      await clickLab(page, 116, 89);
      const after = await page.evaluate(() => cowlab.state());
      assert(after.step === before.step + 1, `step ${before.step + 1} -> ${after.step + 1}`);
    });

    await check('the narrative and questions are mirrored into the ARIA live region', async () => {
      const text = await page.evaluate(() => document.getElementById('cowlab-live').textContent);
      assert(/Step 2 of 5/.test(text) && /fork\(\)/.test(text), `live region: ${text.slice(0, 120)}`);
    });

    await check('no errors on the page after clicking', () => noProblems(problems));
  } finally {
    await context.close();
  }
}

async function badUrl(browser, url) {
  const { context, page, problems } = await openLab(browser, `${url}?lesson=no-such%FF&step=99&ints=abc&colour=red&%FE=%FD`);
  try {
    await check('a URL with bad parameters is reported and ignored', async () => {
      const info = await page.evaluate(() => cowlab.info());
      const notices = info.notices.join(' | ');
      assert(/no lesson 'no-such/.test(notices), notices);   // with an invalid UTF-8 byte, shown replaced
      assert(/step=99/.test(notices) && /not a number/.test(notices) && /no parameter 'colour'/.test(notices), notices);
      const s = await page.evaluate(() => cowlab.state());
      assert(s.lesson === 'fork-basics' && s.step === 0, `fell back to ${s.lesson} step ${s.step + 1}`);
    });
    await check('the lab keeps working after bad parameters', async () => {
      await waitFrames(page, 5);
      const r = await page.evaluate(() => cowlab.next());
      assert(r.ok, r.error);
    });
    await check('no errors on the page with bad URL parameters', () => noProblems(problems));
  } finally {
    await context.close();
  }
  const good = await openLab(browser, `${url}?lesson=fork-cost&step=2&size_gib=2`);
  try {
    await check('a URL chooses the lesson, the step and a parameter', async () => {
      const s = await good.page.evaluate(() => cowlab.state());
      assert(s.lesson === 'fork-cost' && s.step === 1 && s.params.size_gib === 2, JSON.stringify(s).slice(0, 200));
      const share = await good.page.evaluate(() => cowlab.shareUrl());
      assert(/\?lesson=fork-cost&step=2&size_gib=2$/.test(share), share);
    });
  } finally {
    await good.context.close();
  }
}

async function coursePage(browser, url, args) {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems = watchProblems(page);
  try {
    await page.goto(`${url}course-example.html`);
    await check('the example course page hears both embedded lessons load', async () => {
      await page.waitForFunction(() => /lesson-fork: lesson-loaded/.test(document.getElementById('progress').textContent) &&
        /lesson-redis: lesson-loaded/.test(document.getElementById('progress').textContent), null, { timeout: 60_000 });
      const text = await page.evaluate(() => document.getElementById('progress').textContent);
      assert(/lesson-fork: lesson-loaded fork-basics/.test(text) && /lesson-redis: lesson-loaded redis-bgsave/.test(text), text);
      assert(!/recording-redis: lesson-loaded/.test(text), `the recording's frame spoke of a lesson: ${text}`);
    });
    await check('the example course page replays a recording of a real Redis and hears it open', async () => {
      await page.waitForFunction(() => /recording-redis: recording-opened example-redis-bgsave\.jsonl/
        .test(document.getElementById('progress').textContent), null, { timeout: 60_000 });
      const frame = page.frame({ url: /recording=/ });
      const r = await frame.evaluate(() => cowlab.replay());
      const file = fs.readFileSync(path.join(args.root, 'example-redis-bgsave.jsonl'), 'utf8');
      const samples = file.split('\n').filter((l) => l.includes('"type":"sample"')).length;
      assert(r.open && r.experiments.length === 1 && r.experiments[0].name === 'redis-bgsave' && samples > 1 &&
        r.samples === samples, `${samples} samples in the file; ${JSON.stringify(r).slice(0, 300)}`);
    });
    await check('a step and an answer in an embedded lesson reach the course page', async () => {
      const frame = page.frame({ url: /lesson=fork-basics/ });
      await frame.waitForFunction(() => window.cowlab && window.cowlab.module);
      await frame.evaluate(() => cowlab.goTo(3));
      await frame.evaluate(() => cowlab.answer(0, 1));
      await frame.evaluate(() => cowlab.next());
      await page.waitForFunction(() => /checkpoint 1: right/.test(document.getElementById('progress').textContent),
        null, { timeout: 10_000 });
      const text = await page.evaluate(() => document.getElementById('progress').textContent);
      assert(/step-changed fork-basics step 3/.test(text), text);
    });
    fs.mkdirSync(args.artifacts, { recursive: true });
    fs.writeFileSync(path.join(args.artifacts, 'course-example.png'), await page.screenshot());
    await check('no errors on the course page', () => noProblems(problems));
  } finally {
    await context.close();
  }
}

async function exports(browser, url) {
  const context = await browser.newContext({ viewport: VIEW, deviceScaleFactor: 1, acceptDownloads: true });
  const page = await context.newPage();
  try {
    await page.goto(`${url}?lesson=fork-basics&step=3`);
    await waitReady(page);
    await check('File > Metrics as CSV downloads one row per step and process', async () => {
      // The File button sits at the end of the lesson window's button row; its menu opens at the mouse.
      const download = page.waitForEvent('download', { timeout: 15_000 });
      await clickLab(page, 363, 92);    // "File"
      await clickLab(page, 420, 140);   // "Metrics as CSV", below "Open a recording..." and "Export"
      const file = await download;
      assert(file.suggestedFilename() === 'cowlab-fork-basics.csv', file.suggestedFilename());
      const text = fs.readFileSync(await file.path(), 'utf8');
      const lines = text.trim().split('\n');
      assert(lines[0].startsWith('step,step_title,process,pid,rss'), lines[0]);
      assert(lines.length >= 3 && lines.some((l) => l.startsWith('2,fork(),child,2,')), text.slice(0, 400));
    });
  } finally {
    await context.close();
  }
}

await runBrowserTest('tests/browser/lesson.mjs', async (browser, url, args) => {
  await mouse(browser, url);
  await apiLesson(browser, url, args);
  await badUrl(browser, url);
  await coursePage(browser, url, args);
  await exports(browser, url);
});
