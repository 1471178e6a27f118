// player.h: a lesson as the lab plays it: which step is shown, whether it has
// run, the learner's predictions, the parameters. The windows draw it; the
// page's JavaScript API drives it through the same calls.
//
//   step cur, not yet run:  its checkpoints are asked (predict): answer()
//                           locks a guess in, withdraw() takes it back
//   step cur, run:          its narrative and the answers are shown (reveal)
//   next():  run cur if it has not run, else move to cur + 1 (which runs at
//            once when it asks nothing)
//   back():  back to cur - 1, shown as run
//
// It keeps a snapshot of the run after each step (a machine is a value:
// copying it is the snapshot), within a memory budget, evicting those
// farthest from the step shown; back, go_to and reset restore the nearest
// one at or before the step and run on from there, and a parameter change
// keeps the snapshots before the first step that reads the parameter.
//
// Guesses are the learner's: kept across back, go_to, reset and parameter
// changes until another lesson is loaded. A guess made with other values of a
// parameter its answer reads is shown as one, and not graded.
//
// Sliced (the lab): an action only starts the work, busy() says so, and
// work(budget) runs it a slice at a time between frames; cancel() puts back
// what was shown before it. Not sliced (the default: tests, the page's API):
// an action returns when its work is done.
//
// Pure logic, tested natively (tests/engine/test_player.cpp). The lessons it
// may load by id are a catalogue given to it: the lab passes the ones built
// into it (web/player.h), a test its own.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include <chrono>

#include "lesson.h"
#include "report.h"

namespace cow {

// A lesson file by name: {"lessons/fork-basics.json", "{ ... }"}.
struct LessonSource {
    std::string path, text;
};
using LessonCatalogue = std::vector<LessonSource>;

struct LessonInfo {
    std::string id, title, summary, level;
    int order = 0;
};

// The lessons of a catalogue that parse, in the course's order.
std::vector<LessonInfo> lesson_infos(const LessonCatalogue& lessons);
// Sorts lessons as the course teaches them: by "order" (those without one
// last), then by id.
void in_course_order(std::vector<LessonInfo>& lessons);

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
    Status answer(int checkpoint, double guess);               // a number, or a choice index: locked in
    Status withdraw(int checkpoint);                           // before the step runs: guess again

    // Slicing (see the top of this file).
    void set_sliced(bool on) { sliced_ = on; }
    bool busy() const { return job_.active; }
    void work(const Budget& budget);   // runs the pending work until the budget is spent
    void finish() { work(Budget::unlimited()); }
    void cancel();                     // back to what was shown before the work began
    struct Progress {
        int step = -1;                 // the step being run (0-based), -1: none
        int steps_done = 0, steps_total = 0;   // of this piece of work
        double fraction = 0;           // of the whole piece of work, 0 .. 1
        double seconds = 0;            // since it began
    };
    Progress progress() const;
    // Snapshots: at most this many bytes of the host's memory (default 512 MiB).
    void set_snapshot_budget(u64 bytes) { snapshot_budget_ = bytes; }
    // The host memory the run and its snapshots may use (0: no limit, the
    // default). A lesson or a parameter whose machine would need more is
    // refused with a message; a run that grows past it is stopped and put
    // back as it was, and notice() says why.
    void set_memory_limit(u64 bytes) { memory_limit_ = bytes; }
    // The work one operation may do: pages or objects it visits (0: any, the
    // default). Parameters that ask more, or a dataset larger than the
    // machine, are refused before the operation runs (Errc::over_budget):
    // what was shown is put back and notice() says why; unsliced, the action
    // returns that error too.
    void set_work_limit(u64 units) {
        work_limit_ = units;
        run_.set_work_limit(units);
    }
    // The refusal of the work that ended last, once (ok: none): how a sliced
    // action's caller that waited for it (the page's API) learns of it.
    Status take_refusal() { return std::exchange(refused_, Status{}); }
    const std::string& notice() const { return notice_; }
    void clear_notice() { notice_.clear(); }
    struct SnapshotStats {
        int count = 0;
        u64 bytes = 0;                 // host memory the snapshots add to the run's
        long restores = 0;             // replays that began from a snapshot
        long steps_run = 0;            // steps run since the player was made
    };
    SnapshotStats snapshot_stats() const;

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
        std::string guess_text;        // "1,024 KiB", the choice's words
        bool for_other_values = false; // made with other values of a parameter the answer reads...
        std::string guess_params;      // ...these: "ints = 10"
        bool revealed = false;
        double answer = 0;
        std::string answer_text;
        bool right = false;            // a guess for these values, and right
        std::string error;
    };
    // A step run: the machine's figures after it, and its checkpoints evaluated then.
    struct StepRecord {
        StepMetrics metrics;
        std::vector<CheckpointResult> answers;
    };
    // The steps run so far (for the metrics plots and the recap).
    const std::vector<StepRecord>& history() const { return history_; }

    // A figure a checkpoint of the current step asks, kept off the screen until
    // the step has run: the query (rss, pss, cow_copies, used, ...) of a
    // process, or of every process whose name starts with `process` (prefix).
    struct Asked {
        std::string fn, process;
        bool prefix = false;
        bool covers(const std::string& query, const std::string& proc) const;
    };
    const std::vector<Asked>& asked() const;   // empty once the step has run
    bool hides(const std::string& query, const std::string& proc = "") const;

    // Every checkpoint of the lesson with the learner's guess and, for the
    // steps run, the engine's answer: the recap the last step shows.
    struct RecapItem {
        int step = 0, checkpoint = 0;
        CheckpointView view;
    };
    struct Recap {
        int asked = 0;                 // checkpoints in the lesson
        int guessed = 0;               // ... with a guess for these values
        int revealed = 0, right = 0;
        std::vector<RecapItem> items;
    };
    Recap recap() const;

    std::vector<CheckpointView> checkpoints() const;
    std::string narrative() const;   // of the current step; empty before it ran
    // The run's metrics, computed once per state (walking page tables is not free).
    const StepMetrics& metrics() const;
    nlohmann::json state() const;           // what the page's cowlab.state() returns
    std::string state_json() const;
    std::string metrics_json() const;       // metrics_json (report.h) of metrics()
    nlohmann::json history_json() const;    // history()'s metrics in the same shape
    std::string share_query() const; // "?lesson=...&step=...&param=value"

