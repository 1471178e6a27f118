// player.cpp: stepping through a lesson, predictions, and its state as JSON.
#include "player.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <utility>

#include "report.h"
#include "units.h"

namespace cow {

using nlohmann::json;

std::vector<LessonInfo> lesson_infos(const LessonCatalogue& lessons) {
    std::vector<LessonInfo> out;
    for (const LessonSource& src : lessons) {
        Result<Lesson> l = parse_lesson(src.text, src.path);
        if (l) out.push_back({l->id, l->title, l->summary, l->level, l->order});
    }
    in_course_order(out);
    return out;
}

void in_course_order(std::vector<LessonInfo>& lessons) {
    auto rank = [](const LessonInfo& l) { return l.order > 0 ? l.order : std::numeric_limits<int>::max(); };
    std::stable_sort(lessons.begin(), lessons.end(), [&](const LessonInfo& a, const LessonInfo& b) {
        return rank(a) != rank(b) ? rank(a) < rank(b) : a.id < b.id;
    });
}

namespace {

// The catalogue's lesson with this id: its own file first ("lessons/<id>.json"),
// so that opening one lesson parses one; then any file whose lesson has the id.
Result<Lesson> find_lesson(const LessonCatalogue& lessons, const std::string& id) {
    const std::string file = "/" + id + ".json";
    for (const LessonSource& src : lessons)
        if (src.path.size() >= file.size() && src.path.compare(src.path.size() - file.size(), file.size(), file) == 0)
            if (Result<Lesson> l = parse_lesson(src.text, src.path); l && l->id == id) return l;
    for (const LessonSource& src : lessons)
        if (Result<Lesson> l = parse_lesson(src.text, src.path); l && l->id == id) return l;
    return fail(Errc::invalid_argument, "no lesson '" + id + "'");
}

}  // namespace

Status Player::load(const std::string& id, const std::map<std::string, double>& params, int step) {
    Result<Lesson> l = find_lesson(lessons_, id);
    if (!l) return l.status();
    if (step < 0 || step >= int(l->steps.size()))
        return fail(Errc::invalid_argument, "lesson " + id + " has steps 1 to " + std::to_string(l->steps.size()) +
                                                ", not " + std::to_string(step + 1));
    return load_lesson(*l, params, step);
}

Status Player::load_text(const std::string& text, const std::string& name, const std::map<std::string, double>& params) {
    Result<Lesson> l = parse_lesson(text, name);
    if (!l) return l.status();
    return load_lesson(*l, params, 0);
}

// Whether the machine these parameters describe can be made within the memory limit.
Status Player::check_memory(const Lesson& l, const std::map<std::string, double>& params) const {
    if (!memory_limit_) return {};
    std::map<std::string, double> all = params;
    for (const LessonParam& p : l.params) all.emplace(p.name, p.def);
    Result<MachineConfig> cfg = l.machine_config(all);
    if (!cfg) return {};   // LessonRun::start says what is wrong
    const u64 need = Machine::host_bytes_at_create(*cfg);
    if (need <= memory_limit_) return {};
    return fail(Errc::limit, l.id + ": a machine of " + format_bytes(cfg->ram_bytes) + " of RAM takes " + format_bytes(need) +
                                 " to simulate, more than the " + format_bytes(memory_limit_) +
                                 " the lab may use here; choose less RAM");
}

// What the snapshots add to the run's host memory: a snapshot shares with the
// run (and with the other snapshots) every chunk of its tables neither has
// written since, and that memory is counted once.
u64 Player::snapshots_bytes() const {
    if (snaps_.empty()) return 0;
    std::vector<const Machine*> ms{&run_.machine()};
    for (const auto& [k, sp] : snaps_) ms.push_back(&sp->run.machine());
    return Machine::host_bytes_together(ms) + snaps_.size() * sizeof(LessonRun) - run_.machine().host_bytes();
}

bool Player::over_memory() {
    if (!memory_limit_) return false;
    const u64 run = run_.machine().host_bytes();
    if (run + snapshots_bytes() <= memory_limit_) return false;
    snaps_.clear();   // snapshots are a cache: they go first
    return run > memory_limit_;
}

// A new lesson: nothing of the old one is kept, pending work included.
Status Player::load_lesson(const Lesson& l, const std::map<std::string, double>& params, int step) {
    if (Status st = check_memory(l, params); !st) return st;
    Result<LessonRun> r = LessonRun::start(l, params);
    if (!r) return r.status();
    job_ = {};
    meas_ = {};
    snaps_.clear();
    metrics_version_ = -1;
    lesson_ = l;
    params_ = r->params();
    run_ = std::move(r.value());
    run_.set_work_limit(work_limit_);
    run_stale_ = false;
    error_.clear();
    history_.clear();
    known_.clear();
    guesses_.clear();
    loaded_ = true;
    cur_ = 0;
    ran_ = false;
    return go_to(step);
}

Player::SnapshotPtr Player::snapshot_now() const {
    if (!run_.in_step() && !run_stale_)
        if (auto it = snaps_.find(run_.next_step()); it != snaps_.end()) return it->second;
    auto s = std::make_shared<Snapshot>(Snapshot{run_, error_, run_.machine().host_bytes() + sizeof(LessonRun)});
    return s;
}

Player::Shown Player::shown_now() {
    Shown s{params_, cur_, ran_, nullptr, history_};
    if (sliced_) s.snap = snapshot_now();
    return s;
}

// Shows `step`, run or not: runs on from the run as it is when that is on the
// way, else from the nearest snapshot at or before it.
Status Player::replay(int step, bool run_it) {
    Shown before = shown_now();
    prepare(step + (run_it ? 1 : 0));
    return start_job(step, run_it, std::move(before));
}

// Makes run_ a run of at most k steps that running on reaches k from.
void Player::prepare(int k) {
    const int now = run_.next_step();
    auto best = snaps_.upper_bound(k);
    const int best_k = best == snaps_.begin() ? -1 : std::prev(best)->first;
    if (run_stale_ || run_.in_step() || now > k || best_k > now) restore(k);
}

void Player::restore(int k) {
    auto it = snaps_.upper_bound(k);
    if (it != snaps_.begin()) {
        const Snapshot& s = *std::prev(it)->second;
        run_ = s.run;
        error_ = s.error;
        ++restores_;
    } else {
        Result<LessonRun> r = LessonRun::start(lesson_, params_);   // params_ were checked when set
        run_ = r ? std::move(r.value()) : LessonRun{};
        run_.set_work_limit(work_limit_);
        error_ = r ? "" : r.message();
    }
    for (const auto& [name, v] : params_) run_.rebind_param(name, v);
    run_stale_ = false;
    const size_t n = size_t(run_.next_step());
    history_.assign(known_.begin(), known_.begin() + long(std::min(n, known_.size())));
}

Status Player::start_job(int step, bool run_it, Shown before, int keep_through) {
    refused_ = {};
    job_.active = true;
    job_.from = run_.next_step();
    job_.target = step + (run_it ? 1 : 0);
    job_.cur = step;
    job_.ran = run_it;
    job_.before = std::move(before);
    job_.keep_through = keep_through;
    job_.began = std::chrono::steady_clock::now();
    cur_ = step;
    ran_ = false;
    changed();
    if (sliced_) return {};
    finish();
    return std::exchange(refused_, Status{});
}

void Player::work(const Budget& budget) {
    if (!job_.active) return;
    for (;;) {
        if (meas_.active) {
            if (!measure(budget)) return changed();
            meas_.active = false;
            step_done(meas_.m);
            meas_ = {};
            if (budget.spent() && run_.next_step() < job_.target && error_.empty()) return changed();
        }
        if (run_.next_step() >= job_.target || !error_.empty()) break;
        if (!run_.in_step())
            if (Status st = run_.begin_step(); !st) {
                error_ = st.message;
                break;
            }
        Result<bool> r = run_.advance(budget);
        if (!r && r.code() == Errc::over_budget) {   // refused before it ran: put back what was shown
            refused_ = r.status();
            const std::string changed_param = param_changes(job_.before.params);
            cancel();
            // For the learner: what was not applied, and why (the message without its place in the file).
            const std::string& m = refused_.message;
            const size_t at = m.find("): ");
            notice_ = changed_param.empty() ? m : changed_param + " was not applied: " + (at == std::string::npos ? m : m.substr(at + 3));
            return;
        }
        if (!r) error_ = r.message();
        if (over_memory()) {
            const int at = run_.next_step() + (run_.in_step() ? 1 : 0);
            cancel();
            notice_ = lesson_.id + ": step " + std::to_string(at) + " was stopped: its machine grew past the " +
                      format_bytes(memory_limit_) + " of memory the lab may use here; choose smaller parameters";
            return;
        }
        if (!r || *r) meas_ = Measuring{true, run_.metrics_head(), 0, 0};
        else return changed();   // the machine moved on: the lab draws it
    }
    job_.active = false;
    cur_ = job_.cur;
    ran_ = job_.ran;
    job_.before = {};
    changed();
    // The figures just taken after the last step are the run's as it is now.
    if (!history_.empty() && run_.next_step() == int(history_.size()) && run_.next_step() > job_.from) {
        metrics_cache_ = history_.back().metrics;
        metrics_version_ = version_;
    }
}

// The pages of a process's walk between two looks at the budget.
constexpr u64 kMeasurePages = 65536;

bool Player::measure(const Budget& budget) {
    const size_t procs = run_.named_processes().size(), shown = run_.shown_count();
    while (meas_.procs < procs || meas_.shown < shown) {
        if (meas_.procs < procs) {
            const Pid pid = run_.named_processes()[meas_.procs].second;
            if (!meas_.rollup) {
                Result<RollupJob> j = run_.machine().rollup_begin(pid);
                meas_.rollup = j ? std::move(*j) : RollupJob{.pid = kNoPid, .done = true};   // proc_metrics says why
            }
            while (!meas_.rollup->done) {
                run_.machine().rollup_step(*meas_.rollup, kMeasurePages);
                if (!meas_.rollup->done && budget.spent()) return false;
            }
            if (meas_.rollup->pid != kNoPid) run_.remember_rollup(pid, meas_.rollup->s);
            meas_.rollup.reset();
            meas_.m.procs.push_back(run_.proc_metrics(meas_.procs++));
        } else {
            meas_.m.shown.push_back(run_.shown(meas_.shown++));
        }
        if (budget.spent() && (meas_.procs < procs || meas_.shown < shown)) return false;
    }
    return true;
}

void Player::step_done(const StepMetrics& m) {
    ++steps_run_;
    StepRecord rec{m, {}};
    if (m.step >= 0 && m.step < int(lesson_.steps.size()))
        for (const Checkpoint& cp : lesson_.steps[size_t(m.step)].checkpoints) rec.answers.push_back(evaluate(run_, cp));
    history_.push_back(std::move(rec));
    // What is known beyond this step stays: with the same parameters every run repeats it.
    if (known_.size() < history_.size()) known_ = history_;
    keep_snapshot();
}

// Keeps the run as it is now, then evicts the snapshots farthest from the
// step being shown until they fit the budget.
void Player::keep_snapshot() {
    const u64 bytes = run_.machine().host_bytes() + sizeof(LessonRun);
    if (bytes > snapshot_budget_) return;
    const int k = run_.next_step();
    snaps_[k] = std::make_shared<Snapshot>(Snapshot{run_, error_, bytes});
    while (snapshots_bytes() > snapshot_budget_) {
        auto far = snaps_.end();
        for (auto it = snaps_.begin(); it != snaps_.end(); ++it)
            if (it->first != k && (far == snaps_.end() || std::abs(it->first - job_.cur) > std::abs(far->first - job_.cur)))
                far = it;
        if (far == snaps_.end()) break;
        snaps_.erase(far);
    }
}

void Player::drop_after(int keep_through) {
    snaps_.erase(snaps_.upper_bound(keep_through), snaps_.end());
    const size_t n = size_t(std::max(0, keep_through));
    if (known_.size() > n) known_.resize(n);
    if (run_.next_step() > keep_through) run_stale_ = true;
}

void Player::cancel() {
    if (!job_.active) return;
    meas_ = {};
    Shown b = std::move(job_.before);
    const int keep = job_.keep_through;
    job_ = {};
    if (b.params != params_) drop_after(keep);   // what ran with the new values
    params_ = b.params;
    cur_ = b.cur;
    ran_ = b.ran;
    if (b.snap) {
        run_ = b.snap->run;
        error_ = b.snap->error;
        for (const auto& [name, v] : params_) run_.rebind_param(name, v);
        run_stale_ = false;
    } else {   // not sliced: nothing was kept, so it is run again
        const int k = b.cur + (b.ran ? 1 : 0);
        restore(k);
        while (run_.next_step() < k && error_.empty()) {
            if (Status st = run_.step(); !st) error_ = st.message;
            step_done(run_.metrics());
        }
    }
    history_ = b.history;
    if (known_.size() < history_.size()) known_ = history_;   // (the longer of two prefixes of one sequence)
    changed();
}

// The parameters that differ from `before`, as the lab shows them: "value size = 4 KiB".
std::string Player::param_changes(const std::map<std::string, double>& before) const {
    std::string out;
    for (const LessonParam& p : lesson_.params) {
        auto now = params_.find(p.name), was = before.find(p.name);
        if (now == params_.end() || was == before.end() || now->second == was->second) continue;
        out += (out.empty() ? "" : ", ") + p.label + " = " + format_param(p, now->second);
    }
    return out;
}

Player::Progress Player::progress() const {
    Progress p;
    if (!job_.active) return p;
    p.steps_total = job_.target - job_.from;
    p.steps_done = run_.next_step() - job_.from;
    const StepProgress sp = run_.progress();
    p.step = sp.step;
    double in_step = 0;
    if (sp.step >= 0 && sp.ops > 0) in_step = (double(sp.op) + sp.op_fraction) / double(sp.ops);
    if (p.steps_total > 0) p.fraction = std::min(1.0, (double(p.steps_done) + in_step) / double(p.steps_total));
    p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - job_.began).count();
    return p;
}

