// app.h: the lab: one App holds what is shown (the lesson's Player, or a
// recording replayed) and owns the windows that show it. Shared by the native
// and the web build.
//
//   each frame (main.cpp):   app.update(dt);   app.draw();
//     update  the Play clocks, live samples, what the page hears (app.cpp)
//     draw    the layout (app.cpp) and the windows: one struct per window with
//             its own state and a draw (windows.h, one *_window.cpp each)
//
//   platform.h   what differs between the browser and a native window
//   api.cpp      the C functions the page calls (window.cowlab), through app()
//   pagemap.h    the shader-drawn page map the memory and pages views share
#pragma once

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine.h"
#include "pagemap.h"
#include "lab_player.h"
#include "windows.h"

namespace cowlab {

constexpr const char* kDefaultLesson = "fork-basics";
constexpr int kWorkSliceMs = 8;   // of each frame, the player's work may take this long

struct App {
    App();
    Player player;
    PageMap page_map;
    long page_map_version = -1;
    std::vector<std::string> notices;   // problems shown on screen (bad URL parameters, ...)
    std::string gl_error;
    bool embed = false;                 // ?embed=1: no chrome, for an iframe
    long frames_drawn = 0;
    std::string selected;               // process selected in the Processes window
    // A page and its frame picked in one view (mapping, physical memory, address
    // space), outlined in all of them; `serial` changes with each pick.
    struct Focus {
        cow::Pid pid = cow::kNoPid;
        cow::u64 addr = 0;
        cow::FrameId frame = cow::kNoFrame;
        long serial = 0;
    } focus;
    void focus_on(cow::Pid pid, cow::u64 addr, cow::FrameId frame) {
        focus = Focus{pid, addr, frame, focus.serial + 1};
    }
    std::string focus_lesson;           // the lesson the focus was picked in
    long announced_version = -1;        // player state last mirrored to the page
    std::string show_view;              // a tab to bring forward on the next frame (API, URL view=)
    bool playing = false;               // Play: advance by itself every few seconds
    double play_clock = 0;              // seconds since the last automatic step
    bool capture_requested = false;     // save the next rendered frame as PNG
    // Where the lab's controls were last drawn, in CSS pixels ("param:keys",
    // "next", ...): for tests that use the mouse as a person would.
    struct Rect {
        float x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    };
    std::map<std::string, Rect> controls;
    void note_control(const std::string& name);   // the last ImGui item
    double frame_ms_total = 0, frame_ms_max = 0;   // time spent in frame(), for the web benchmark
    // ... of it, the lab's own: all but GL drawing and the buffer swap (which
    // SwiftShader does on the CPU in headless Chromium): the stall the lab causes.
    double lab_ms_max = 0;
    // ... and where the longest of those went: App::update (the engine's work
    // slice among it, work_ms) and the windows (App::draw and ImGui::Render,
    // the actions of clicks and keys among it).
    double lab_max_update_ms = 0, lab_max_work_ms = 0, lab_max_draw_ms = 0;
    double work_ms = 0;                 // this frame's work slice
    long frame_ms_count = 0;
    void note_frame_time(double ms, double lab_ms, double update_ms, double draw_ms) {
        frame_ms_total += ms;
        frame_ms_max = std::max(frame_ms_max, ms);
        if (lab_ms > lab_ms_max) {
            lab_ms_max = lab_ms;
            lab_max_update_ms = update_ms;
            lab_max_work_ms = work_ms;
            lab_max_draw_ms = draw_ms;
        }
        ++frame_ms_count;
    }

    // A recording replayed instead of the lesson (File > Open in the page, or
    // live mode natively: platform_native.cpp sets `live_sampler`, which
    // App::update calls every `live_interval_s`).
    struct Replay {
        cow::Recording rec;
        bool open = false;
        double t = 0;                   // the time shown, seconds since the first sample
        bool playing = false;
        int pid = 0;                    // the process selected (its pages are drawn)
        long version = 0;               // changes whenever what is shown does
        long pages_version = -1;        // the page map shows this version
        std::function<cow::Status(cow::Recording&)> live_sampler;
        double live_interval_s = 1.0, live_clock = 0;
        bool follow = true;             // live: show the newest sample
    } replay;
    cow::Status open_recording(const std::string& text, const std::string& name);
    void close_recording();

    // The windows (windows.h), each with its own state.
    LessonWindow lesson_window;
    ProcessesWindow processes_window;
    MappingWindow mapping_window;
    MemoryWindow memory_window;
    AddressWindow address_window;
    EventsWindow events_window;
    MetricsWindow metrics_window;
    RecordingWindow recording_window;

    void init();                        // after the GL context exists
    // Each frame: update (Play clocks, live samples, what the page hears), then draw.
    void update(double dt);             // dt: seconds since the last frame
    void draw();                        // all windows of one frame; reads the state, answers clicks
    // The notices, each with its dismiss button (at the top of the left window).
    void draw_notices();
    // Asks the page for a file to open (web), or says how (native).
    void pick_recording();
    // ?lesson=fork-basics&step=3&ints=100: bad parts become notices and are ignored.
    void open_query(const std::string& query);
    std::string info_json() const;

private:
    void update_lesson(double dt);
    void update_replay(double dt);
};

App& app();

}  // namespace cowlab
