// player.cpp: stepping through a lesson, predictions, and its state as JSON.
#include "player.h"

#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace cowlab {

using nlohmann::json;

std::vector<LessonInfo> Player::catalogue() {
    std::vector<LessonInfo> out;
    for (const char* const* n = lesson_source_names(); *n; ++n) {
        cow::Result<cow::Lesson> l = cow::parse_lesson(lesson_source(*n), *n);
        if (l) out.push_back({l->id, l->title, l->summary, l->level});
    }
    return out;
}

cow::Status Player::load(const std::string& id, const std::map<std::string, double>& params, int step) {
    for (const char* const* n = lesson_source_names(); *n; ++n) {
        cow::Result<cow::Lesson> l = cow::parse_lesson(lesson_source(*n), std::string("lessons/") + *n);
        if (!l || l->id != id) continue;
        cow::Result<cow::LessonRun> r = cow::LessonRun::start(*l, params);
        if (!r) return r.status();
        if (step < 0 || step >= int(l->steps.size()))
            return cow::fail(cow::Errc::invalid_argument, "lesson " + id + " has steps 1 to " +
                                                              std::to_string(l->steps.size()) + ", not " + std::to_string(step + 1));
        lesson_ = *l;
        params_ = r->params();
        loaded_ = true;
        return go_to(step);
    }
    return cow::fail(cow::Errc::invalid_argument, "no lesson '" + id + "'");
}

cow::Status Player::load_text(const std::string& text, const std::string& name, const std::map<std::string, double>& params) {
    cow::Result<cow::Lesson> l = cow::parse_lesson(text, name);
    if (!l) return l.status();
    cow::Result<cow::LessonRun> r = cow::LessonRun::start(*l, params);
    if (!r) return r.status();
    lesson_ = *l;
    params_ = r->params();
    loaded_ = true;
    return go_to(0);
}

// Replays steps 0 .. step-1, then runs `step` too if run_it.
cow::Status Player::replay(int step, bool run_it) {
    cow::Result<cow::LessonRun> r = cow::LessonRun::start(lesson_, params_);
    if (!r) return r.status();
    run_ = std::move(r.value());
    error_.clear();
    guesses_.clear();
    history_.clear();
    for (int i = 0; i < step + (run_it ? 1 : 0) && error_.empty(); ++i) run_one();
    cur_ = step;
    ran_ = run_it;
    changed();
    return {};
}

void Player::run_one() {
    const int i = run_.next_step();
    if (cow::Status st = run_.step(); !st) error_ = st.message;
    const cow::StepMetrics m = run_.metrics();
    StepPoint pt{i, m.time_ns, m.meminfo.used, m.meminfo.anon_pages, m.meminfo.page_tables, m.meminfo.committed_as, {}};
    for (const cow::ProcMetrics& q : m.procs)
        pt.procs.push_back({q.name, q.pid, q.mem.rss, q.mem.pss(), q.mem.uss(), q.mem.shared(), q.mem.private_dirty,
                            q.counters.min_flt, q.counters.cow_copies});
    history_.push_back(std::move(pt));
}

cow::Status Player::go_to(int step) {
    if (!loaded_) return cow::fail(cow::Errc::invalid_argument, "no lesson is loaded");
    if (step < 0 || step >= int(lesson_.steps.size()))
        return cow::fail(cow::Errc::invalid_argument, "no step " + std::to_string(step + 1));
    // A step that asks nothing runs as soon as it is shown.
    return replay(step, lesson_.steps[size_t(step)].checkpoints.empty());
}

cow::Status Player::next() {
    if (!loaded_) return cow::fail(cow::Errc::invalid_argument, "no lesson is loaded");
    if (!ran_) {
        run_one();
        ran_ = true;
        changed();
        return {};
    }
    if (cur_ + 1 >= int(lesson_.steps.size())) return cow::fail(cow::Errc::invalid_argument, "this is the last step");
    ++cur_;
    ran_ = false;
    guesses_.clear();
    if (lesson_.steps[size_t(cur_)].checkpoints.empty()) {
        run_one();
        ran_ = true;
    }
    changed();
    return {};
}

cow::Status Player::back() {
    if (!loaded_) return cow::fail(cow::Errc::invalid_argument, "no lesson is loaded");
    if (cur_ == 0) return replay(0, lesson_.steps[0].checkpoints.empty());
    return replay(cur_ - 1, true);
}

cow::Status Player::reset() { return go_to(0); }

cow::Status Player::set_param(const std::string& name, double value) {
    if (!loaded_) return cow::fail(cow::Errc::invalid_argument, "no lesson is loaded");
    const cow::LessonParam* p = lesson_.param(name);
    if (!p) return cow::fail(cow::Errc::invalid_argument, "lesson " + lesson_.id + " has no parameter '" + name + "'");
    if (!std::isfinite(value) || value < p->min || value > p->max) {
        char buf[200];
        std::snprintf(buf, sizeof buf, "%s = %g is outside [%g, %g]", name.c_str(), value, p->min, p->max);
        return cow::fail(cow::Errc::invalid_argument, buf);
    }
    params_[name] = value;
    return replay(cur_, ran_);
}

cow::Status Player::answer(int checkpoint, double guess) {
    if (!loaded_) return cow::fail(cow::Errc::invalid_argument, "no lesson is loaded");
    const auto& cps = lesson_.steps[size_t(cur_)].checkpoints;
    if (checkpoint < 0 || checkpoint >= int(cps.size()))
        return cow::fail(cow::Errc::invalid_argument, "step " + std::to_string(cur_ + 1) + " has no checkpoint " + std::to_string(checkpoint + 1));
    if (!std::isfinite(guess)) return cow::fail(cow::Errc::invalid_argument, "the answer is not a number");
    if (ran_) return cow::fail(cow::Errc::invalid_argument, "this step has already run: its answers are shown");
    const cow::Checkpoint& cp = cps[size_t(checkpoint)];
    if (cp.kind == "choice" && (guess < 0 || guess >= double(cp.choices.size()) || guess != std::floor(guess)))
        return cow::fail(cow::Errc::invalid_argument, "choose 1 to " + std::to_string(cp.choices.size()));
    guesses_[checkpoint] = guess;
    changed();
    return {};
}