Player::SnapshotStats Player::snapshot_stats() const {
    SnapshotStats s;
    s.count = int(snaps_.size());
    s.bytes = snapshots_bytes();
    s.restores = restores_;
    s.steps_run = steps_run_;
    return s;
}

Status Player::go_to(int step) {
    if (!loaded_) return fail(Errc::invalid_argument, "no lesson is loaded");
    if (job_.active) finish();
    if (step < 0 || step >= int(lesson_.steps.size()))
        return fail(Errc::invalid_argument, "no step " + std::to_string(step + 1));
    // A step that asks nothing runs as soon as it is shown.
    return replay(step, lesson_.steps[size_t(step)].checkpoints.empty());
}

Status Player::next() {
    if (!loaded_) return fail(Errc::invalid_argument, "no lesson is loaded");
    if (job_.active) finish();
    if (!ran_) {
        Shown before = shown_now();
        return start_job(cur_, true, std::move(before));
    }
    if (cur_ + 1 >= int(lesson_.steps.size())) return fail(Errc::invalid_argument, "this is the last step");
    Shown before = shown_now();
    return start_job(cur_ + 1, lesson_.steps[size_t(cur_ + 1)].checkpoints.empty(), std::move(before));
}

Status Player::back() {
    if (!loaded_) return fail(Errc::invalid_argument, "no lesson is loaded");
    if (job_.active) finish();
    if (cur_ == 0) return replay(0, lesson_.steps[0].checkpoints.empty());
    return replay(cur_ - 1, true);
}

