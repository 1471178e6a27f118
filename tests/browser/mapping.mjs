// Browser test of the mapping view: fork-basics played with the keyboard and the
// mouse as a student would, the view read through window.cowlab after each step.
//
//   node tests/browser/mapping.mjs [--root build/wasm/web] [--artifacts artifacts]
//
// After fork both processes' entries map the same frames, read-only; after the
// child's first write the child's entry points at a new frame, writable, and
// each frame is mapped once. Screenshots of each step land in <artifacts>/.

import fs from 'node:fs';
import path from 'node:path';

import { assert, check, clickLab, noProblems, runBrowserTest, waitFrames, waitReady, watchProblems } from './harness.mjs';

const SIZES = [{ width: 1280, height: 800 }, { width: 800, height: 600 }, { width: 1920, height: 1080 }];

const mapping = (page) => page.evaluate(() => cowlab.mapping());
const state = (page) => page.evaluate(() => cowlab.state());

async function shot(page, args, name) {
  await waitFrames(page, 4);
  fs.writeFileSync(path.join(args.artifacts, name), await page.screenshot());
}

// Right arrow: run the step shown, or go to the next one (the lab's own key). cowlab.state().step counts from 0.
// The key is held for two frames, as a person holds it: a press and release
// inside one frame never reaches the lab (it reads the keys once a frame).
async function pressNext(page) {
  await page.keyboard.down('ArrowRight');
  await waitFrames(page, 2);
  await page.keyboard.up('ArrowRight');
  for (let i = 0; i < 100 && await page.evaluate(() => cowlab.busy()); i++) await page.waitForTimeout(50);
  await waitFrames(page, 3);
}

