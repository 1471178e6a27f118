// platform_web.cpp: the lab in a browser (emscripten, WebGL2): the canvas
// decides the window's size, the page hears what the lab says, and the
// browser drives the frames. See platform.h.
#include "platform.h"

#include <SDL2/SDL.h>
#include <emscripten.h>
#include <emscripten/html5.h>

namespace cowlab::platform {

int parse_arg(int, char**, int) { return 0; }   // the page passes location.search through the API
std::string usage(const char*) { return ""; }
std::string cannot_start() { return ""; }   // the page checked for WebGL2 before loading the lab

const char* request_gl_context() {
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_ES);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 0);
    SDL_GL_SetAttribute(SDL_GL_DEPTH_SIZE, 0);   // ImGui and the page map draw in 2D
    // The page has made this context already (cowlab-page.js, hasWebGL2: alpha, depth, stencil
    // and antialias all off, as SDL asks here) and the browser hands that one back.
    return "#version 300 es";
}

unsigned long long engine_memory_limit() { return 2ull << 30; }   // of -sMAXIMUM_MEMORY=4GB: the rest for the lab

const char* font_path() { return "/fonts/DejaVuSansMono.ttf"; }   // embedded at link time

bool open_startup(int, char**) { return true; }   // the page opens ?recording= itself (cowlab-page.js)

// The canvas's CSS size decides the window size; its backing store follows
// devicePixelRatio (SDL does that for a resizable high-DPI window).
void begin_frame(SDL_Window* window) {
    double css_w = 0, css_h = 0;
    emscripten_get_element_css_size("#canvas", &css_w, &css_h);
    int w = 0, h = 0;
    SDL_GetWindowSize(window, &w, &h);
    int want_w = int(css_w), want_h = int(css_h);
    int fb_w = 0, fb_h = 0;
    emscripten_get_canvas_element_size("#canvas", &fb_w, &fb_h);
    const double dpr = emscripten_get_device_pixel_ratio();
    if (want_w > 0 && want_h > 0 &&
        (want_w != w || want_h != h || fb_w != int(css_w * dpr) || fb_h != int(css_h * dpr)))
        SDL_SetWindowSize(window, want_w, want_h);
}

// The first frame is drawn at once, not on the next animation frame: the lab shows up one
// browser frame sooner (cowlab.ready resolves on it).
void run_loop(void (*frame)(), const bool*) {
    frame();
    emscripten_set_main_loop(frame, 0, true);
}

void mark(const char* name) {
    EM_ASM({ if (typeof performance === "object" && performance.mark) performance.mark(UTF8ToString($0)); }, name);
}

void announce(const std::string& text, const std::string& event_json) {
    EM_ASM(
        {
            var live = document.getElementById("cowlab-live");
            if (live) live.textContent = UTF8ToString($0);
            if (Module.onLessonEvent) Module.onLessonEvent(JSON.parse(UTF8ToString($1)));
        },
        text.c_str(), event_json.c_str());
}

void share_link(const std::string& query) {
    EM_ASM(
        {
            var url = location.origin + location.pathname + UTF8ToString($0);
            history.replaceState(null, "", url);
            if (navigator.clipboard) navigator.clipboard.writeText(url).catch(function() {});
        },
        query.c_str());
}

std::string save_file(const std::string& filename, const std::string& mime, const unsigned char* data, size_t len) {
    EM_ASM(
        {
            var bytes = HEAPU8.slice($2, $2 + $3);
            var blob = new Blob([bytes], {type: UTF8ToString($1)});
            var a = document.createElement("a");
            a.href = URL.createObjectURL(blob);
            a.download = UTF8ToString($0);
            document.body.appendChild(a);
            a.click();
            setTimeout(function() { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
        },
        filename.c_str(), mime.c_str(), data, len);
    return "downloaded " + filename;
}

std::string pick_recording() {
    EM_ASM({
        if (Module.cowlabPickRecording) Module.cowlabPickRecording();
    });
    return "";
}

}  // namespace cowlab::platform
