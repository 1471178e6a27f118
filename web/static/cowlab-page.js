// The cowlab page: checks for WebGL2, loads the wasm lab (cowlab.js / cowlab.wasm) with a
// progress indicator, and makes the lab scriptable for course pages and tests:
//
//   await cowlab.ready;      // resolves once the app has drawn its first frame
//   cowlab.version();        // "0.1.0"
//   cowlab.info();           // {version, ram_bytes, total_frames, free_frames, processes, ...}
//   cowlab.frameCount();     // frames rendered so far
//   cowlab.module;           // the emscripten Module (null until ready)
//   cowlab.lessons();        // [{id, title, summary, level}]
//   cowlab.loadLesson('fork-basics', {ints: 100}, 1)   // id, parameters, step (1-based)
//   cowlab.next(); cowlab.back(); cowlab.reset(); cowlab.goTo(3)
//   cowlab.setParam('ints', 100); cowlab.answer(0, 1)  // checkpoint index, guess: locked in
//   cowlab.withdraw(0)                                 // taken back, before the step runs
//   cowlab.state();          // {lesson, step, ran, narrative, checkpoints, params, ...}
//   cowlab.metrics();        // {meminfo, processes: [{name, rss, pss, uss, ...}], ...}
//   cowlab.showView('events')          // memory, address, metrics or events, beside the lesson
//   cowlab.openRecording(text, 'bgsave.jsonl')   // a recording (cowlab live --record), replayed
//   cowlab.replay(); cowlab.seek(1.5, pid); cowlab.closeRecording()
//   ?recording=URL opens a recording from the same site; File > Open a recording, or a file
//   dropped on the lab, opens one from disk
// Actions return {ok: true} or {error: "why"}. The page also reads ?lesson=&step=&<param>=
// from its URL, and when it is inside an iframe it posts {source: 'cowlab', type, ...}
// messages to its parent: lesson-loaded, step-changed, checkpoint-answered.
//
// window.cowlab is the page's only global; emscripten's factory createCowlab is the other one.
(function () {
  'use strict';

  // Points of the cold load on the page's timeline (tools/bench_web.mjs prints them); the lab
  // adds its own (cowlab:main, cowlab:gl-ready, cowlab:query-opened, cowlab:app-ready,
  // cowlab:fonts-start, cowlab:fonts-done, cowlab:frame-1-done).
  const mark = (name) => { try { performance.mark(`cowlab:${name}`); } catch (e) { /* no timeline */ } };
  mark('page-script');

  const byId = (id) => document.getElementById(id);
  const canvas = byId('canvas');
  const loading = byId('cowlab-loading');
  const statusLine = byId('cowlab-status');
  const progress = byId('cowlab-progress');

  const RELOAD_HINT = 'Reload the page to try again. If it keeps failing, the browser console ' +
    'may say more.';

  let Module = null;     // set when the factory resolves
  let failed = false;
  const stderrTail = []; // the app's last lines on stderr, shown if it stops with an error

  let resolveReady, rejectReady;
  const ready = new Promise((resolve, reject) => { resolveReady = resolve; rejectReady = reject; });
  ready.catch(() => {}); // a failure is shown on the page; whoever awaits ready still sees it

  function need() {
    if (!Module) throw new Error('cowlab is not loaded yet; await cowlab.ready first');
    return Module;
  }

  const cowlab = {
    ready,
    module: null,
    version: () => need().ccall('cowlab_version', 'string', [], []),
    info: () => JSON.parse(need().ccall('cowlab_info_json', 'string', [], [])),
    frameCount: () => need().ccall('cowlab_frame_count', 'number', [], []),
    lessons: () => call('cowlab_lessons_json'),
    loadLesson: (id, params, step) =>
      call('cowlab_load_lesson', ['string', 'string', 'number'],
        [String(id), JSON.stringify(params || {}), step === undefined ? 1 : Number(step)]),
    next: () => call('cowlab_next'),
    back: () => call('cowlab_back'),
    reset: () => call('cowlab_reset'),
    goTo: (step) => call('cowlab_go_to', ['number'], [Number(step)]),
    setParam: (name, value) => call('cowlab_set_param', ['string', 'number'], [String(name), Number(value)]),
    answer: (checkpoint, guess) => call('cowlab_answer', ['number', 'number'], [Number(checkpoint), Number(guess)]),
    withdraw: (checkpoint) => call('cowlab_withdraw', ['number'], [Number(checkpoint)]),
    state: () => call('cowlab_state_json'),
    metrics: () => call('cowlab_metrics_json'),
    showView: (view) => call('cowlab_show_view', ['string'], [String(view)]),
    mapping: () => call('cowlab_mapping_json'),
    setMapping: (spec) => call('cowlab_set_mapping', ['string'], [JSON.stringify(spec || {})]),
    setZoom: (px) => call('cowlab_set_zoom', ['number'], [Number(px)]),
    frameStats: () => call('cowlab_frame_stats_json'),
    controls: () => call('cowlab_controls_json'),
    busy: () => need().ccall('cowlab_busy', 'number', [], []) === 1,
    openRecording: (content, name) => openRecording(content, name),
    closeRecording: () => call('cowlab_close_recording'),
    replay: () => call('cowlab_recording_json'),
    seek: (t, pid) => call('cowlab_replay_seek', ['number', 'number'], [Number(t), Number(pid || 0)]),
    shareUrl: () => location.origin + location.pathname + need().ccall('cowlab_share_query', 'string', [], []),
  };

  const MAX_RECORDING = 512 * 1024 * 1024; // engine/recording/recording.h: Recording::kMaxBytes

  // Hands a recording's bytes to the lab through its heap (a file may be far larger than the stack).
  function openRecording(content, name) {
    const M = need();
    const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : new Uint8Array(content);
    if (bytes.length > MAX_RECORDING) {
      return call('cowlab_notice', ['string'], [`${name}: ${Math.round(bytes.length / 1048576)} MiB is more than a recording may be (512 MiB)`]);
    }
    const ptr = M._malloc(Math.max(1, bytes.length));
    if (!ptr) return call('cowlab_notice', ['string'], [`${name}: not enough memory to open it`]);
    try {
      M.HEAPU8.set(bytes, ptr);
      return JSON.parse(M.ccall('cowlab_open_recording', 'string', ['number', 'number', 'string'], [ptr, bytes.length, String(name || 'recording.jsonl')]));
    } finally {
      M._free(ptr);
    }
  }

  async function openFile(file) {
    if (file.size > MAX_RECORDING) {
      call('cowlab_notice', ['string'], [`${file.name}: ${Math.round(file.size / 1048576)} MiB is more than a recording may be (512 MiB)`]);
      return;
    }
    try {
      openRecording(await file.arrayBuffer(), file.name);
    } catch (e) {
      call('cowlab_notice', ['string'], [`${file.name}: ${reason(e)}`]);
    }
  }

  // File > Open a recording: the browser's file chooser.
  function pickRecording() {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = '.jsonl,.json,.txt,application/json,text/plain';
    input.addEventListener('change', () => { if (input.files && input.files[0]) openFile(input.files[0]); });
    input.click();
  }

  // ?recording=URL: a recording published beside the lab (same site), e.g. by a course page.
  async function openRecordingUrl(url) {
    let target;
    try {
      target = new URL(url, location.href);
      if (target.origin !== location.origin) throw new Error('only recordings from this site can be opened by URL');
      const response = await fetch(target);
      if (!response.ok) throw new Error(`the server answered ${response.status} ${response.statusText}`);
      const length = Number(response.headers.get('content-length') || 0);
      if (length > MAX_RECORDING) throw new Error(`${Math.round(length / 1048576)} MiB is more than a recording may be (512 MiB)`);
      openRecording(await response.arrayBuffer(), target.pathname.split('/').pop() || 'recording.jsonl');
    } catch (e) {
      call('cowlab_notice', ['string'], [`URL: recording=${url}: ${reason(e)}`]);
    }
  }

  canvas.addEventListener('dragover', (e) => { e.preventDefault(); });
  canvas.addEventListener('drop', (e) => {
    e.preventDefault();
    const file = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
    if (file && Module) openFile(file);
  });

  // Calls an exported function that returns JSON.
  function call(name, types, args) {
    return JSON.parse(need().ccall(name, 'string', types || [], args || []));
  }

  // Tells an embedding page what the learner does (postMessage to the parent frame).
  let last = null;
  const forRecording = new URLSearchParams(location.search).has('recording');
  function onLessonEvent(state) {
    if (state && state.type === 'recording-opened') {
      if (window.parent !== window) window.parent.postMessage({ source: 'cowlab', type: 'recording-opened', file: state.file }, '*');
      return;
    }
    // A frame opened on a recording (?recording=) speaks of the recording, not of the lesson under it.
    if (window.parent === window || !state || !state.loaded || forRecording) { last = state; return; }
    const post = (type, extra) => window.parent.postMessage(
      Object.assign({ source: 'cowlab', type, lesson: state.lesson, step: state.step + 1, steps: state.steps }, extra), '*');
    if (!last || last.lesson !== state.lesson) post('lesson-loaded', { title: state.title });
    else if (last.step !== state.step) post('step-changed', {});
    if (state.ran && (!last || !last.ran || last.step !== state.step)) {
      state.checkpoints.forEach((c, i) => {
        if (!c.revealed || !('guess' in c)) return;
        const extra = { checkpoint: i, question: c.question, guess: c.guess, guess_text: c.guess_text, right: !!c.right };
        if ('answer' in c) Object.assign(extra, { answer: c.answer, answer_text: c.answer_text });
        if ('guess_for_other_values' in c) extra.guess_for_other_values = c.guess_for_other_values;
        post('checkpoint-answered', extra);
      });
    }
    last = state;
  }
  window.cowlab = cowlab;

  canvas.addEventListener('contextmenu', (e) => e.preventDefault());
  // SDL cancels the mouse's default action, and with it the focus a click gives: in a course
  // page's iframe the keys would then go to the page, not to the lab that was clicked.
  canvas.addEventListener('pointerdown', () => {
    if (document.activeElement !== canvas) canvas.focus({ preventScroll: true });
  });

  function setStatus(text, loaded, total) {
    statusLine.textContent = text;
    if (total > 0) {
      progress.max = total;
      progress.value = Math.min(loaded, total);
    } else {
      progress.removeAttribute('value'); // indeterminate
    }
  }

  // Shows a problem instead of (or over) the lab and rejects cowlab.ready. The first one wins.
  function fail(title, detail, hint) {
    if (failed) return;
    failed = true;
    loading.hidden = true;
    byId('cowlab-problem-title').textContent = title;
    byId('cowlab-problem-detail').textContent = detail || '';
    byId('cowlab-problem-hint').textContent = hint || '';
    byId('cowlab-problem').hidden = false;
    rejectReady(new Error(detail ? `${title} ${detail}` : title));
  }

  // An error's message with the app's last stderr lines, which often say more.
  function reason(err) {
    const text = err && err.message ? err.message : String(err);
    if (!stderrTail.length) return text;
    const tail = stderrTail.join('\n');
    return tail.includes(text) ? tail : `${text}\n\n${tail}`;
  }

  // The lab's own context, made here on its canvas with the attributes the lab asks SDL for
  // (platform_web.cpp, request_gl_context): the lab's getContext later returns this one, so the
  // check costs no second context.
  const GL_ATTRIBUTES = { alpha: false, depth: false, stencil: false, antialias: false };
  function hasWebGL2() {
    try {
      return !!canvas.getContext('webgl2', GL_ATTRIBUTES);
    } catch (e) {
      return false;
    }
  }

  function kilobytes(n) { return Math.round(n / 1024).toLocaleString('en'); }

  // The wasm's download starts with the page's script and it is compiled as its
  // bytes arrive (compileStreaming), while cowlab.js downloads and runs: the lab instantiates the
  // compiled module when the runtime asks for it. The bytes are counted for the progress line on
  // the way; emscripten reports no progress for the wasm itself.
  let wasmCompile = null; // {url, module: Promise<WebAssembly.Module>}
  function startWasmCompile(url) {
    const module = fetch(url, { credentials: 'same-origin' }).then((response) => {
      if (!response.ok) throw new Error(`${url} answered HTTP ${response.status}`);
      if (response.body && typeof TransformStream === 'function' && WebAssembly.compileStreaming) {
        return WebAssembly.compileStreaming(countingProgress(response));
      }
      return response.arrayBuffer().then((bytes) => {
        mark('wasm-fetched');
        setStatus('Starting cowlab…');
        return WebAssembly.compile(bytes);
      });
    });
    module.catch(() => {}); // reported when the lab instantiates it
    wasmCompile = { url, module };
  }

  function countingProgress(response) {
    // A compressed response's Content-Length counts the compressed bytes, the body the others.
    const encoded = (response.headers.get('Content-Encoding') || 'identity') !== 'identity';
    const total = encoded ? 0 : Number(response.headers.get('Content-Length')) || 0;
    let loaded = 0;
    const count = new TransformStream({
      transform(chunk, controller) {
        loaded += chunk.length;
        if (!failed) {
          setStatus(total ? `Loading cowlab… ${kilobytes(loaded)} of ${kilobytes(total)} KB`
            : `Loading cowlab… ${kilobytes(loaded)} KB`, loaded, total);
        }
        controller.enqueue(chunk);
      },
      flush() {
        mark('wasm-fetched');
        if (!failed) setStatus('Starting cowlab…');
      },
    });
    return new Response(response.body.pipeThrough(count), { headers: { 'Content-Type': 'application/wasm' } });
  }

  async function instantiate(url, imports) {
    if (!wasmCompile || wasmCompile.url !== url) startWasmCompile(url);
    const module = await wasmCompile.module;
    wasmCompile = null;
    mark('wasm-compiled');
    const instance = await WebAssembly.instantiate(module, imports);
    return { instance, module };
  }

  // Called after the factory resolves: the app is running once it has rendered a frame.
  function waitForFirstFrame() {
    if (failed) return;
    let frames;
    try {
      frames = cowlab.frameCount();
    } catch (e) {
      fail('cowlab stopped with an error.', reason(e), RELOAD_HINT);
      return;
    }
    if (frames > 0) {
      mark('ready');
      loading.hidden = true;
      cowlab.module = Module;
      resolveReady();
    } else {
      requestAnimationFrame(waitForFirstFrame);
    }
  }

  function start(scriptUrl) {
    const wasmUrl = new URL('cowlab.wasm', scriptUrl).href;
    const options = {
      canvas,
      print: (text) => console.log(text),
      printErr: (text) => {
        console.warn(text);
        stderrTail.push(text);
        if (stderrTail.length > 4) stderrTail.shift();
      },
      setStatus: (text) => {
        if (text && !failed) setStatus(/^Running/.test(text) ? 'Starting cowlab…' : text);
      },
      monitorRunDependencies: (left) => {
        if (left === 0 && !failed) setStatus('Starting cowlab…');
      },
      locateFile: (path) => new URL(path, scriptUrl).href,
      // Instantiate the wasm ourselves so the download can show progress.
      instantiateWasm: (imports, receiveInstance) => {
        instantiate(wasmUrl, imports)
          .then((result) => {
            mark('wasm-instantiated');
            receiveInstance(result.instance, result.module);
          })
          .catch((e) => fail('cowlab could not load.', `cowlab.wasm: ${reason(e)}`, RELOAD_HINT));
        return {}; // exports arrive asynchronously through receiveInstance
      },
      onAbort: (what) => fail('cowlab stopped with an error.', reason(what), RELOAD_HINT),
    };
    // ?lesson=&step=&<param>=: main() opens them before its first frame (bad values are
    // reported in the lab and ignored).
    if (location.search) options.arguments = ['--query', location.search];
    options.onLessonEvent = onLessonEvent;
    options.cowlabPickRecording = pickRecording;
    window.createCowlab(options).then(
      (module) => {
        Module = module;
        mark('runtime-ready');
        try {
          const recording = new URLSearchParams(location.search).get('recording');
          if (recording) openRecordingUrl(recording);
        } catch (e) {
          fail('cowlab stopped with an error.', reason(e), RELOAD_HINT);
          return;
        }
        waitForFirstFrame();
      },
      (e) => fail('cowlab could not start.', reason(e), RELOAD_HINT));
  }

  // An error thrown out of the running app (a trap in the wasm, an exception in the glue).
  window.addEventListener('error', (event) => {
    const fromLab = /\/cowlab\.(js|wasm)\b/.test(event.filename || '') ||
      (typeof WebAssembly !== 'undefined' && event.error instanceof WebAssembly.RuntimeError);
    if (fromLab) {
      fail('cowlab stopped with an error.', reason(event.error || event.message), RELOAD_HINT);
    }
  });

  if (typeof WebAssembly !== 'object') {
    fail('cowlab needs WebAssembly, which this browser does not provide.', '',
      'Try a current version of Firefox, Chrome, Edge or Safari.');
    return;
  }
  if (!hasWebGL2()) {
    canvas.hidden = true;
    fail('cowlab needs WebGL2, which this browser or device does not provide.',
      'The lab draws its memory maps with WebGL2 shaders and cannot run without it.',
      'Try a current version of Firefox, Chrome, Edge or Safari, and check that hardware ' +
      'acceleration (sometimes called graphics acceleration) is turned on in the browser\'s ' +
      'settings. On some devices, updating the graphics driver helps.');
    return;
  }

  mark('webgl-checked');
  startWasmCompile(new URL('cowlab.wasm', document.baseURI).href);
  const script = document.createElement('script');
  script.src = 'cowlab.js';
  script.async = true;
  script.onload = () => {
    mark('js-loaded');
    if (typeof window.createCowlab !== 'function') {
      fail('cowlab could not load.', 'cowlab.js loaded but did not define createCowlab.', RELOAD_HINT);
    } else {
      start(script.src);
    }
  };
  script.onerror = () => fail('cowlab could not load.',
    'cowlab.js did not arrive (a network error, or the file is missing on the server).', RELOAD_HINT);
  document.head.appendChild(script);
})();
