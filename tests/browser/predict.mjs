// Browser test of predictions, as a learner makes them in a course page.
//
//   node tests/browser/predict.mjs [--root build/wasm/web] [--artifacts artifacts]
//
// The lab in an iframe of a page that listens to its messages. With the mouse and the keyboard:
// type 0 as a guess (0 is a guess like any other) and lock it in, run the step, go Back, move a
// slider; the guesses stay, a guess made for other parameter values is said to be one; Run with a
// prediction not locked in asks once before it runs; `checkpoint-answered` carries the guess; the
// last step's recap scores the lesson. Screenshots at three sizes of every lesson's last step and
// of the charts of redis-bgsave and fork-cost.

import fs from 'node:fs';
import path from 'node:path';

import { assert, check, noProblems, runBrowserTest, waitFrames, waitReady, watchProblems } from './harness.mjs';

const SIZES = [[800, 600], [1280, 800], [1920, 1080]];

// A course page: the lab in an iframe at the top left, every message it posts kept in window.heard.
async function openCourse(browser, url, query, [width, height]) {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.setContent(`<!doctype html><body style="margin:0">
    <iframe id="lab" src="${url}${query}" style="border:0;position:absolute;left:0;top:0;width:${width}px;height:${height}px"></iframe>
    <script>window.heard = []; addEventListener('message', (e) => { if (e.data && e.data.source === 'cowlab') heard.push(e.data); });</script>`);
  const frame = await (await page.$('#lab')).contentFrame();
  await waitReady(frame);
  await waitFrames(frame, 3);
  return { context, page, frame, problems };
}

// A control of the lab by the name it reports (cowlab.controls()), clicked as a person clicks.
async function click(page, frame, name) {
  const r = (await frame.evaluate(() => cowlab.controls()))[name];
  assert(r, `no control "${name}" on screen`);
  await page.mouse.move((r[0] + r[2]) / 2, (r[1] + r[3]) / 2);
  await waitFrames(frame, 2);
  await page.mouse.down();
  await waitFrames(frame, 2);
  await page.mouse.up();
  await waitFrames(frame, 3);
}

// A key held for two frames, as a person presses it (a press and release inside one frame is lost).
async function key(page, frame, k) {
  await page.keyboard.down(k);
  await waitFrames(frame, 2);
  await page.keyboard.up(k);
  await waitFrames(frame, 3);
}

const state = (frame) => frame.evaluate(() => cowlab.state());