async function student(browser, url, args) {
  const context = await browser.newContext({ viewport: SIZES[0], deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(`${url}?lesson=fork-basics`);
  await waitReady(page);
  await waitFrames(page, 5);
  try {
    await check('the mapping view is the tab shown first, with the parent\'s first 8 pages of .bss, each writable in its own frame', async () => {
      const m = await mapping(page);
      assert(m.processes.length === 1 && m.processes[0].name === 'parent', `processes: ${JSON.stringify(m.processes)}`);
      assert(m.rows_are === 'pages' && m.rows.length === 8, `${m.rows_are}, ${m.rows.length} rows`);
      for (const r of m.rows) {
        assert(r.entries[0].first_writable && r.frames.length === 1 && r.frames[0].mapcount === 1, `row ${JSON.stringify(r)}`);
      }
      await shot(page, args, 'mapping-1-spawn.png');
    });

    // The canvas takes the keys once it is clicked (an empty spot of the lesson window).
    const ctl = await page.evaluate(() => cowlab.controls());
    assert(ctl.next, 'the Next button is drawn');
    await clickLab(page, ctl.next[0] - 10, ctl.next[3] + 40);
    await pressNext(page);   // to step 2, fork(): asked first
    let s = await state(page);
    await check('Right goes to fork(), not yet run; the view still shows the parent alone', async () => {
      assert(s.step === 1 && !s.ran, `step ${s.step}, ran ${s.ran}`);
      const m = await mapping(page);
      assert(m.processes.length === 1, `processes: ${JSON.stringify(m.processes)}`);
    });
    await page.evaluate(() => cowlab.answer(0, 0));
    await pressNext(page);   // runs fork()
    await check('after fork both entries of every page map the same frame, read-only, from page tables of their own', async () => {
      s = await state(page);
      assert(s.step === 1 && s.ran, `step ${s.step}, ran ${s.ran}`);
      const m = await mapping(page);
      assert(m.processes.map((p) => p.name).join() === 'parent,child', `processes: ${JSON.stringify(m.processes)}`);
      assert(m.rows.length === 8, `${m.rows.length} rows`);
      for (const r of m.rows) {
        const [p, c] = r.entries;
        assert(p.first_frame === c.first_frame && p.first_frame >= 0, `frames ${p.first_frame} / ${c.first_frame}`);
        assert(!p.first_writable && !c.first_writable, 'both read-only');
        assert(p.table_frame !== c.table_frame, 'each process has its own page-table page');
        assert(r.frames.length === 1 && r.frames[0].mapcount === 2 && r.frames[0].sharers === 3, `frames ${JSON.stringify(r.frames)}`);
      }
      assert(/8 mapped by both processes to the same frames/.test(m.summary), m.summary);
      await shot(page, args, 'mapping-2-fork.png');
    });

    let before;
    await check('the child\'s first write re-points its entry to a new frame, writable; the parent keeps the old one', async () => {
      before = await mapping(page);
      await pressNext(page);   // to step 3, asked first
      await page.evaluate(() => { cowlab.answer(0, 1); cowlab.answer(1, 4); });
      await pressNext(page);   // runs the write
      s = await state(page);
      assert(s.step === 2 && s.ran, `step ${s.step}, ran ${s.ran}`);
      const m = await mapping(page);
      const [p, c] = m.rows[0].entries;
      assert(p.first_frame === before.rows[0].entries[0].first_frame, 'the parent keeps its frame');
      assert(c.first_frame !== p.first_frame, 'the child maps another frame');
      assert(c.first_writable && !p.first_writable, `child writable ${c.first_writable}, parent ${p.first_writable}`);
      assert(m.rows[0].frames.length === 2 && m.rows[0].frames.every((f) => f.mapcount === 1), `frames ${JSON.stringify(m.rows[0].frames)}`);
      for (const r of m.rows.slice(1)) assert(r.entries[0].first_frame === r.entries[1].first_frame, 'the other pages stay shared');
      await shot(page, args, 'mapping-3-write.png');
    });

    await check('the step\'s event, walked with the arrow, says the child\'s write copied the page to its new frame', async () => {
      const c = await page.evaluate(() => cowlab.controls());
      const next = c['mapping:next-event'];
      assert(next, 'the next-event arrow is drawn');
      await clickLab(page, (next[0] + next[2]) / 2, (next[1] + next[3]) / 2);
      const m = await mapping(page);
      assert(m.step_events === 1 && m.event && m.event.kind === 'cow_copy', `events ${m.step_events}: ${JSON.stringify(m.event)}`);
      const copy = m.rows[0].entries[1].first_frame.toLocaleString('en-US');
      assert(m.event.sentence.startsWith('child writes 0x') && m.event.sentence.includes(`copies the page to frame ${copy}`), m.event.sentence);
      assert(m.focus && m.focus.frame === m.rows[0].entries[1].first_frame, `focus ${JSON.stringify(m.focus)}`);
      await shot(page, args, 'mapping-3-event.png');
    });

    await check('clicking the child\'s entry picks its page and frame; the physical map outlines that frame', async () => {
      const c = await page.evaluate(() => cowlab.controls());
      const box = c['mapping:r0:e1'];
      assert(box, 'the child\'s first entry is drawn');
      await clickLab(page, (box[0] + box[2]) / 2, (box[1] + box[3]) / 2);
      const m = await mapping(page);
      assert(m.focus && m.focus.pid === 2 && m.focus.frame === m.rows[0].entries[1].first_frame, `focus ${JSON.stringify(m.focus)}`);
      await page.evaluate(() => cowlab.showView('memory'));
      await shot(page, args, 'mapping-3-focus-memory.png');
      await page.evaluate(() => cowlab.showView('mapping'));
    });

    await check('the whole array reads as two runs: one copied page, and 1,023 pages the processes share', async () => {
      const c = await page.evaluate(() => cowlab.controls());
      const r = await page.evaluate(() => cowlab.setMapping({ from: 0, to: 0 }));
      assert(r.error, 'an empty range is refused');
      const whole = await page.evaluate(() => cowlab.mapping());
      assert(whole.rows.length === 8, 'the refusal changed nothing');
      assert(c.next, 'controls');
      const m0 = await page.evaluate(() => cowlab.mapping());
      const set = await page.evaluate(([from]) => cowlab.setMapping({ from, to: from + 1024 * 4096 }), [m0.from]);
      assert(set.ok, set.error);
      const m = await mapping(page);
      assert(m.rows_are === 'runs' && m.rows.length === 2, `${m.rows_are}: ${m.rows.length} rows`);
      assert(m.rows[1].pages === 1023 && m.rows[1].frames[0].pages === 1023 && m.rows[1].frames[0].mapcount === 2,
        JSON.stringify(m.rows[1]).slice(0, 300));
      await shot(page, args, 'mapping-3-whole.png');
    });

    await check('step 5: the parent\'s write reuses its frame in place (now mapped once), writable', async () => {
      await pressNext(page);   // step 4, asked
      await page.evaluate(() => cowlab.answer(0, 2050));
      await pressNext(page);   // runs it (no operations)
      await pressNext(page);   // step 5, asked
      s = await state(page);
      await page.evaluate((n) => { for (let i = 0; i < n; i++) cowlab.answer(i, 0); }, s.checkpoints.length);
      await pressNext(page);
      s = await state(page);
      assert(s.step === 4 && s.ran, `step ${s.step}, ran ${s.ran}`);
      const m = await mapping(page);
      const [p] = m.rows[0].entries;
      assert(p.first_writable && p.first_frame === before.rows[0].entries[0].first_frame, `parent ${JSON.stringify(p)}`);
      await shot(page, args, 'mapping-5-reuse.png');
    });

    for (const size of SIZES.slice(1)) {
      await page.setViewportSize(size);
      await shot(page, args, `mapping-5-${size.width}x${size.height}.png`);
    }
    await check('no errors on the page', () => noProblems(problems));
  } finally {
    await context.close();
  }
}

await runBrowserTest('tests/browser/mapping.mjs', student);
