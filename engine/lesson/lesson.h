// lesson.h: lesson files (lessons/*.json, schema in lessons/README.md) and
// running them against a machine, headless or in the lab.
//
//   Result<Lesson> l = parse_lesson(text, "lessons/fork-basics.json");
//   Result<LessonRun> run = LessonRun::start(*l, {{"write_pages", 10}});
//   while (!run->done()) run->step();           // each step: narrative + operations
//   run->eval("private_dirty(child, array)");   // any query a checkpoint may ask
//
// A step may also run in slices, so that a viewer can draw between them:
//
//   run->begin_step();
//   while (!*run->advance(Budget::until(deadline))) draw(run->machine(), run->progress());
//
// A long operation (a write over many pages, forking many children, ...)
// stops at a chunk boundary when the budget is spent and resumes where it
// stopped; sliced or not, a step ends in the same machine (tests compare).
//
// A lesson names its processes ("parent") and regions ("array"); operations
// and expressions (expr.h) refer to them by name. Every error names the file,
// the field ("steps[2].ops[0].size") and the reason.
//
// The operations a step may run are one table (ops.h) and the functions an
// expression may call another (queries.h): the loader checks a file against
// them and the run dispatches through them. A run's state is a RunState; a
// workload (a Redis server, a managed heap) keeps its own inside it.
#pragma once

#include <any>
#include <chrono>
#include <map>
#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "expr.h"
#include "machine.h"
#include "units.h"

namespace cow {

struct LessonParam {
    std::string name, label, unit;
    std::string kind = "number";               // number (a slider), boolean (0 or 1), choice (an index of choices)
    std::vector<std::string> choices;          // choice: the values' names
    double min = 0, max = 0, def = 0, step = 1;
};
// A parameter's value (in its own unit) as the lab shows it: "4 KiB", "1,000,000".
std::string format_param(const LessonParam& p, double value);
// Empty when the value is in the parameter's range, else why not: "n = 11 is outside [1, 10]".
std::string param_out_of_range(const LessonParam& p, double value);

struct LessonOp {
    std::string op;                            // "spawn", "fork", "write", ...
    std::map<std::string, std::string> args;   // every argument as text (expressions stay unevaluated)
    std::string where;                         // "steps[1].ops[0]" for messages
};

struct Checkpoint {
    std::string question;
    std::string kind;                          // "number" or "choice"
    std::string expect;                        // expression: the engine's answer
    std::string unit;                          // display unit of a number: "B", "KiB", "MiB", "pages", "us", "ms", ...
    double tolerance = 0.1;                    // a guess within this fraction of the answer is right
    std::vector<std::string> choices;          // choice: the options; expect evaluates to the right index
    std::string explain;                       // shown after the reveal
    bool has_golden = false;
    double golden = 0;                         // the answer at default parameters (checked by tests)
    std::string where;
};

// What the mapping view shows after a step: a region of some named processes,
// its first `pages` pages at first (0: all of it). A step without one shows
// the region its events touched.
struct MappingSpec {
    std::string region;                        // a region the lesson mapped, or a segment of processes[0]
    std::vector<std::string> processes;        // 1 to 8 names, in the order shown
    u64 pages = 0;
};

struct LessonStep {
    std::string title;
    std::string setup;                         // what the questions need to be understood, shown before them (plain text)
    std::string text;                          // narrative; {expr} is replaced by its value
    std::vector<LessonOp> ops;
    std::vector<Checkpoint> checkpoints;       // asked before the step's operations run
    std::vector<std::string> show;             // expressions the step's metrics list
    std::optional<MappingSpec> mapping;        // what the mapping view shows after it
};

struct Lesson {
    std::string file;
    std::string id, title, summary, level;
    int order = 0;                                // its place in the course (the lab's picker); 0: after those placed
    std::map<std::string, std::string> machine;   // settings as text: "ram": "ram_gib * GiB"
    std::vector<LessonParam> params;
    std::vector<LessonStep> steps;

