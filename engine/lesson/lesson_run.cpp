// lesson_run.cpp: running a lesson: its steps, each an operation stream
// dispatched through the operation table (ops.h); its state as the
// environment of expressions, whose functions are the query table (queries.h).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "lesson.h"
#include "ops.h"
#include "queries.h"

namespace cow {

namespace {

bool is_segment(const std::string& n) {
    return n == "text" || n == "rodata" || n == "data" || n == "bss" || n == "heap" || n == "stack";
}

}  // namespace

Result<LessonRun> LessonRun::start(const Lesson& lesson, const std::map<std::string, double>& given) {
    LessonRun r;
    r.s_.lesson = lesson;
    for (const auto& [name, value] : given) {
        const LessonParam* p = lesson.param(name);
        if (!p) return fail(Errc::invalid_argument, lesson.file + ": no parameter '" + name + "'");
        if (std::string why = param_out_of_range(*p, value); !why.empty())
            return fail(Errc::invalid_argument, lesson.file + ": parameter " + why);
    }
    for (const LessonParam& p : lesson.params) {
        auto it = given.find(p.name);
        r.s_.params[p.name] = it == given.end() ? p.def : it->second;
    }
    Result<MachineConfig> cfg = lesson.machine_config(r.s_.params);
    if (!cfg) return fail(cfg.code(), lesson.file + ": " + cfg.message());
    Result<Machine> m = Machine::create(*cfg);
    if (!m) return fail(m.code(), lesson.file + ": machine: " + m.message());
    r.s_.m = std::move(m.value());
    return r;
}

double LessonRun::param(const std::string& name) const {
    auto it = s_.params.find(name);
    return it == s_.params.end() ? 0 : it->second;
}

Status LessonRun::step() {
    if (Status st = begin_step(); !st) return st;
    Result<bool> r = advance(Budget::unlimited());
    return r.status();
}

Status LessonRun::begin_step() {
    if (in_step_) return fail(Errc::invalid_argument, s_.lesson.file + ": a step is already being run");
    if (done()) return fail(Errc::invalid_argument, s_.lesson.file + ": the lesson has no more steps");
    s_.outcomes.clear();
    s_.step_start_used = s_.m.used_bytes();
    s_.step_start_ns = s_.m.now_ns();
    s_.step_first_event = s_.m.events().total();
    in_step_ = true;
    op_ = 0;
    cursor_ = {};
    return {};
}

Result<bool> LessonRun::advance(const Budget& budget) {
    if (!in_step_) return fail(Errc::invalid_argument, s_.lesson.file + ": no step has begun");
    // The operations change the machine: what was walked before them is forgotten after.
    struct Forget {
        RunState& s;
        ~Forget() { s.forget_walks(); }
    } forget{s_};
    const LessonStep& step = s_.lesson.steps[size_t(s_.next)];
    while (op_ < step.ops.size()) {
        Status st = run_op(s_, step.ops[op_], cursor_, budget);
        if (!st) return end_step(fail(st.err, s_.lesson.file + ": " + st.message));
        if (cursor_.more) return false;
        cursor_ = {};
        ++op_;
        if (op_ < step.ops.size() && budget.spent()) return false;
    }
    if (Status st = end_step({}); !st) return st;
    return true;
}

// A step ends once, finished or broken (a broken step is not retried).
Status LessonRun::end_step(Status st) {
    in_step_ = false;
    cursor_ = {};
    ++s_.next;
    return st;
}

StepProgress LessonRun::progress() const {
    StepProgress p;
    if (!in_step_) return p;
    p.step = s_.next;
    p.op = int(op_);
    p.ops = int(s_.lesson.steps[size_t(s_.next)].ops.size());
    const OpCursor* c = &cursor_;
    // A fan-out ("pid": "w*") counts its targets; inside one, the target's own progress.
    double frac = 0, share = 1;
    while (c) {
        if (!c->targets.empty()) {
            frac += share * double(c->pos) / double(c->targets.size());
            share /= double(c->targets.size());
            c = c->inner.empty() ? nullptr : &c->inner[0];
        } else {
            if (c->total) frac += share * std::min(1.0, double(c->pos) / double(c->total));
            c = nullptr;
        }
    }
    p.op_fraction = frac;
    return p;
}

namespace {

// Whether an expression (or any text) names `word` as a whole identifier.
bool mentions(const std::string& text, const std::string& word) {
    auto ident = [](char ch, bool first) {
        return std::isalpha(static_cast<unsigned char>(ch)) || ch == '_' || (!first && std::isdigit(static_cast<unsigned char>(ch)));
    };
    size_t i = 0;
    while (i < text.size()) {
        if (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.') {   // a number, 1.5e3 included
            while (i < text.size() && (ident(text[i], false) || text[i] == '.')) ++i;
            continue;
        }
        if (!ident(text[i], true)) {
            ++i;
            continue;
        }
        const size_t b = i;
        while (i < text.size() && ident(text[i], false)) ++i;
        if (text.compare(b, i - b, word) == 0 && i - b == word.size()) return true;
    }
    return false;
}

}  // namespace

int first_step_reading(const Lesson& lesson, const std::string& param) {
    for (const auto& [field, text] : lesson.machine)
        if (mentions(text, param)) return -1;
    for (size_t i = 0; i < lesson.steps.size(); ++i) {
        const LessonStep& st = lesson.steps[i];
        for (const LessonOp& op : st.ops)
            for (const auto& [key, text] : op.args)
                if (mentions(text, param)) return int(i);
        for (const std::string& e : st.show)
            if (mentions(e, param)) return int(i);
    }
    return int(lesson.steps.size());
}

bool answer_reads(const Lesson& lesson, int step, const Checkpoint& cp, const std::string& param) {
    const int first = first_step_reading(lesson, param);
    return first < 0 || first <= step || mentions(cp.expect, param) || mentions(cp.question, param);
}

// ---------------------------------------------------------------- the run's state

Result<MemStats> RunState::rollup(Pid pid) const {
    if (auto it = rollups_.find(pid.v); it != rollups_.end()) return it->second;
    Result<MemStats> r = m.smaps_rollup(pid);
    if (r) rollups_[pid.v] = *r;
    return r;
}

Result<std::vector<VmaStats>> RunState::vma_stats(Pid pid) const {
    if (auto it = vma_stats_.find(pid.v); it != vma_stats_.end()) return it->second;
    Result<std::vector<VmaStats>> r = m.smaps(pid);
    if (r) vma_stats_[pid.v] = *r;
    return r;
}

Pid RunState::pid_of(const std::string& name) const {
    for (const auto& [n, p] : names)
        if (n == name) return p;
    return kNoPid;
}

Result<Region> RunState::region_named(const std::string& name, Pid pid) const {
    if (auto it = regions.find(name); it != regions.end()) return it->second;
    if (is_segment(name)) {
        const Mm* mm = m.address_space(pid);
        if (!mm) return fail(Errc::not_running, "process " + std::to_string(pid.v) + " has no address space");
        for (const Vma& v : mm->vmas)
            if (to_string(v.kind) == name) return Region{v.start, v.end - v.start};
        return fail(Errc::invalid_argument, "the process has no " + name + " segment");
    }
    return fail(Errc::invalid_argument, "no region named '" + name + "'");
}

Result<LessonRun::MappingView> LessonRun::mapping_view(const MappingSpec& spec) const {
    MappingView v;
    for (const std::string& name : spec.processes) {
        const Pid pid = s_.pid_of(name);
        if (pid == kNoPid) return fail(Errc::invalid_argument, "mapping: no process named '" + name + "'");
        if (!s_.m.address_space(pid)) continue;   // exited, or a zombie: nothing to show
        v.names.push_back(name);
        v.pids.push_back(pid);
    }
    if (v.pids.empty()) return fail(Errc::not_running, "mapping: none of its processes has an address space now");
    Result<Region> r = s_.region_named(spec.region, v.pids.front());
    if (!r) return fail(r.code(), "mapping: region '" + spec.region + "': " + r.message());
    if (r->len == 0) return fail(Errc::invalid_argument, "mapping: region '" + spec.region + "' is empty");
    v.region_from = page_down(r->start);
    v.region_to = page_up(r->start + r->len);
    v.to = spec.pages && spec.pages < (v.region_to - v.region_from) / kPageSize ? v.region_from + spec.pages * kPageSize : v.region_to;
    return v;
}

Result<double> RunState::lookup(const std::string& name) const {
    if (auto it = params.find(name); it != params.end()) return it->second;
    if (auto it = vars.find(name); it != vars.end()) return it->second;
    if (Result<double> u = unit_value(name); u) return u;
    return fail(Errc::invalid_argument, "unknown name '" + name + "' (not a parameter or a unit)");
}

Result<double> RunState::call(const std::string& fn, const std::vector<ExprArg>& args) const {
    return call_query(this, *this, fn, args);
}

Result<std::string> LessonRun::narrative(int step) const {
    if (step < 0 || step >= int(s_.lesson.steps.size())) return fail(Errc::invalid_argument, "no step " + std::to_string(step));
    Result<std::string> r = render(s_.lesson.steps[size_t(step)].text);
    if (!r) return fail(r.code(), "steps[" + std::to_string(step) + "].text: " + r.message());
    return r;
}

Result<std::string> LessonRun::render(const std::string& t) const {
    std::string out;
    for (size_t i = 0; i < t.size(); ++i) {
        if (t[i] != '{') {
            out += t[i];
            continue;
        }
        size_t close = t.find('}', i);
        if (close == std::string::npos) return fail(Errc::invalid_argument, "'{' without '}'");
        std::string inner = t.substr(i + 1, close - i - 1), unit;
        if (size_t bar = inner.find('|'); bar != std::string::npos) {
            unit = inner.substr(bar + 1);
            inner = inner.substr(0, bar);
        }
        Result<double> v = eval(inner);
        if (!v) return fail(Errc::invalid_argument, v.message());
        out += format_value(*v, unit);
        i = close;
    }
    return out;
}

StepMetrics LessonRun::metrics() const {
    StepMetrics sm = metrics_head();
    for (size_t i = 0; i < s_.names.size(); ++i) sm.procs.push_back(proc_metrics(i));
    for (size_t i = 0; i < shown_count(); ++i) sm.shown.push_back(shown(i));
    return sm;
}

StepMetrics LessonRun::metrics_head() const {
    StepMetrics sm;
    sm.step = s_.next - 1;
    sm.time_ns = s_.m.now_ns();
    sm.meminfo = s_.m.meminfo();
    return sm;
}

ProcMetrics LessonRun::proc_metrics(size_t i) const {
    const auto& [name, pid] = s_.names[i];
    ProcMetrics pm;
    pm.name = name;
    pm.pid = pid;
    const Process* p = s_.m.process(pid);
    pm.state = p ? to_string(p->state) : "?";
    if (Result<MemStats> st = s_.rollup(pid); st) pm.mem = *st;
    if (Result<ProcStatus> st = s_.m.status(pid); st) pm.status = *st;
    if (p) pm.counters = p->counters;
    return pm;
}

size_t LessonRun::shown_count() const {
    return s_.next >= 1 ? s_.lesson.steps[size_t(s_.next - 1)].show.size() : 0;
}

std::pair<std::string, double> LessonRun::shown(size_t i) const {
    const std::string& e = s_.lesson.steps[size_t(s_.next - 1)].show[i];
    Result<double> v = eval(e);
    return {e, v ? *v : std::nan("")};
}

}  // namespace cow
