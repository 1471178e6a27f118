// windows.h: the lab's windows, one struct per window, each with its own
// state and a `draw` (one .cpp per window, named after it). The App owns one
// of each (app.h) and calls `draw` inside the ImGui window or tab that holds
// it; `draw` reads the App, answers the user's clicks, and keeps caches of
// what it shows (rebuilt when the machine's or the replay's version changes).
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine.h"
#include "lab_player.h"

struct ImVec2;

namespace cowlab {

struct App;

// lesson_window.cpp: narrative, controls, parameters, predict-then-reveal checkpoints.
struct LessonWindow {
    std::vector<LessonInfo> lessons;   // the built-in lessons, for the chooser (App::init fills it)
    // A slider being dragged: its value applies on release, or once it has
    // rested this long, not on every pixel of the drag.
    struct Pending {
        std::string param;
        double value = 0;
        double still_s = 0;            // seconds at this value
    };
    Pending pending;
    static constexpr double kApplyAfterS = 0.3;
    // A prediction being made, not yet locked in: the text typed, the choice picked.
    struct Draft {
        char text[48] = "";
        int choice = -1;
    };
    std::map<std::pair<int, int>, Draft> drafts;   // by (step, checkpoint) of `drafts_lesson`
    std::string drafts_lesson;
    int nudged_step = -1;              // Run was pressed here with predictions not locked in
    void draw(App& app);

private:
    void draw_controls(App& app);
    void draw_recap(App& app);
    void draw_card(App& app);
    const LessonInfo* next_lesson(const std::string& id) const;
    void draw_checkpoint(App& app, int i, const Player::CheckpointView& c);
    void draw_busy(App& app);
    void draw_params(App& app);
};

// mapping_window.cpp: the mechanism: the shown processes' page-table entries
// as columns, the frames they map between them, a line from each entry to its frame.
struct MappingWindow {
    // What is shown: processes by name, and a range; zoom.back() is shown, zoom.front() the whole region.
    std::vector<std::string> names;
    std::vector<std::pair<cow::u64, cow::u64>> zoom;
    std::string chosen_key;                 // the lesson, step and ran that names and zoom were chosen for
    static constexpr cow::u32 kMaxRows = 64;
    // The rows shown, and the query for the next ones, taken a part at a time.
    cow::Mapping shown;
    long shown_version = -1;
    std::optional<cow::MappingScan> scan;
    long scan_version = -1;
    std::string note;                       // why nothing is shown
    std::vector<std::string> names_shown;   // of shown.request.pids
    bool compact = false;                   // little height: the controls on one line, the key on demand
    // The last step's events a learner walks one at a time (indices into the ring).
    std::vector<cow::u64> story;
    long story_version = -1;
    int event_at = -1;                      // the one shown, -1: none yet
    cow::u64 lost = 0;                      // the step's events the ring no longer keeps
    void draw(App& app);
    nlohmann::json json(App& app);          // what it shows, for the page's API (the query finished first)
    void show_page(App& app, cow::Pid pid, cow::u64 addr);   // zoom to a page's neighbourhood

private:
    void choose(App& app);
    void zoom_into(const cow::MappingRow& row);
    cow::MappingRequest request(const App& app) const;
    bool refresh(App& app, bool finish);
    std::string summary() const;
    void draw_controls(App& app);
    void draw_recap(App& app);
    void draw_card(App& app);
    const LessonInfo* next_lesson(const std::string& id) const;
    void draw_events(App& app);
    void draw_rows(App& app, const cow::Machine& m);
    // Where the columns are: the processes' entries (x of each), the frames between them.
    struct Layout {
        std::vector<float> col_x;
        float entry_w, frames_x, frames_w, line, pad, box_h;
        size_t left;                        // processes drawn left of the frames
    };
    void draw_row(App& app, const cow::Machine& m, size_t r, const Layout& L);
    ImVec2 draw_frame(App& app, const cow::Machine& m, size_t r, size_t g, ImVec2 o, const Layout& L);
    void draw_entry(App& app, size_t r, size_t i, ImVec2 o, const Layout& L, const std::vector<ImVec2>& fbox);
};

// processes_window.cpp: the lesson's named processes with the kernel's figures.
struct ProcessesWindow {
    void draw(App& app);
};

// memory_window.cpp: physical memory, one cell per frame, drawn by a shader.
struct MemoryWindow {
    std::string selected_shown;   // the selection the page map's mask was made for
    double upload_age_s = 0;      // since the page map was last uploaded
    // Who maps the hovered frame (a reverse walk of the page tables), for this version and frame.
    std::vector<std::string> mapper_lines;
    long mappers_version = -1;
    cow::FrameId mappers_frame = cow::kNoFrame;
    long focus_serial = 0;        // the lab's focus last outlined
    void draw(App& app);

private:
    const std::vector<std::string>& mappers(const App& app, cow::FrameId f);
    std::pair<cow::Pid, cow::u64> first_mapper(const App& app, cow::FrameId f) const;
};

// address_window.cpp: the selected process's VMAs with their smaps figures, and its page table.
struct AddressWindow {
    // smaps walks the page tables: once per state and process, not every frame.
    cow::Result<std::vector<cow::VmaStats>> smaps = std::vector<cow::VmaStats>{};
    long smaps_version = -1;
    cow::Pid smaps_pid = cow::kNoPid;
    void draw(App& app);
};

// events_window.cpp: the engine's event log, filterable by kind and process.
struct EventsWindow {
    int kind = -1;                 // -1: every kind
    int pid = 0;                   // 0: every process
    std::vector<cow::u64> rows;    // indices into the ring of the events that pass the filter
    long rows_version = -1;        // the machine's version, kind and pid that `rows` were made for
    int rows_kind = -2, rows_pid = -1;
    long scrolled_version = -1;    // the log follows the newest events
    void draw(App& app);
};

// metrics_window.cpp: figures over time, after each step of the lesson.
struct MetricsWindow {
    void draw(App& app);
};

// recording_window.cpp: a recording of real processes replayed (or filled live):
// its controls and experiments (left), its processes, pages and figures (right).
struct RecordingWindow {
    std::vector<cow::u8> codes;    // the Pages view's cells, in the frame codes
    std::vector<std::pair<size_t, const cow::RecPages*>> starts;   // cell index where each region begins
    void draw(App& app);
    void draw_processes(App& app);
    void draw_pages(App& app);
    void draw_metrics(App& app);
};

}  // namespace cowlab