Status Player::reset() { return go_to(0); }

Status Player::set_param(const std::string& name, double value) {
    if (!loaded_) return fail(Errc::invalid_argument, "no lesson is loaded");
    if (job_.active) finish();
    const LessonParam* p = lesson_.param(name);
    if (!p) return fail(Errc::invalid_argument, "lesson " + lesson_.id + " has no parameter '" + name + "'");
    if (std::string why = param_out_of_range(*p, value); !why.empty()) return fail(Errc::invalid_argument, why);
    std::map<std::string, double> next = params_;
    next[name] = value;
    if (Result<MachineConfig> mc = lesson_.machine_config(next); !mc) return fail(mc.code(), lesson_.file + ": " + mc.message());
    if (Status st = check_memory(lesson_, next); !st) return st;
    Shown before = shown_now();
    // Snapshots after at most d steps have not read it (d = -1: the machine does).
    const int keep = first_step_reading(lesson_, name);
    params_ = next;
    drop_after(keep);
    if (!run_stale_) run_.rebind_param(name, value);
    prepare(cur_ + (ran_ ? 1 : 0));
    return start_job(cur_, ran_, std::move(before), keep);
}

Status Player::answer(int checkpoint, double guess) {
    if (!loaded_) return fail(Errc::invalid_argument, "no lesson is loaded");
    const auto& cps = lesson_.steps[size_t(cur_)].checkpoints;
    if (checkpoint < 0 || checkpoint >= int(cps.size()))
        return fail(Errc::invalid_argument, "step " + std::to_string(cur_ + 1) + " has no checkpoint " + std::to_string(checkpoint + 1));
    if (!std::isfinite(guess)) return fail(Errc::invalid_argument, "the answer is not a number");
    if (ran_) return fail(Errc::invalid_argument, "this step has already run: its answers are shown");
    const Checkpoint& cp = cps[size_t(checkpoint)];
    if (cp.kind == "choice" && (guess < 0 || guess >= double(cp.choices.size()) || guess != std::floor(guess)))
        return fail(Errc::invalid_argument, "choose 1 to " + std::to_string(cp.choices.size()));
    guesses_[{cur_, checkpoint}] = Guess{guess, params_};
    changed();
    return {};
}