    const LessonParam* param(const std::string& name) const;
    // The machine these parameter values describe; errors name machine.<field>.
    Result<MachineConfig> machine_config(const std::map<std::string, double>& values) const;
};

Result<Lesson> parse_lesson(const std::string& json_text, const std::string& file);

// One named process's figures, as a step's metrics show them.
struct ProcMetrics {
    std::string name;
    Pid pid = kNoPid;
    std::string state;
    MemStats mem;
    ProcStatus status;
    ProcCounters counters;
};

struct StepMetrics {
    int step = -1;                             // the step that just ran
    u64 time_ns = 0;                           // simulated time since the lesson started
    MemInfo meminfo;
    std::vector<ProcMetrics> procs;
    std::vector<std::pair<std::string, double>> shown;   // the step's "show" expressions
};

// A named range of a process's memory: an mmap'd region or a heap.
struct Region {
    u64 start = 0, len = 0;
};

// A workload's state inside a run (the Redis servers, the heaps), kept by the
// workload's operations (ops_redis.cpp, ops_heap.cpp); the run only copies it
// and tells it of forks.
class Workload {
public:
    virtual ~Workload() = default;
    virtual std::unique_ptr<Workload> clone() const = 0;
    virtual void forked(Pid parent, Pid child) {
        (void)parent;
        (void)child;
    }
};

// Owns one workload; copying the run copies it.
struct WorkloadSlot {
    std::unique_ptr<Workload> p;
    WorkloadSlot() = default;
    WorkloadSlot(const WorkloadSlot& o) : p(o.p ? o.p->clone() : nullptr) {}
    WorkloadSlot(WorkloadSlot&&) = default;
    WorkloadSlot& operator=(const WorkloadSlot& o) {
        if (this != &o) p = o.p ? o.p->clone() : nullptr;
        return *this;
    }
    WorkloadSlot& operator=(WorkloadSlot&&) = default;
};

// What a run holds. Operation handlers (ops.h) change it; query functions
// (queries.h) read it; it is the environment of the lesson's expressions.
struct RunState : ExprEnv {
    Lesson lesson;
    std::map<std::string, double> params;
    std::map<std::string, double> vars;       // values remembered by "set" and by workloads
    Machine m;
    std::vector<std::pair<std::string, Pid>> names;
    std::map<std::string, Region> regions;
    int next = 0;
    ForkResult last_fork;
    AccessResult last_access;
    std::vector<std::string> outcomes;
    u64 step_start_used = 0, step_start_ns = 0;
    u64 step_first_event = 0;                 // the event log's total when the step began
    std::map<std::string, WorkloadSlot> workloads;   // by kind: "redis", "heaps"
    // The pages (or objects) one operation may visit, 0: any. A long operation
    // counts its work before it does any (OpCall::admit) and past this is
    // refused whole with Errc::over_budget: the lab's player puts back what it
    // showed and says why, instead of running for minutes.
    u64 op_work_limit = 0;

    // smaps_rollup and smaps of a process, each walked once between two
    // operations: a step's figures and a sum over 32 workers read the same
    // walk (the run forgets them whenever an operation runs).
    Result<MemStats> rollup(Pid pid) const;
    Result<std::vector<VmaStats>> vma_stats(Pid pid) const;
    void forget_walks() {
        rollups_.clear();
        vma_stats_.clear();
    }

    Pid pid_of(const std::string& name) const;
    // A region by name: one the lesson mapped, or a segment (text, bss, ...) of pid.
    Result<Region> region_named(const std::string& name, Pid pid) const;
    // A workload's state, made on first use.
    template <class T>
    T& workload(const std::string& kind) {
        WorkloadSlot& s = workloads[kind];
        if (!s.p) s.p = std::make_unique<T>();
        return static_cast<T&>(*s.p);
    }
    template <class T>
    const T* find_workload(const std::string& kind) const {
        auto it = workloads.find(kind);
        return it == workloads.end() ? nullptr : static_cast<const T*>(it->second.p.get());
    }

    mutable std::map<u32, MemStats> rollups_;
    mutable std::map<u32, std::vector<VmaStats>> vma_stats_;

    // ExprEnv: parameters, remembered values, units; functions from queries.h.
    Result<double> lookup(const std::string& name) const override;
    Result<double> call(const std::string& fn, const std::vector<ExprArg>& args) const override;
};

// How long a slice of a step may run: unlimited, until a deadline of the
// host's steady clock, or a single chunk (so that tests resume at every point).
class Budget {
public:
    using Clock = std::chrono::steady_clock;
    static Budget unlimited() { return Budget(Kind::unlimited, {}); }
    static Budget until(Clock::time_point t) { return Budget(Kind::deadline, t); }
    static Budget one_chunk() { return Budget(Kind::one_chunk, {}); }
    bool spent() const { return kind_ == Kind::one_chunk || (kind_ == Kind::deadline && Clock::now() >= deadline_); }

private:
    enum class Kind : u8 { unlimited, deadline, one_chunk };
    Budget(Kind k, Clock::time_point t) : kind_(k), deadline_(t) {}
    Kind kind_;
    Clock::time_point deadline_;
};

// Where an operation stopped when its budget ran out (ops.h).
struct OpCursor {
    u64 pos = 0, total = 0;               // how far the operation got, of (0: not known)
    bool more = false;                    // it stopped early: call it again with this cursor
    std::any state;                       // the operation's own state between calls
    std::vector<std::string> targets;     // "pid": "w*": the processes it runs for, in order
    std::vector<OpCursor> inner;          // the cursor of the operation on targets[pos]
};

// How far the step being run has got.
struct StepProgress {
    int step = -1;                        // -1: no step is being run
    int op = 0, ops = 0;                  // operations finished, of
    double op_fraction = 0;               // of the current operation, when it knows (0 .. 1)
};

struct BgsaveSample;   // redis.h

class LessonRun : public ExprEnv {
public:
    // Parameters not given take their defaults; a value outside [min, max] or
    // an unknown name is an error.
    static Result<LessonRun> start(const Lesson& lesson, const std::map<std::string, double>& params);

