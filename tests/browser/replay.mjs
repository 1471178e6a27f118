// Browser test of replaying recordings of real processes.
//
//   node tests/browser/replay.mjs [--root build/wasm/web] [--artifacts artifacts]
//
// Records a real fork experiment and a live sampling with the native CLI
// (build/native/cowlab), then opens them in the lab: through the JS API, through
// File > Open a recording (the browser's file chooser, clicked with the mouse), and
// through ?recording=URL; checks what the lab shows against the recordings; feeds it
// broken files and checks it says why and keeps the lesson; saves screenshots.

import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import { REPO, assert, check, clickLab, noProblems, runBrowserTest, waitFrames, waitReady, watchProblems } from './harness.mjs';

const VIEW = { width: 1280, height: 800 };
const CLI = path.join(REPO, 'build', 'native', 'cowlab');


// Real recordings, made now on this machine.
function record(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const fork = path.join(dir, 'fork-experiment.jsonl');
  const live = path.join(dir, 'live.jsonl');
  execFileSync(CLI, ['experiment', 'fork', '--size', '16M', '--write', '25%', '--children', '2', '--pattern', 'random',
    '--record', fork], { stdio: ['ignore', 'ignore', 'inherit'] });
  execFileSync(CLI, ['live', '--interval', '50', '--count', '6', '--record', live], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { fork, live };
}

await runBrowserTest('tests/browser/replay.mjs', async (browser, url, args) => {
  let files;
  if (!await check('the native CLI records a fork experiment and a live sampling', () => { files = record(args.artifacts); })) return;
  const forkText = fs.readFileSync(files.fork, 'utf8');
  const forkLines = forkText.trim().split('\n').map((l) => JSON.parse(l));
  const sample = forkLines.find((l) => l.type === 'sample');
  const experiment = forkLines.find((l) => l.type === 'experiment');
  const child = sample.processes[1];

  const context = await browser.newContext({ viewport: VIEW, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems = watchProblems(page);
  try {
    await page.goto(`${url}?lesson=fork-basics`);
    await waitReady(page);

    await check('openRecording shows the experiment, its processes and the child\'s pages', async () => {
      const r = await page.evaluate((text) => cowlab.openRecording(text, 'fork-experiment.jsonl'), forkText);
      assert(r.ok, JSON.stringify(r));
      await page.evaluate((pid) => cowlab.seek(0, pid), child.pid);
      await waitFrames(page, 3);
      const s = await page.evaluate(() => cowlab.replay());
      assert(s.open && s.file === 'fork-experiment.jsonl' && s.source === 'experiment', JSON.stringify(s).slice(0, 300));
      assert(s.experiments.length === 1 && s.experiments[0].name === 'fork' && s.experiments[0].rows === experiment.rows.length,
        JSON.stringify(s.experiments));
      assert(s.processes.length === 3, `${s.processes.length} processes`);
      const shown = s.processes.find((p) => p.pid === child.pid);
      assert(shown && shown.private_dirty === child.private_dirty && shown.rss === child.rss, JSON.stringify(shown));
      assert(s.pages_shown === 4096, `${s.pages_shown} pages of the 16 MiB buffer`);
    });
    fs.writeFileSync(path.join(args.artifacts, 'replay-experiment.png'), await page.screenshot());
    await page.evaluate(() => cowlab.showView('metrics'));
    await waitFrames(page, 3);

    await check('a live recording replays over time', async () => {
      const text = fs.readFileSync(files.live, 'utf8');
      const r = await page.evaluate((t) => cowlab.openRecording(t, 'live.jsonl'), text);
      assert(r.ok, JSON.stringify(r));
      const s = await page.evaluate(() => cowlab.replay());
      assert(s.samples === 6 && s.duration_s > 0.2, `${s.samples} samples over ${s.duration_s} s`);
      await page.evaluate((t) => cowlab.seek(t, 0), s.duration_s);
      const end = await page.evaluate(() => cowlab.replay());
      assert(end.sample === 5, `sample ${end.sample}`);
      await page.evaluate(() => cowlab.showView('metrics'));
      await waitFrames(page, 3);
      fs.writeFileSync(path.join(args.artifacts, 'replay-live-metrics.png'), await page.screenshot());
    });

    await check('File > Open a recording opens the file chosen in the browser', async () => {
      await page.evaluate(() => cowlab.closeRecording());
      await page.evaluate(() => cowlab.loadLesson('fork-basics', {}, 3));   // the button row of lesson.mjs's Export check
      await waitFrames(page, 3);
      const chooser = page.waitForEvent('filechooser', { timeout: 15_000 });
      await clickLab(page, 363, 92);   // "File", at the end of the lesson's button row
      fs.writeFileSync(path.join(args.artifacts, 'replay-file-menu.png'), await page.screenshot());
      await clickLab(page, 420, 104);  // "Open a recording..." in its menu (popups open at the mouse)
      await (await chooser).setFiles(files.fork);
      await page.waitForFunction(() => cowlab.replay().open, null, { timeout: 15_000 });
      const s = await page.evaluate(() => cowlab.replay());
      assert(s.file === 'fork-experiment.jsonl' && s.experiments.length === 1, JSON.stringify(s).slice(0, 200));
      await page.evaluate((pid) => cowlab.seek(0, pid), child.pid);
      await page.evaluate(() => cowlab.showView('pages'));
      await waitFrames(page, 4);
      fs.writeFileSync(path.join(args.artifacts, 'replay-pages.png'), await page.screenshot());
    });
    await check('broken recordings are refused with the reason, and the lab carries on', async () => {
      const cases = [
        ['hello', 'line 1 is not a JSON object'],
        ['{"type":"sample","t_s":0,"processes":[]}', 'not a cowlab recording'],
        [forkText.replace('"t_s":', '"t_s":"x","was":'), '"t_s" must be a number'],
        ['', 'empty'],
      ];
      await page.evaluate(() => cowlab.closeRecording());
      for (const [text, reason] of cases) {
        const r = await page.evaluate((t) => cowlab.openRecording(t, 'bad.jsonl'), text);
        assert(r.error && r.error.includes(reason), `${JSON.stringify(r)} should say ${reason}`);
      }
      const s = await page.evaluate(() => cowlab.replay());
      assert(!s.open, 'a bad file replaced the lesson');
      const notices = await page.evaluate(() => cowlab.info().notices);
      for (const [, reason] of cases) assert(notices.some((n) => n.includes(reason)), `the lab does not show "${reason}": ${notices.join(' | ')}`);
      const st = await page.evaluate(() => cowlab.state());
      assert(st.lesson === 'fork-basics', st.lesson);
      await page.evaluate(() => cowlab.next());
    });

    await check('no errors on the page', () => noProblems(problems));
  } finally {
    await context.close();
  }

  // ?recording=URL, from the same site.
  const context2 = await browser.newContext({ viewport: VIEW, deviceScaleFactor: 1 });
  const page2 = await context2.newPage();
  const problems2 = watchProblems(page2, { allow: (t) => /missing\.jsonl|status of 404/.test(t) });
  try {
    await page2.route('**/recordings/fork.jsonl', (route) => route.fulfill({ body: forkText, contentType: 'text/plain' }));
    await page2.goto(`${url}?recording=recordings/fork.jsonl`);
    await waitReady(page2);
    await check('?recording=URL opens a recording from the same site', async () => {
      await page2.waitForFunction(() => cowlab.replay().open, null, { timeout: 15_000 });
      const s = await page2.evaluate(() => cowlab.replay());
      assert(s.file === 'fork.jsonl' && s.processes.length === 3, JSON.stringify(s).slice(0, 200));
    });
    await page2.goto(`${url}?recording=recordings/missing.jsonl`);
    await waitReady(page2);
    await check('?recording= of a missing file says so and shows the lesson', async () => {
      await page2.waitForFunction(() => cowlab.info().notices.some((n) => /recording=/.test(n)), null, { timeout: 15_000 });
      const notices = await page2.evaluate(() => cowlab.info().notices);
      assert(notices.some((n) => /missing\.jsonl: the server answered 404/.test(n)), notices.join(' | '));
      assert(!(await page2.evaluate(() => cowlab.replay().open)), 'a recording is open');
    });
    await check('no errors on the ?recording= pages', () => noProblems(problems2));
  } finally {
    await context2.close();
  }
});