Status Player::withdraw(int checkpoint) {
    if (!loaded_) return fail(Errc::invalid_argument, "no lesson is loaded");
    if (ran_) return fail(Errc::invalid_argument, "this step has already run: its answers are shown");
    if (guesses_.erase({cur_, checkpoint})) changed();
    return {};
}

// A checkpoint as the lab shows it: its guess, and the engine's answer when `revealed` is given.
Player::CheckpointView Player::view_of(int step, int i, const CheckpointResult* revealed) const {
    const Checkpoint& cp = lesson_.steps[size_t(step)].checkpoints[size_t(i)];
    CheckpointView v;
    v.kind = cp.kind;
    v.unit = cp.unit;
    v.choices = cp.choices;
    if (auto g = guesses_.find({step, i}); g != guesses_.end()) {
        v.has_guess = true;
        v.guess = g->second.value;
        const bool is_choice = cp.kind == "choice" && v.guess >= 0 && v.guess < double(cp.choices.size());
        v.guess_text = is_choice ? cp.choices[size_t(v.guess)] : format_value(v.guess, cp.unit);
        for (const LessonParam& p : lesson_.params) {
            auto then = g->second.params.find(p.name), now = params_.find(p.name);
            if (then == g->second.params.end() || now == params_.end() || then->second == now->second) continue;
            if (!answer_reads(lesson_, step, cp, p.name)) continue;
            v.for_other_values = true;
            v.guess_params += (v.guess_params.empty() ? "" : ", ") + p.label + " = " + format_param(p, then->second);
        }
    }
    if (revealed) {
        v.question = revealed->question;
        v.revealed = true;
        v.explain = revealed->explain;
        v.error = revealed->error;
        v.answer = revealed->answer;
        v.answer_text = revealed->answer_text;
        v.right = revealed->answered && v.has_guess && !v.for_other_values && grade(cp, v.guess, revealed->answer);
    } else {
        Result<std::string> q = run_.render(cp.question);
        v.question = q ? *q : cp.question;
    }
    return v;
}

