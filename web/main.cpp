// main.cpp: the lab's main loop, one for both targets: SDL2 window, GL
// context, Dear ImGui; each frame the App updates, then draws. What differs
// between the browser and a native window is in platform.h.
//
//   cowlab-lab [--frames N] [--screenshot FILE] [--print-state] [--query '?lesson=fork-basics&step=2']
//     --query: the lesson, step and parameters to open, as the page's URL says them (the web
//     page passes its location.search this way, so that the lab starts on the right lesson);
//     --frames: N frames, then exit, for smoke runs (SDL_VIDEODRIVER=offscreen runs it
//     without a display); --screenshot: the last of them as PNG; --print-state: what
//     the lab showed, as JSON on stdout at the end. Natively also the flags of
//     platform_native.cpp (a recording, live mode). On the web the page drives it.
#include <SDL2/SDL.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "app.h"
#include "export.h"
#include "font_glyphs.h"
#include "gl.h"
#include "imgui.h"
#include "imgui_impl_opengl3.h"
#include "imgui_impl_sdl.h"
#include "platform.h"

extern "C" const char* cowlab_recording_json();   // api.cpp
extern "C" const char* cowlab_state_json();

namespace {

SDL_Window* g_window = nullptr;
SDL_GLContext g_gl = nullptr;
bool g_quit = false;
long g_frame_limit = -1;
std::string g_query;        // --query "?lesson=...&step=..." (the page passes location.search itself)
std::string g_screenshot;   // --screenshot FILE: the last frame (with --frames) as PNG
bool g_print_state = false;  // --print-state: what the lab showed, as JSON on stdout at the end

// Text is rasterised at the display's pixel density (sharp on high-DPI
// screens) and scaled back to CSS pixels; rebuilt when the density changes.
float g_font_dpr = 0;

void load_fonts(float dpr) {
    ImGuiIO& io = ImGui::GetIO();
    io.Fonts->Clear();
    const char* path = cowlab::platform::font_path();
    ImFont* font = nullptr;
    if (FILE* f = std::fopen(path, "rb")) {
        std::fclose(f);
        ImFontConfig cfg;
        cfg.OversampleH = 2;
        font = io.Fonts->AddFontFromFileTTF(path, 14.0f * dpr, &cfg, cowlab::kGlyphRanges);
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
    const bool first = cowlab::app().frames_drawn == 0 && g_font_dpr == 0;
    cowlab::platform::begin_frame(g_window);
    {
        int w = 0, h = 0, fw = 0, fh = 0;
        SDL_GetWindowSize(g_window, &w, &h);
        SDL_GL_GetDrawableSize(g_window, &fw, &fh);
        const float dpr = w > 0 ? std::max(1.0f, float(fw) / float(w)) : 1.0f;
        if (std::fabs(dpr - g_font_dpr) > 0.01f) {
            if (first) cowlab::platform::mark("cowlab:fonts-start");
            load_fonts(dpr);
            if (first) cowlab::platform::mark("cowlab:fonts-done");
        }
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
    const auto updating = std::chrono::steady_clock::now();
    cowlab::app().update(double(io.DeltaTime));
    const auto updated = std::chrono::steady_clock::now();
    cowlab::app().draw();
    ImGui::Render();
    const auto drawing = std::chrono::steady_clock::now();   // from here on: GL's
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
    if (first) cowlab::platform::mark("cowlab:frame-1-done");
    const auto ended = std::chrono::steady_clock::now();
    using ms = std::chrono::duration<double, std::milli>;
    cowlab::app().note_frame_time(ms(ended - started).count(), ms(drawing - started).count(),
                                  ms(updated - updating).count(), ms(drawing - updated).count());
    if (g_frame_limit >= 0 && cowlab::app().frames_drawn >= g_frame_limit) g_quit = true;
}

int fail(const char* what, const char* detail) {
    std::fprintf(stderr, "cowlab: %s: %s\n", what, detail);
    return 1;
}

}  // namespace

int main(int argc, char** argv) {
    cowlab::platform::mark("cowlab:main");
    for (int i = 1; i < argc; ++i) {
        if (const int taken = cowlab::platform::parse_arg(argc, argv, i); taken != 0) {
            if (taken < 0) return 1;
            i += taken - 1;
        } else if (std::strcmp(argv[i], "--frames") == 0 && i + 1 < argc) {
            char* end = nullptr;
            g_frame_limit = std::strtol(argv[++i], &end, 10);
            if (!end || *end || g_frame_limit < 1) return fail("--frames", "expects a positive number");
        } else if (std::strcmp(argv[i], "--query") == 0 && i + 1 < argc) {
            g_query = argv[++i];
        } else if (std::strcmp(argv[i], "--screenshot") == 0 && i + 1 < argc) {
            g_screenshot = argv[++i];
        } else if (std::strcmp(argv[i], "--print-state") == 0) {
            g_print_state = true;
        } else {
            std::fprintf(stderr, "usage: %s [--frames N] [--screenshot FILE] [--query '?lesson=ID&step=N&param=value']\n%s", argv[0],
                         cowlab::platform::usage(argv[0]).c_str());
            return 2;
        }
    }
    if (const std::string why = cowlab::platform::cannot_start(); !why.empty()) {
        std::fprintf(stderr, "cowlab: %s\n", why.c_str());
        return 1;
    }
    if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_TIMER) != 0) return fail("SDL_Init", SDL_GetError());
    const char* glsl = cowlab::platform::request_gl_context();
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
    cowlab::platform::mark("cowlab:gl-ready");

    // The query's lesson first, so that App::init, which loads the default lesson only when none
    // is, does not run one that is replaced at once (the page passes location.search as --query).
    if (!g_query.empty()) cowlab::app().open_query(g_query);
    cowlab::platform::mark("cowlab:query-opened");
    cowlab::app().init();
    cowlab::platform::mark("cowlab:app-ready");
    if (!cowlab::platform::open_startup(argc, argv)) return 1;

    cowlab::platform::run_loop(frame, &g_quit);   // the web's never returns
    if (g_print_state) std::printf("%s\n", cowlab::app().replay.open ? cowlab_recording_json() : cowlab_state_json());
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplSDL2_Shutdown();
    ImGui::DestroyContext();
    SDL_GL_DeleteContext(g_gl);
    SDL_DestroyWindow(g_window);
    SDL_Quit();
    return 0;
}