async function predictions(browser, url, args) {
  const { context, page, frame, problems } = await openCourse(browser, url, '?lesson=fork-exec&step=2', [1280, 800]);
  try {
    await check('a guess of 0, typed and locked in, is a guess; the step then reveals it right', async () => {
      let s = await state(frame);
      assert(s.step === 1 && !s.ran && s.checkpoints.length === 1, `step ${s.step + 1}, ran ${s.ran}`);
      assert(!('guess' in s.checkpoints[0]), 'the input starts empty, not at 0');
      await click(page, frame, 'guess:0');
      await page.keyboard.type('0');
      await waitFrames(frame, 2);
      await click(page, frame, 'lock:0');
      s = await state(frame);
      assert(s.checkpoints[0].guess === 0 && s.checkpoints[0].guess_text === '0', JSON.stringify(s.checkpoints[0]));
      await key(page, frame, 'ArrowRight');
      s = await state(frame);
      assert(s.ran, 'Right runs the step once every prediction is locked in');
      const c = s.checkpoints[0];
      assert(c.answer === 0 && c.right === true, `answer ${c.answer}, right ${c.right}`);
    });

    await check('checkpoint-answered carries the guess and the answer', async () => {
      const heard = await page.evaluate(() => window.heard);
      const m = heard.find((h) => h.type === 'checkpoint-answered');
      assert(m, `messages: ${heard.map((h) => h.type).join(', ')}`);
      assert(m.lesson === 'fork-exec' && m.step === 2 && m.checkpoint === 0 && m.guess === 0 && m.guess_text === '0' &&
        m.right === true && m.answer === 0, JSON.stringify(m));
    });

    await check('Back and Next keep the guess, locked in', async () => {
      await click(page, frame, 'back');
      await click(page, frame, 'back');
      let s = await state(frame);
      assert(s.step === 0, `at step ${s.step + 1}`);
      await click(page, frame, 'next');
      s = await state(frame);
      assert(s.step === 1 && !s.ran, `step ${s.step + 1}, ran ${s.ran}`);
      assert(s.checkpoints[0].guess === 0 && !('guess_for_other_values' in s.checkpoints[0]), JSON.stringify(s.checkpoints[0]));
    });

    await check('a slider moved: the guess stays, said to be for the other value', async () => {
      const before = (await state(frame)).params.shell_mib;
      const r = (await frame.evaluate(() => cowlab.controls()))['param:shell_mib'];
      const y = (r[1] + r[3]) / 2;
      await page.mouse.move(r[0] + 4, y);
      await waitFrames(frame, 2);
      await page.mouse.down();
      await waitFrames(frame, 2);
      await page.mouse.move(r[0] + (r[2] - r[0]) * 0.3, y, { steps: 4 });
      await waitFrames(frame, 2);
      await page.mouse.up();
      await frame.waitForFunction(() => !cowlab.state().busy, null, { timeout: 30_000 });
      await waitFrames(frame, 3);
      const s = await state(frame);
      assert(s.params.shell_mib !== before, `shell_mib stayed ${before}`);
      const c = s.checkpoints[0];
      assert(c.guess === 0 && /shell/.test(c.guess_for_other_values || ''), JSON.stringify(c));
      const back = await frame.evaluate((v) => cowlab.setParam('shell_mib', v), before);   // set back: for these values again
      assert(back.ok && !('guess_for_other_values' in (await state(frame)).checkpoints[0]), JSON.stringify(back));
    });

    await check('Run with a prediction not locked in asks once, then runs', async () => {
      await frame.evaluate(() => cowlab.goTo(4));   // vfork: a choice
      let s = await state(frame);
      assert(s.step === 3 && !s.ran && !('guess' in s.checkpoints[0]), JSON.stringify(s.checkpoints[0]));
      await key(page, frame, 'ArrowRight');
      s = await state(frame);
      assert(!s.ran, 'the first press only asks');
      await key(page, frame, 'ArrowRight');
      s = await state(frame);
      assert(s.ran && !('right' in s.checkpoints[0]), 'the second press runs it, with nothing graded');
    });

    await check('the last step recaps every prediction with the engine\'s answer and the score', async () => {
      for (let n = 0; n < 10; n++) {
        const s = await state(frame);
        if (s.at_end) break;
        if (!s.ran) for (let i = 0; i < s.checkpoints.length; i++) await frame.evaluate((k) => cowlab.answer(k, 1), i);
        await frame.evaluate(() => cowlab.next());
      }
      const s = await state(frame);
      assert(s.at_end, `ended at step ${s.step + 1}`);
      const r = s.recap;
      assert(r.asked === 4 && r.revealed === 4, JSON.stringify(r).slice(0, 300));
      const step2 = r.items.find((it) => it.step === 1);
      assert(step2.guess === 0 && step2.right === true && step2.answer_text === '0', JSON.stringify(step2));
      const rights = r.items.filter((it) => it.right).length;
      assert(r.right === rights && r.guessed === r.items.filter((it) => 'guess' in it && !it.guess_for_other_values).length,
        `score ${r.right} of ${r.guessed}: ${JSON.stringify(r.items.map((it) => [it.guess, it.answer, it.right]))}`);
    });

    await check('no errors on the page while predicting', () => noProblems(problems));
  } finally {
    await context.close();
  }

  await check('screenshots of every lesson\'s last step, and of charts, at 800x600, 1280x800 and 1920x1080', async () => {
    fs.mkdirSync(path.join(args.artifacts, 'last-steps'), { recursive: true });
    for (const size of SIZES) {
      const lab = await openCourse(browser, url, '?lesson=fork-basics', size);
      try {
        const lessons = await lab.frame.evaluate(() => cowlab.lessons());
        for (const { id } of lessons) {
          for (const view of id === 'redis-bgsave' || id === 'fork-cost' ? ['mapping', 'metrics'] : ['mapping']) {
            await lab.frame.evaluate(async ([lesson, v]) => {
              cowlab.loadLesson(lesson, {}, 1);
              cowlab.showView(v);
              for (let n = 0; n < 30; n++) {
                const s = cowlab.state();
                if (s.at_end) break;
                if (!s.ran) s.checkpoints.forEach((c, i) => cowlab.answer(i, c.kind === 'choice' ? 0 : 1));
                cowlab.next();
              }
            }, [id, view]);
            await lab.frame.waitForFunction(() => !cowlab.state().busy, null, { timeout: 60_000 });
            await waitFrames(lab.frame, 4);
            const s = await state(lab.frame);
            assert(s.at_end && s.recap.revealed === s.recap.asked, `${id}: ended at step ${s.step + 1} of ${s.steps}`);
            const name = view === 'metrics' ? `charts-${id}` : id;
            await lab.page.screenshot({ path: path.join(args.artifacts, 'last-steps', `${name}-${size[0]}x${size[1]}.png`) });
          }
        }
        noProblems(lab.problems);
      } finally {
        await lab.context.close();
      }
    }
  });
}

await runBrowserTest('tests/browser/predict.mjs', predictions);
