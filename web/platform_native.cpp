// platform_native.cpp: the lab in a native window (SDL2 + OpenGL 3.3): files
// named on the command line, live mode on this machine's processes (host/),
// and a while loop. See platform.h.
//
//   cowlab-lab --recording FILE                 replays a recording
//   cowlab-lab --live [-p PID]... [--tree PID] [--name NAME] [--interval MS] [--proc-root DIR]
#include "platform.h"

#include <SDL2/SDL.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "app.h"
#include "live_feed.h"

namespace cowlab::platform {

namespace {

// What the command line asked for (parse_arg), opened by open_startup.
std::string recording;
cowlab::live::Targets live_targets;
bool live = false;
long interval_ms = 1000;
std::string proc_root = "/proc";

int fail(const char* what, const char* detail) {
    std::fprintf(stderr, "cowlab: %s: %s\n", what, detail);
    return -1;
}

bool number(const char* text, long lo, long hi, long& out) {
    char* end = nullptr;
    out = std::strtol(text, &end, 10);
    return end && !*end && out >= lo && out <= hi;
}

}  // namespace

int parse_arg(int argc, char** argv, int i) {
    const bool has_value = i + 1 < argc;
    long v = 0;
    if (std::strcmp(argv[i], "--recording") == 0 && has_value) {
        recording = argv[i + 1];
        return 2;
    }
    if (std::strcmp(argv[i], "--live") == 0) {
        live = true;
        return 1;
    }
    if (std::strcmp(argv[i], "--proc-root") == 0 && has_value) {
        proc_root = argv[i + 1];
        return 2;
    }
    if ((std::strcmp(argv[i], "-p") == 0 || std::strcmp(argv[i], "--pid") == 0 || std::strcmp(argv[i], "--tree") == 0) && has_value) {
        const bool tree = std::strcmp(argv[i], "--tree") == 0;
        if (!number(argv[i + 1], 1, 1L << 30, v)) return fail(argv[i], "expects a process id");
        (tree ? live_targets.trees : live_targets.pids).push_back(int(v));
        live = true;
        return 2;
    }
    if (std::strcmp(argv[i], "--name") == 0 && has_value) {
        live_targets.names.push_back(argv[i + 1]);
        live = true;
        return 2;
    }
    if (std::strcmp(argv[i], "--interval") == 0 && has_value) {
        if (!number(argv[i + 1], 100, 3600000, interval_ms)) return fail("--interval", "expects 100 .. 3600000 ms");
        return 2;
    }
    return 0;
}

std::string usage(const char* program) {
    const std::string p = program;
    return "       " + p + " --recording FILE        replays a recording (cowlab live --record, cowlab experiment --record)\n" +
           "       " + p + " --live [-p PID]... [--tree PID] [--name NAME] [--interval MS]   real processes, live\n";
}

// Without a display SDL may still open a window nobody sees (on the console's DRM device).
std::string cannot_start() {
    if (!std::getenv("DISPLAY") && !std::getenv("WAYLAND_DISPLAY") && !std::getenv("SDL_VIDEODRIVER"))
        return "no display: the lab's window needs one (DISPLAY or WAYLAND_DISPLAY; without, `cowlab live` "
               "prints tables, and `xvfb-run cowlab-lab ...` runs the window on a virtual display)";
    return "";
}

const char* request_gl_context() {
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_CORE);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 3);
    return "#version 330 core";
}

unsigned long long engine_memory_limit() { return 0; }

const char* font_path() { return "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"; }   // fonts-dejavu-core

bool open_startup(int argc, char** argv) {
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
        if (live_targets.empty())
            live_targets.trees.push_back(int(getppid()));
        std::string command = "cowlab-lab";
        for (int i = 1; i < argc; ++i) command += std::string(" ") + argv[i];
        if (cow::Status st = cowlab::app().open_recording(cowlab::live::live_header(command), "this machine"); !st) {
            fail("live", st.message.c_str());
            return false;
        }
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
    return true;
}

void begin_frame(SDL_Window*) {}   // the window's size is the user's

void run_loop(void (*frame)(), const bool* quit) {
    while (!*quit) frame();
}

void mark(const char*) {}                                      // no page timeline natively
void announce(const std::string&, const std::string&) {}     // no page around a native window
void share_link(const std::string&) {}                       // the lab puts the link on SDL's clipboard itself

std::string save_file(const std::string& filename, const std::string&, const unsigned char* data, size_t len) {
    std::FILE* f = std::fopen(filename.c_str(), "wb");
    if (!f) return "could not write " + filename;
    const bool ok = std::fwrite(data, 1, len, f) == len;
    std::fclose(f);
    return ok ? "saved " + filename : "could not write " + filename;
}

std::string pick_recording() {
    return "To replay a recording natively: cowlab-lab --recording FILE (record one with cowlab live --record FILE)";
}

}  // namespace cowlab::platform