std::vector<Player::CheckpointView> Player::checkpoints() const {
    std::vector<CheckpointView> out;
    if (!loaded_) return out;
    const size_t n = lesson_.steps[size_t(cur_)].checkpoints.size();
    // Revealed: the answers taken when the step ended (the run is still as it left it).
    const StepRecord* rec = ran_ && size_t(cur_) < history_.size() ? &history_[size_t(cur_)] : nullptr;
    std::optional<CheckpointResult> fresh;
    for (size_t i = 0; i < n; ++i) {
        const CheckpointResult* r = nullptr;
        if (rec && i < rec->answers.size()) r = &rec->answers[i];
        else if (ran_) r = &fresh.emplace(evaluate(run_, lesson_.steps[size_t(cur_)].checkpoints[i]));
        out.push_back(view_of(cur_, int(i), r));
    }
    return out;
}

bool Player::Asked::covers(const std::string& query, const std::string& proc) const {
    if (query != fn) return false;
    if (process.empty()) return proc.empty();
    return prefix ? proc.compare(0, process.size(), process) == 0 : proc == process;
}

const std::vector<Player::Asked>& Player::asked() const {
    std::vector<Asked>& out = asked_cache_;
    if (asked_version_ == version_) return out;
    asked_version_ = version_;
    out.clear();
    if (!loaded_ || ran_) return out;
    for (const Checkpoint& cp : lesson_.steps[size_t(cur_)].checkpoints)
        for (const ExprCall& c : calls_in(cp.expect)) {
            const bool total = c.fn == "total" && !c.args.empty() && c.args[0].is_name;
            const std::string fn = total ? c.args[0].name : c.fn == "used_delta" ? "used" : c.fn;
            const size_t who = total ? 1 : 0;   // total(fn, prefix, ...): the processes named prefix...
            const std::string proc = who < c.args.size() && c.args[who].is_name ? c.args[who].name : "";
            out.push_back({fn, proc, total});
        }
    return out;
}

