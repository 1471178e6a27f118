// player.h: a lesson as the lab plays it: which step is shown, whether it has
// run, the learner's predictions, the parameters. The windows draw it; the
// page's JavaScript API drives it through the same calls.
//
//   step cur, not yet run:  its checkpoints are asked (predict)
//   step cur, run:          its narrative and the answers are shown (reveal)
//   next():  run cur if it has not run, else move to cur + 1 (which runs at
//            once when it asks nothing)
//   back():  replay from the start up to cur - 1, shown as run
//
// Pure logic, tested natively (tests/engine/test_player.cpp). The lessons it
// may load by id are a catalogue given to it: the lab passes the ones built
// into it (web/player.h), a test its own.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lesson.h"

namespace cow {

// A lesson file by name: {"lessons/fork-basics.json", "{ ... }"}.
struct LessonSource {
    std::string path, text;
};
using LessonCatalogue = std::vector<LessonSource>;

struct LessonInfo {
    std::string id, title, summary, level;
};

// The lessons of a catalogue that parse, in its order.
std::vector<LessonInfo> lesson_infos(const LessonCatalogue& lessons);

class Player {
public:
    explicit Player(LessonCatalogue lessons = {}) : lessons_(std::move(lessons)) {}
    const LessonCatalogue& lessons() const { return lessons_; }

    // Loads a built-in lesson by id with parameters (missing: defaults), and
    // shows `step` (0-based). On error nothing changes and the message says why.
    Status load(const std::string& id, const std::map<std::string, double>& params, int step = 0);
    Status load_text(const std::string& json, const std::string& name, const std::map<std::string, double>& params);
    Status set_param(const std::string& name, double value);   // replays to the same step
    Status next();
    Status back();
    Status reset();
    Status go_to(int step);
    Status answer(int checkpoint, double guess);               // a number, or a choice index

    bool loaded() const { return loaded_; }
    const Lesson& lesson() const { return lesson_; }
    const LessonRun& run() const { return run_; }
    const std::map<std::string, double>& params() const { return params_; }
    int current() const { return cur_; }
    bool ran() const { return ran_; }
    bool at_end() const { return loaded_ && ran_ && cur_ + 1 >= int(lesson_.steps.size()); }
    const std::string& lesson_error() const { return error_; }  // a broken step: shown, the lab goes on
    long version() const { return version_; }                   // changes whenever the state does

    struct CheckpointView {
        std::string question, explain, unit, kind;
        std::vector<std::string> choices;
        bool has_guess = false;
        double guess = 0;
        bool revealed = false;
        double answer = 0;
        std::string answer_text;
        bool right = false;
        std::string error;
    };
    struct ProcPoint {
        std::string name;
        Pid pid = kNoPid;
        u64 rss = 0, pss = 0, uss = 0, shared = 0, private_dirty = 0, min_flt = 0, cow_copies = 0;
    };
    struct StepPoint {
        int step = 0;
        u64 time_ns = 0;
        u64 used = 0, anon = 0, page_tables = 0, committed = 0;
        std::vector<ProcPoint> procs;
    };
    // The machine after each step run so far (for the metrics plots), and
    // each such step's full metrics.
    const std::vector<StepPoint>& history() const { return history_; }
    const std::vector<StepMetrics>& history_metrics() const { return history_metrics_; }

    std::vector<CheckpointView> checkpoints() const;
    std::string narrative() const;   // of the current step; empty before it ran
    // The run's metrics, computed once per state (walking page tables is not free).
    const StepMetrics& metrics() const;
    nlohmann::json state() const;           // what the page's cowlab.state() returns
    std::string state_json() const;
    std::string metrics_json() const;       // metrics_json (report.h) of metrics()
    nlohmann::json history_json() const;    // history_metrics() in the same shape
    std::string share_query() const; // "?lesson=...&step=...&param=value"

private:
    Status replay(int step, bool run_it);
    void run_one();   // runs the next step and records it
    void changed() { ++version_; }

    LessonCatalogue lessons_;
    bool loaded_ = false;
    Lesson lesson_;
    LessonRun run_;
    std::map<std::string, double> params_;
    int cur_ = 0;
    bool ran_ = false;
    std::map<int, double> guesses_;
    std::string error_;
    long version_ = 0;
    std::vector<StepPoint> history_;
    std::vector<StepMetrics> history_metrics_;
    mutable StepMetrics metrics_cache_;
    mutable long metrics_version_ = -1;
};

}  // namespace cow
