// lesson.h: lesson files (lessons/*.json, schema in lessons/README.md) and
// running them against a machine, headless or in the lab.
//
//   Result<Lesson> l = parse_lesson(text, "lessons/fork-basics.json");
//   Result<LessonRun> run = LessonRun::start(*l, {{"write_pages", 10}});
//   while (!run->done()) run->step();           // each step: narrative + operations
//   run->eval("private_dirty(child, array)");   // any query a checkpoint may ask
//
// A lesson names its processes ("parent") and regions ("array"); operations
// and expressions (expr.h) refer to them by name. Every error names the file,
// the field ("steps[2].ops[0].size") and the reason.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "expr.h"
#include "gcheap.h"
#include "machine.h"
#include "redis.h"

namespace cow {

struct LessonParam {
    std::string name, label, unit;
    double min = 0, max = 0, def = 0, step = 1;
};

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

struct LessonStep {
    std::string title;
    std::string text;                          // narrative; {expr} is replaced by its value
    std::vector<LessonOp> ops;
    std::vector<Checkpoint> checkpoints;       // asked before the step's operations run
    std::vector<std::string> show;             // expressions the step's metrics list
};

struct Lesson {
    std::string file;
    std::string id, title, summary, level;
    std::map<std::string, std::string> machine;   // settings as text: "ram": "ram_gib * GiB"
    std::vector<LessonParam> params;
    std::vector<LessonStep> steps;

    const LessonParam* param(const std::string& name) const;
    // The machine these parameter values describe; errors name machine.<field>.
    Result<MachineConfig> machine_config(const std::map<std::string, double>& values) const;
};

Result<Lesson> parse_lesson(const std::string& json_text, const std::string& file);

// A value for people: format_value(4096, "KiB") == "4 KiB"; units as in lesson files.
std::string format_value(double v, const std::string& unit);

// KiB, MiB, GiB, TiB, page (4096), HPAGE (2 MiB): the units expressions may use.
Result<double> unit_value(const std::string& name);

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

class LessonRun : public ExprEnv {
public:
    // Parameters not given take their defaults; a value outside [min, max] or
    // an unknown name is an error.
    static Result<LessonRun> start(const Lesson& lesson, const std::map<std::string, double>& params);

    Status step();                             // runs the next step's operations
    bool done() const { return next_ >= int(lesson_.steps.size()); }
    int next_step() const { return next_; }
    const Lesson& lesson() const { return lesson_; }
    const Machine& machine() const { return m_; }
    double param(const std::string& name) const;
    const std::map<std::string, double>& params() const { return params_; }
    Pid pid_of(const std::string& name) const;
    const std::vector<std::pair<std::string, Pid>>& named_processes() const { return names_; }

    Result<double> eval(const std::string& expr) const { return eval_expr(expr, *this); }
    // The step's narrative with {expr} (or {expr|unit}) replaced by values.
    Result<std::string> narrative(int step) const;
    Result<std::string> render(const std::string& text) const;
    StepMetrics metrics() const;
    // What the engine refused during the last step (ENOMEM, SIGSEGV, OOM): part
    // of the story, not an error of the lesson.
    const std::vector<std::string>& outcomes() const { return outcomes_; }
    // The time series of the last BGSAVE (empty if none ran).
    const std::vector<BgsaveSample>& bgsave_series() const { return bgsave_series_; }

    // ExprEnv
    Result<double> lookup(const std::string& name) const override;
    Result<double> call(const std::string& fn, const std::vector<ExprArg>& args) const override;

    LessonRun() = default;

private:
    struct Region {
        std::string owner;                     // the process that mapped it
        u64 start = 0, len = 0;
    };
    Status run_op(const LessonOp& op);
    Result<double> num(const LessonOp& op, const std::string& key, double fallback, bool required) const;
    Result<Pid> proc_arg(const LessonOp& op, const std::string& key) const;
    Result<Region> region_arg(const LessonOp& op, Pid pid, const std::string& key) const;
    Result<Region> region_named(const std::string& name, Pid pid) const;
    Result<Image> image_arg(const LessonOp& op) const;
    Status name_process(const LessonOp& op, const std::string& key, Pid pid);

    Lesson lesson_;
    std::map<std::string, double> params_;
    std::map<std::string, double> vars_;       // values remembered by "set"
    Machine m_;
    std::vector<std::pair<std::string, Pid>> names_;
    std::map<std::string, Region> regions_;
    int next_ = 0;
    u64 rng_ = 0;
    ForkResult last_fork_;
    AccessResult last_access_;
    std::vector<std::string> outcomes_;
    u64 step_start_used_ = 0, step_start_ns_ = 0;
    std::map<std::string, RedisServer> redis_;    // Redis-like servers, by process name
    std::map<std::string, ManagedHeap> heaps_;    // managed-runtime heaps, by name
    std::vector<BgsaveSample> bgsave_series_;      // the last BGSAVE's time series
};

}  // namespace cow