private:
    // A run after some number of steps, and the error its last step left.
    struct Snapshot {
        LessonRun run;
        std::string error;
        u64 bytes = 0;
    };
    using SnapshotPtr = std::shared_ptr<const Snapshot>;
    // What an action changes, as it was before: cancel() restores it.
    struct Shown {
        std::map<std::string, double> params;
        int cur = 0;
        bool ran = false;
        SnapshotPtr snap;                              // the run as it was (sliced only)
        std::vector<StepRecord> history;
    };
    struct Job {
        bool active = false;
        int target = 0;                // steps run when it is done
        int from = 0;                  // steps run when it began
        int cur = 0;
        bool ran = false;
        Shown before;
        int keep_through = -1;         // a parameter changed: snapshots after this many steps read it (-1: all)
        std::chrono::steady_clock::time_point began;
    };
    Status replay(int step, bool run_it);
    Status load_lesson(const Lesson& l, const std::map<std::string, double>& params, int step);
    void prepare(int k);
    Status start_job(int step, bool run_it, Shown before, int keep_through = -1);
    void restore(int k);               // run_ := the best snapshot at or before k steps (or a fresh run)
    void drop_after(int keep_through); // forget what was run with other parameters
    void step_done(const StepMetrics& m);   // records the step that just ended, its answers evaluated
    // The figures after a step, taken a process at a time between slices.
    struct Measuring {
        bool active = false;
        StepMetrics m;
        size_t procs = 0, shown = 0;
        std::optional<RollupJob> rollup;   // of process `procs`, walked a part at a time
    };
    bool measure(const Budget& budget);     // true once every figure is taken
    void keep_snapshot();
    SnapshotPtr snapshot_now() const;
    Shown shown_now();
    void changed() { ++version_; }
    std::string param_changes(const std::map<std::string, double>& before) const;

    LessonCatalogue lessons_;
    bool loaded_ = false;
    Lesson lesson_;
    LessonRun run_;
    std::map<std::string, double> params_;
    int cur_ = 0;
    bool ran_ = false;
    struct Guess {
        double value = 0;
        std::map<std::string, double> params;      // the parameters it was made with
    };
    std::map<std::pair<int, int>, Guess> guesses_; // by (step, checkpoint)
    CheckpointView view_of(int step, int checkpoint, const CheckpointResult* revealed) const;
    std::string error_;
    long version_ = 0;
    std::vector<StepRecord> history_;              // of the steps run_ has run
    std::vector<StepRecord> known_;                // of every step run with these parameters (a longer prefix)
    mutable std::vector<Asked> asked_cache_;
    mutable long asked_version_ = -1;
    mutable StepMetrics metrics_cache_;
    mutable long metrics_version_ = -1;

    bool sliced_ = false;
    Job job_;
    Measuring meas_;
    std::map<int, SnapshotPtr> snaps_;    // by the number of steps run
    bool run_stale_ = false;              // run_ has run a step that read a changed parameter
    u64 snapshot_budget_ = 512ull << 20;
    u64 memory_limit_ = 0;
    u64 work_limit_ = 0;
    Status refused_;                   // why the last piece of work was put back (over_budget)
    std::string notice_;
    Status check_memory(const Lesson& l, const std::map<std::string, double>& params) const;
    bool over_memory();   // evicts snapshots first; true if the run alone is too big
    u64 snapshots_bytes() const;
    long restores_ = 0, steps_run_ = 0;
};

}  // namespace cow