std::vector<Player::CheckpointView> Player::checkpoints() const {
    std::vector<CheckpointView> out;
    if (!loaded_) return out;
    const auto& cps = lesson_.steps[size_t(cur_)].checkpoints;
    for (size_t i = 0; i < cps.size(); ++i) {
        const cow::Checkpoint& cp = cps[i];
        CheckpointView v;
        cow::Result<std::string> q = run_.render(cp.question);
        v.question = q ? *q : cp.question;
        v.kind = cp.kind;
        v.unit = cp.unit;
        v.choices = cp.choices;
        if (auto g = guesses_.find(int(i)); g != guesses_.end()) {
            v.has_guess = true;
            v.guess = g->second;
        }
        if (ran_) {
            v.revealed = true;
            cow::Result<std::string> e = run_.render(cp.explain);
            v.explain = e ? *e : cp.explain;
            cow::Result<double> a = run_.eval(cp.expect);
            if (!a) {
                v.error = a.message();
            } else {
                v.answer = *a;
                const bool choice_ok = cp.kind == "choice" && *a >= 0 && *a < double(cp.choices.size());
                v.answer_text = choice_ok ? cp.choices[size_t(*a)] : cow::format_value(*a, cp.unit);
                if (v.has_guess) {
                    if (cp.kind == "choice") v.right = v.guess == *a;
                    else v.right = std::fabs(v.guess - *a) <= cp.tolerance * std::fabs(*a) + 1e-9;
                }
            }
        }
        out.push_back(v);
    }
    return out;
}

std::string Player::narrative() const {
    if (!loaded_ || !ran_) return "";
    cow::Result<std::string> t = run_.narrative(cur_);
    return t ? *t : "(" + t.message() + ")";
}

std::string Player::state_json() const {
    if (!loaded_) return json{{"loaded", false}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    json cps = json::array();
    for (const CheckpointView& c : checkpoints()) {
        json j = {{"question", c.question}, {"kind", c.kind}, {"unit", c.unit}, {"choices", c.choices}, {"revealed", c.revealed}};
        if (c.has_guess) j["guess"] = c.guess;
        if (c.revealed) {
            j["answer"] = c.answer;
            j["answer_text"] = c.answer_text;
            j["explain"] = c.explain;
            if (c.has_guess) j["right"] = c.right;
            if (!c.error.empty()) j["error"] = c.error;
        }
        cps.push_back(j);
    }
    json j = {{"loaded", true},
              {"lesson", lesson_.id},
              {"title", lesson_.title},
              {"step", cur_},
              {"steps", lesson_.steps.size()},
              {"step_title", lesson_.steps[size_t(cur_)].title},
              {"ran", ran_},
              {"at_end", at_end()},
              {"narrative", narrative()},
              {"checkpoints", cps},
              {"params", params_},
              {"outcomes", run_.outcomes()}};
    if (!error_.empty()) j["error"] = error_;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

const cow::StepMetrics& Player::metrics() const {
    if (metrics_version_ != version_) {
        metrics_cache_ = run_.metrics();
        metrics_version_ = version_;
    }
    return metrics_cache_;
}

std::string Player::metrics_json() const {
    if (!loaded_) return "{}";
    const cow::StepMetrics& m = metrics();
    json procs = json::array();
    for (const cow::ProcMetrics& p : m.procs)
        procs.push_back({{"name", p.name}, {"pid", p.pid}, {"state", p.state}, {"rss", p.mem.rss}, {"pss", p.mem.pss()},
                         {"uss", p.mem.uss()}, {"shared_clean", p.mem.shared_clean}, {"shared_dirty", p.mem.shared_dirty},
                         {"private_clean", p.mem.private_clean}, {"private_dirty", p.mem.private_dirty},
                         {"anon_huge", p.mem.anon_huge}, {"vm_pte", p.status.vm_pte}, {"min_flt", p.counters.min_flt},
                         {"cow_copies", p.counters.cow_copies}, {"cow_reuses", p.counters.cow_reuses},
                         {"zero_fills", p.counters.zero_fills}});
    json shown = json::object();
    for (const auto& [e, v] : m.shown) shown[e] = std::isfinite(v) ? json(v) : json(nullptr);
    return json{{"step", m.step},
                {"time_ns", m.time_ns},
                {"meminfo", {{"total", m.meminfo.total}, {"used", m.meminfo.used}, {"free", m.meminfo.free},
                             {"anon_pages", m.meminfo.anon_pages}, {"page_tables", m.meminfo.page_tables},
                             {"committed_as", m.meminfo.committed_as}, {"commit_limit", m.meminfo.commit_limit}}},
                {"processes", procs},
                {"show", shown}}
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Player::share_query() const {
    if (!loaded_) return "";
    std::string q = "?lesson=" + lesson_.id + "&step=" + std::to_string(cur_ + 1);
    for (const cow::LessonParam& p : lesson_.params) {
        auto it = params_.find(p.name);
        if (it == params_.end() || it->second == p.def) continue;
        char buf[64];
        std::snprintf(buf, sizeof buf, "%g", it->second);
        q += "&" + p.name + "=" + buf;
    }
    return q;
}

}  // namespace cowlab
