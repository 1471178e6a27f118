// platform.h: everything that differs between the lab in a browser and the
// lab in a native window, behind one small interface. The build compiles one
// of the two implementations (CMakeLists.txt, the lab section):
//
//   platform_web.cpp     emscripten: the canvas, the page (ARIA live region,
//                        onLessonEvent, file picker, URL bar and clipboard),
//                        emscripten_set_main_loop
//   platform_native.cpp  SDL + OpenGL 3.3: the display check, files given on
//                        the command line, live mode (host/), a while loop
//
// No other file of web/ tests __EMSCRIPTEN__ but gl.h, which chooses the GL
// headers at compile time.
#pragma once

#include <cstddef>
#include <string>

struct SDL_Window;

namespace cowlab::platform {

// ---- start and loop
// Reads the platform's own flag at argv[i] (natively --recording, --live, -p,
// --tree, --name, --interval, --proc-root). Returns the arguments it took
// (0: not its flag), or -1 after printing why the flag is wrong.
int parse_arg(int argc, char** argv, int i);
// The usage lines of those flags ("" on the web).
std::string usage(const char* program);
// Why the lab cannot open its window here, or "" (natively: no display).
std::string cannot_start();
// Asks SDL for the platform's GL context; returns the GLSL version line for ImGui's renderer.
const char* request_gl_context();
// The lab's font file (embedded in the web build).
const char* font_path();
// The host memory the engine (the run and its snapshots) may take: a
// browser tab's wasm heap is at most 4 GB; natively, no limit (0).
unsigned long long engine_memory_limit();
// After App::init: what the command line asked to open (a recording, live mode).
// Returns false after printing why that failed.
bool open_startup(int argc, char** argv);
// At the start of every frame, before SDL's events (web: the canvas's size).
void begin_frame(SDL_Window* window);
// Calls frame() until *quit (natively); on the web, once per browser frame, never returning.
void run_loop(void (*frame)(), const bool* quit);

// ---- the page around the lab (nothing natively)
// A point on the page's performance timeline (performance.mark): how the cold load is spent
// (tools/bench_web.mjs reads the marks named "cowlab:...").
void mark(const char* name);
// Mirrors text into the page's ARIA live region and hands event_json to Module.onLessonEvent.
void announce(const std::string& text, const std::string& event_json);
// Puts the link to this step (a "?lesson=..." query) in the URL bar and on the clipboard.
void share_link(const std::string& query);
// Hands a file the user exported to them: the browser downloads it, natively it
// is written to the working directory. Returns what happened ("saved m.csv").
std::string save_file(const std::string& filename, const std::string& mime, const unsigned char* data, size_t len);
// Asks the user for a recording to open. Returns "" when the page will deliver
// it (cowlab_open_recording), or a notice saying how to open one.
std::string pick_recording();

}  // namespace cowlab::platform