bool Player::hides(const std::string& query, const std::string& proc) const {
    for (const Asked& a : asked())
        if (a.covers(query, proc)) return true;
    return false;
}

Player::Recap Player::recap() const {
    Recap out;
    if (!loaded_) return out;
    for (size_t s = 0; s < lesson_.steps.size(); ++s) {
        const size_t n = lesson_.steps[s].checkpoints.size();
        // A step is revealed once it has run: the current one when shown as run, every one before it.
        const bool run = s < size_t(cur_) || (s == size_t(cur_) && ran_);
        const StepRecord* rec = run && s < history_.size() ? &history_[s] : nullptr;
        for (size_t i = 0; i < n; ++i) {
            RecapItem it{int(s), int(i), view_of(int(s), int(i), rec && i < rec->answers.size() ? &rec->answers[i] : nullptr)};
            ++out.asked;
            out.guessed += it.view.has_guess && !it.view.for_other_values;
            out.revealed += it.view.revealed;
            out.right += it.view.right;
            out.items.push_back(std::move(it));
        }
    }
    return out;
}

std::string Player::narrative() const {
    if (!loaded_ || !ran_) return "";
    Result<std::string> t = run_.narrative(cur_);
    return t ? *t : "(" + t.message() + ")";
}

json Player::state() const {
    if (!loaded_) return json{{"loaded", false}};
    auto view_json = [&](int step, int i, const CheckpointView& c) {
        json j = checkpoint_json(lesson_.steps[size_t(step)].checkpoints[size_t(i)], c.question);
        j["revealed"] = c.revealed;
        if (c.has_guess) {
            j["guess"] = c.guess;
            j["guess_text"] = c.guess_text;
            if (c.for_other_values) j["guess_for_other_values"] = c.guess_params;
        }
        if (c.revealed) {
            CheckpointResult r;
            r.explain = c.explain;
            r.answered = c.error.empty();
            r.answer = c.answer;
            r.answer_text = c.answer_text;
            r.error = c.error;
            add_answer_json(j, r);
            if (c.has_guess) j["right"] = c.right;
        }
        return j;
    };
    json cps = json::array();
    for (const CheckpointView& c : checkpoints()) cps.push_back(view_json(cur_, int(cps.size()), c));
    const Recap rc = recap();
    json items = json::array();
    for (const RecapItem& it : rc.items) {
        json j = view_json(it.step, it.checkpoint, it.view);
        j["step"] = it.step;
        j["checkpoint"] = it.checkpoint;
        items.push_back(j);
    }
    json asked = json::array();
    for (const Asked& a : this->asked()) asked.push_back({{"fn", a.fn}, {"process", a.process}, {"prefix", a.prefix}});
    json j = {{"loaded", true},
              {"lesson", lesson_.id},
              {"title", lesson_.title},
              {"step", cur_},
              {"steps", lesson_.steps.size()},
              {"step_title", lesson_.steps[size_t(cur_)].title},
              {"setup", lesson_.steps[size_t(cur_)].setup},
              {"ran", ran_},
              {"busy", busy()},
              {"at_end", at_end()},
              {"narrative", narrative()},
              {"checkpoints", cps},
              {"asked", asked},
              {"recap", {{"asked", rc.asked}, {"guessed", rc.guessed}, {"revealed", rc.revealed}, {"right", rc.right}, {"items", items}}},
              {"params", params_},
              {"outcomes", run_.outcomes()}};
    if (!error_.empty()) j["error"] = error_;
    return j;
}