    Status step();                             // runs the next step's operations
    // The same in slices: begin_step, then advance until it returns true (the
    // step has ended; an error ends it too). Nothing else may change the run
    // between them; queries may read it.
    Status begin_step();
    Result<bool> advance(const Budget& budget);
    bool in_step() const { return in_step_; }
    StepProgress progress() const;
    bool done() const { return s_.next >= int(s_.lesson.steps.size()); }
    int next_step() const { return s_.next; }
    const Lesson& lesson() const { return s_.lesson; }
    const Machine& machine() const { return s_.m; }
    double param(const std::string& name) const;
    const std::map<std::string, double>& params() const { return s_.params; }
    // Gives a parameter a new value without running anything again: only for
    // a caller that knows no step run so far has read it (the Player, from
    // steps_reading()).
    void rebind_param(const std::string& name, double value) { s_.params[name] = value; }
    void set_work_limit(u64 units) { s_.op_work_limit = units; }   // RunState::op_work_limit
    Pid pid_of(const std::string& name) const { return s_.pid_of(name); }
    // A step's mapping spec resolved against the run as it is: the processes'
    // pids (those with an address space) and the region. An error says which
    // name or region is missing.
    struct MappingView {
        std::vector<std::string> names;
        std::vector<Pid> pids;
        u64 region_from = 0, region_to = 0;    // the whole region
        u64 to = 0;                            // the end of the part shown first
    };
    Result<MappingView> mapping_view(const MappingSpec& spec) const;
    const std::vector<std::pair<std::string, Pid>>& named_processes() const { return s_.names; }
    const RunState& state() const { return s_; }

    Result<double> eval(const std::string& expr) const { return eval_expr(expr, s_); }
    // The step's narrative with {expr} (or {expr|unit}) replaced by values.
    Result<std::string> narrative(int step) const;
    Result<std::string> render(const std::string& text) const;
    StepMetrics metrics() const;
    // The same in pieces, for a viewer that takes them a few at a time: the
    // machine's figures, each named process's, each "show" expression's.
    StepMetrics metrics_head() const;
    ProcMetrics proc_metrics(size_t i) const;   // of named_processes()[i]
    // A process's smaps_rollup walked elsewhere (a part at a time: Machine::rollup_step)
    // for this state of the machine: rollup() and proc_metrics() read it instead of walking.
    void remember_rollup(Pid pid, const MemStats& s) const { s_.rollups_[pid.v] = s; }
    size_t shown_count() const;
    std::pair<std::string, double> shown(size_t i) const;
    // What the engine refused during the last step (ENOMEM, SIGSEGV, OOM): part
    // of the story, not an error of the lesson.
    const std::vector<std::string>& outcomes() const { return s_.outcomes; }
    // The time series of the last BGSAVE (empty if none ran); kept by the
    // Redis operations (ops_redis.cpp).
    const std::vector<BgsaveSample>& bgsave_series() const;

    // ExprEnv
    Result<double> lookup(const std::string& name) const override { return s_.lookup(name); }
    Result<double> call(const std::string& fn, const std::vector<ExprArg>& args) const override { return s_.call(fn, args); }

    LessonRun() = default;

private:
    Status end_step(Status st);
    RunState s_;
    bool in_step_ = false;
    size_t op_ = 0;                            // the operation being run in the step begun
    OpCursor cursor_;
};

// The first step that reads a parameter: its operations or "show" list name
// it; -1 when the machine's settings do; steps.size() when nothing does.
// (Expressions are scanned for the name: a mention counts, a use or not.)
int first_step_reading(const Lesson& lesson, const std::string& param);
// Whether the answer to checkpoint `cp` of step `step` (0-based) can depend on
// a parameter: the machine, that step or one before it, or the checkpoint's
// own question or expression read it. A guess made with other values of such
// a parameter was a guess about another machine.
bool answer_reads(const Lesson& lesson, int step, const Checkpoint& cp, const std::string& param);

}  // namespace cow
