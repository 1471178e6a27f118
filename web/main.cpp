// main.cpp: the lab's platform loop: SDL2 window, OpenGL (native) or WebGL2
// (web) context, Dear ImGui, one frame per tick.
//
//   native: cowlab-lab [--frames N] [--query '?lesson=fork-basics&step=2']
//           (--frames: N frames, then exit, for smoke runs; SDL_VIDEODRIVER=offscreen
//           runs it without a display)
//   web:    emscripten_set_main_loop drives frame(); the page sizes the canvas
#include <SDL2/SDL.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "app.h"
#ifndef __EMSCRIPTEN__
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <nlohmann/json.hpp>

#include "feed.h"
#include "record.h"
#endif
#include "export.h"
#include "gl.h"
#include "imgui.h"
#include "imgui_impl_opengl3.h"
#include "imgui_impl_sdl.h"

#ifdef __EMSCRIPTEN__
#include <emscripten.h>
#include <emscripten/html5.h>
#endif

extern "C" const char* cowlab_recording_json();   // api.cpp
extern "C" const char* cowlab_state_json();

namespace {

SDL_Window* g_window = nullptr;
SDL_GLContext g_gl = nullptr;
bool g_quit = false;
long g_frame_limit = -1;
std::string g_query;   // native: --query "?lesson=...&step=..." (the page passes location.search itself)
std::string g_screenshot;   // native: --screenshot FILE: the last frame (with --frames) as PNG
#ifndef __EMSCRIPTEN__
bool g_print_state = false;  // native: --print-state: what the lab showed, as JSON on stdout at the end
#endif

#ifdef __EMSCRIPTEN__
// The canvas's CSS size decides the window size; its backing store follows
// devicePixelRatio (SDL does that for a resizable high-DPI window).
void follow_canvas_size() {
    double css_w = 0, css_h = 0;
    emscripten_get_element_css_size("#canvas", &css_w, &css_h);
    int w = 0, h = 0;
    SDL_GetWindowSize(g_window, &w, &h);
    int want_w = int(css_w), want_h = int(css_h);
    int fb_w = 0, fb_h = 0;
    emscripten_get_canvas_element_size("#canvas", &fb_w, &fb_h);
    const double dpr = emscripten_get_device_pixel_ratio();
    if (want_w > 0 && want_h > 0 &&
        (want_w != w || want_h != h || fb_w != int(css_w * dpr) || fb_h != int(css_h * dpr)))
        SDL_SetWindowSize(g_window, want_w, want_h);
}
#endif

// Text is rasterised at the display's pixel density (sharp on high-DPI
// screens) and scaled back to CSS pixels; rebuilt when the density changes.
float g_font_dpr = 0;
// Latin-1, dashes, arrows, box drawing (ImGui keeps the pointer: it must outlive the fonts).
const ImWchar kGlyphRanges[] = {0x0020, 0x00FF, 0x2013, 0x2014, 0x2190, 0x2193, 0x2500, 0x257F, 0};

void load_fonts(float dpr) {
    ImGuiIO& io = ImGui::GetIO();
    io.Fonts->Clear();
#ifdef __EMSCRIPTEN__
    const char* path = "/fonts/DejaVuSansMono.ttf";   // embedded at link time
#else
    const char* path = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf";
#endif
    ImFont* font = nullptr;
    if (FILE* f = std::fopen(path, "rb")) {
        std::fclose(f);
        ImFontConfig cfg;
        cfg.OversampleH = 2;
        font = io.Fonts->AddFontFromFileTTF(path, 14.0f * dpr, &cfg, kGlyphRanges);
    }
    if (!font) {
        ImFontConfig cfg;
        cfg.SizePixels = 13.0f * dpr;
        io.Fonts->AddFontDefault(&cfg);
        cowlab::app().notices.push_back(std::string("font ") + path + " not found: using ImGui's own");
    }
    io.FontGlobalScale = 1.0f / dpr;
    ImGui_ImplOpenGL3_DestroyFontsTexture();
    ImGui_ImplOpenGL3_CreateFontsTexture();
    g_font_dpr = dpr;
}

void frame() {
    const auto started = std::chrono::steady_clock::now();
#ifdef __EMSCRIPTEN__
    follow_canvas_size();
#endif
    {
        int w = 0, h = 0, fw = 0, fh = 0;
        SDL_GetWindowSize(g_window, &w, &h);
        SDL_GL_GetDrawableSize(g_window, &fw, &fh);
        const float dpr = w > 0 ? std::max(1.0f, float(fw) / float(w)) : 1.0f;
        if (std::fabs(dpr - g_font_dpr) > 0.01f) load_fonts(dpr);
    }
    SDL_Event ev;
    while (SDL_PollEvent(&ev)) {
        ImGui_ImplSDL2_ProcessEvent(&ev);
        if (ev.type == SDL_QUIT) g_quit = true;
    }
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplSDL2_NewFrame();
    ImGuiIO& io = ImGui::GetIO();
    if (!(io.DeltaTime > 0)) io.DeltaTime = 1.0f / 60.0f;   // ImGui asserts on a zero step
    ImGui::NewFrame();
    cowlab::app().update(double(io.DeltaTime));
    cowlab::app().draw();
    ImGui::Render();
    int fb_w = 0, fb_h = 0;
    SDL_GL_GetDrawableSize(g_window, &fb_w, &fb_h);
    glViewport(0, 0, fb_w, fb_h);
    glClearColor(0.07f, 0.07f, 0.08f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    const bool last_frame = g_frame_limit >= 0 && cowlab::app().frames_drawn >= g_frame_limit;
    if (last_frame && !g_screenshot.empty()) std::printf("%s\n", cowlab::save_framebuffer_png(fb_w, fb_h, g_screenshot).c_str());
    if (cowlab::app().capture_requested) {
        cowlab::app().capture_requested = false;
        cowlab::app().notices.push_back(cowlab::save_framebuffer_png(fb_w, fb_h, "cowlab-" + cowlab::app().player.lesson().id + ".png"));
    }
    SDL_GL_SwapWindow(g_window);
    cowlab::app().note_frame_time(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
    if (g_frame_limit >= 0 && cowlab::app().frames_drawn >= g_frame_limit) g_quit = true;
}

int fail(const char* what, const char* detail) {
    std::fprintf(stderr, "cowlab: %s: %s\n", what, detail);
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
#ifndef __EMSCRIPTEN__
    std::string recording;
    cowlab::live::Targets live_targets;
    bool live = false;
    long interval_ms = 1000;
    std::string proc_root = "/proc";
    auto number = [&](int& i, long lo, long hi, long& out) {
        char* end = nullptr;
        out = std::strtol(argv[++i], &end, 10);
        return end && !*end && out >= lo && out <= hi;
    };
#endif
    for (int i = 1; i < argc; ++i) {
#ifndef __EMSCRIPTEN__
        long v = 0;
        if (std::strcmp(argv[i], "--recording") == 0 && i + 1 < argc) {
            recording = argv[++i];
            continue;
        }
        if (std::strcmp(argv[i], "--screenshot") == 0 && i + 1 < argc) {
            g_screenshot = argv[++i];
            continue;
        }
        if (std::strcmp(argv[i], "--print-state") == 0) {
            g_print_state = true;
            continue;
        }
        if (std::strcmp(argv[i], "--live") == 0) {
            live = true;
            continue;
        }
        if (std::strcmp(argv[i], "--proc-root") == 0 && i + 1 < argc) {
            proc_root = argv[++i];
            continue;
        }
        if ((std::strcmp(argv[i], "-p") == 0 || std::strcmp(argv[i], "--pid") == 0 || std::strcmp(argv[i], "--tree") == 0) && i + 1 < argc) {
            const bool tree = std::strcmp(argv[i], "--tree") == 0;
            if (!number(i, 1, 1L << 30, v)) return fail(argv[i - 1], "expects a process id");
            (tree ? live_targets.trees : live_targets.pids).push_back(int(v));
            live = true;
            continue;
        }
        if (std::strcmp(argv[i], "--name") == 0 && i + 1 < argc) {
            live_targets.names.push_back(argv[++i]);
            live = true;
            continue;
        }
        if (std::strcmp(argv[i], "--interval") == 0 && i + 1 < argc) {
            if (!number(i, 100, 3600000, interval_ms)) return fail("--interval", "expects 100 .. 3600000 ms");
            continue;
        }
#endif
        if (std::strcmp(argv[i], "--frames") == 0 && i + 1 < argc) {
            char* end = nullptr;
            g_frame_limit = std::strtol(argv[++i], &end, 10);
            if (!end || *end || g_frame_limit < 1) return fail("--frames", "expects a positive number");
        } else if (std::strcmp(argv[i], "--query") == 0 && i + 1 < argc) {
            g_query = argv[++i];
        } else {
            std::fprintf(stderr,
                         "usage: %s [--frames N] [--screenshot FILE] [--query '?lesson=ID&step=N&param=value']\n"
                         "       %s --recording FILE        replays a recording (cowlab live --record, cowlab experiment --record)\n"
                         "       %s --live [-p PID]... [--tree PID] [--name NAME] [--interval MS]   real processes, live\n",
                         argv[0], argv[0], argv[0]);
            return 2;
        }
    }
#ifndef __EMSCRIPTEN__
    // Without a display SDL may still open a window nobody sees (on the console's DRM device).
    if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY") && !std::getenv("SDL_VIDEODRIVER"))
        return fail("no display", "the lab's window needs one (DISPLAY or WAYLAND_DISPLAY; without, `cowlab live` "
                                  "prints tables, and `xvfb-run cowlab-lab ...` runs the window on a virtual display)");
#endif
    if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_TIMER) != 0) return fail("SDL_Init", SDL_GetError());
#ifdef __EMSCRIPTEN__
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_ES);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 0);
    const char* glsl = "#version 300 es";