std::string Player::state_json() const { return dump_json(state()); }

const StepMetrics& Player::metrics() const {
    // While the work runs, the figures of before it (a table of many processes
    // costs a walk of each one's page tables: not once per slice).
    if (metrics_version_ != version_ && !(busy() && metrics_version_ >= 0)) {
        metrics_cache_ = run_.metrics();
        metrics_version_ = version_;
    }
    return metrics_cache_;
}

std::string Player::metrics_json() const {
    if (!loaded_) return "{}";
    return dump_json(cow::metrics_json(metrics()));
}

json Player::history_json() const {
    json out = json::array();
    for (const StepRecord& r : history_) out.push_back(cow::metrics_json(r.metrics));
    return out;
}

std::string Player::share_query() const {
    if (!loaded_) return "";
    std::string q = "?lesson=" + lesson_.id + "&step=" + std::to_string(cur_ + 1);
    for (const LessonParam& p : lesson_.params) {
        auto it = params_.find(p.name);
        if (it == params_.end() || it->second == p.def) continue;
        // The shortest digits that read back as the same number, never an exponent
        // ("1000000", not "1e+06", whose "+" a URL reads as a space).
        char buf[400];
        for (int digits = 0; digits <= 40; ++digits) {
            std::snprintf(buf, sizeof buf, "%.*f", digits, it->second);
            if (std::strtod(buf, nullptr) == it->second) break;
        }
        q += "&" + p.name + "=" + buf;
    }
    return q;
}

}  // namespace cow