#else
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_CORE);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 3);
    const char* glsl = "#version 330 core";
#endif
    SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
    g_window = SDL_CreateWindow("cowlab", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, 1280, 800,
                                SDL_WINDOW_OPENGL | SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (!g_window) return fail("SDL_CreateWindow", SDL_GetError());
    g_gl = SDL_GL_CreateContext(g_window);
    if (!g_gl) return fail("SDL_GL_CreateContext", SDL_GetError());
    SDL_GL_MakeCurrent(g_window, g_gl);
    SDL_GL_SetSwapInterval(1);

    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGuiIO& io = ImGui::GetIO();
    io.IniFilename = nullptr;   // the lab starts the same every time
    ImGui::StyleColorsDark();
    ImGui_ImplSDL2_InitForOpenGL(g_window, g_gl);
    ImGui_ImplOpenGL3_Init(glsl);

    cowlab::app().init();
    if (!g_query.empty()) cowlab::app().open_query(g_query);
#ifndef __EMSCRIPTEN__
    if (!recording.empty()) {
        std::FILE* f = std::fopen(recording.c_str(), "rb");
        std::string text;
        if (f) {
            char buf[65536];
            size_t n = 0;
            while ((n = std::fread(buf, 1, sizeof buf, f)) > 0 && text.size() <= cow::Recording::kMaxBytes) text.append(buf, n);
            std::fclose(f);
        }
        cow::Status st = f ? cowlab::app().open_recording(text, recording)
                           : cow::fail(cow::Errc::invalid_argument, recording + ": cannot be read: " + std::strerror(errno));
        if (!st) {
            std::fprintf(stderr, "cowlab: %s\n", st.message.c_str());
            cowlab::app().notices.push_back(st.message);
        }
    } else if (live) {
        if (live_targets.pids.empty() && live_targets.trees.empty() && live_targets.names.empty())
            live_targets.trees.push_back(int(getppid()));
        std::string command = "cowlab-lab";
        for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
        std::string header = nlohmann::json{{"type", "header"}, {"format", "cowlab-recording"}, {"version", 1}, {"source", "live"},
                                            {"command", command}, {"host", cowlab::live::host_json()}}
                                 .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        if (cow::Status st = cowlab::app().open_recording(header + "\n", "this machine"); !st) return fail("live", st.message.c_str());
        cowlab::App::Replay& r = cowlab::app().replay;
        r.rec.warnings.clear();
        cowlab::app().show_view = "Pages";   // the pages still shared: what live mode is for
        auto feed = std::make_shared<cowlab::live::LiveFeed>(live_targets, proc_root);
        const auto t0 = std::chrono::steady_clock::now();
        r.live_interval_s = double(interval_ms) / 1000.0;
        r.live_sampler = [feed, t0](cow::Recording& rec) -> cow::Status {
            const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            cowlab::App::Replay& rp = cowlab::app().replay;
            cow::Status st = feed->sample(rec, t, rp.pid);
            if (rp.pid == 0 && !rec.samples.empty() && !rec.samples.back().procs.empty()) rp.pid = rec.samples.back().procs.front().pid;
            return st;
        };
    }
#endif

#ifdef __EMSCRIPTEN__
    emscripten_set_main_loop(frame, 0, true);
#else
    while (!g_quit) frame();
    if (g_print_state) std::printf("%s\n", cowlab::app().replay.open ? cowlab_recording_json() : cowlab_state_json());
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplSDL2_Shutdown();
    ImGui::DestroyContext();
    SDL_GL_DeleteContext(g_gl);
    SDL_DestroyWindow(g_window);
    SDL_Quit();
#endif
    return 0;
}
