// player.cpp: stepping through a lesson, predictions, and its state as JSON.
#include "player.h"

#include <cmath>
#include <cstdio>

#include "report.h"

namespace cow {

using nlohmann::json;

std::vector<LessonInfo> lesson_infos(const LessonCatalogue& lessons) {
    std::vector<LessonInfo> out;
    for (const LessonSource& src : lessons) {
        Result<Lesson> l = parse_lesson(src.text, src.path);
        if (l) out.push_back({l->id, l->title, l->summary, l->level});
    }
    return out;
}

Status Player::load(const std::string& id, const std::map<std::string, double>& params, int step) {
    for (const LessonSource& src : lessons_) {
        Result<Lesson> l = parse_lesson(src.text, src.path);
        if (!l || l->id != id) continue;
        Result<LessonRun> r = LessonRun::start(*l, params);
        if (!r) return r.status();
        if (step < 0 || step >= int(l->steps.size()))
            return fail(Errc::invalid_argument, "lesson " + id + " has steps 1 to " +
                                                              std::to_string(l->steps.size()) + ", not " + std::to_string(step + 1));
        lesson_ = *l;
        params_ = r->params();
        loaded_ = true;
        return go_to(step);
    }
    return fail(Errc::invalid_argument, "no lesson '" + id + "'");
}

Status Player::load_text(const std::string& text, const std::string& name, const std::map<std::string, double>& params) {
    Result<Lesson> l = parse_lesson(text, name);
    if (!l) return l.status();
    Result<LessonRun> r = LessonRun::start(*l, params);
    if (!r) return r.status();
    lesson_ = *l;
    params_ = r->params();
    loaded_ = true;
    return go_to(0);
}

// Replays steps 0 .. step-1, then runs `step` too if run_it.
Status Player::replay(int step, bool run_it) {
    Result<LessonRun> r = LessonRun::start(lesson_, params_);
    if (!r) return r.status();
    run_ = std::move(r.value());
    error_.clear();
    guesses_.clear();
    history_.clear();
    history_metrics_.clear();
    for (int i = 0; i < step + (run_it ? 1 : 0) && error_.empty(); ++i) run_one();
    cur_ = step;
    ran_ = run_it;
    changed();
    return {};
}

void Player::run_one() {
    const int i = run_.next_step();
    if (Status st = run_.step(); !st) error_ = st.message;
    const StepMetrics m = run_.metrics();
    StepPoint pt{i, m.time_ns, m.meminfo.used, m.meminfo.anon_pages, m.meminfo.page_tables, m.meminfo.committed_as, {}};
    for (const ProcMetrics& q : m.procs)
        pt.procs.push_back({q.name, q.pid, q.mem.rss, q.mem.pss(), q.mem.uss(), q.mem.shared(), q.mem.private_dirty,
                            q.counters.min_flt, q.counters.cow_copies});
    history_.push_back(std::move(pt));
    history_metrics_.push_back(m);
}

Status Player::go_to(int step) {
    if (!loaded_) return fail(Errc::invalid_argument, "no lesson is loaded");
    if (step < 0 || step >= int(lesson_.steps.size()))
        return fail(Errc::invalid_argument, "no step " + std::to_string(step + 1));
    // A step that asks nothing runs as soon as it is shown.
    return replay(step, lesson_.steps[size_t(step)].checkpoints.empty());
}

Status Player::next() {
    if (!loaded_) return fail(Errc::invalid_argument, "no lesson is loaded");
    if (!ran_) {
        run_one();
        ran_ = true;
        changed();
        return {};
    }
    if (cur_ + 1 >= int(lesson_.steps.size())) return fail(Errc::invalid_argument, "this is the last step");
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

Status Player::back() {
    if (!loaded_) return fail(Errc::invalid_argument, "no lesson is loaded");
    if (cur_ == 0) return replay(0, lesson_.steps[0].checkpoints.empty());
    return replay(cur_ - 1, true);
}

Status Player::reset() { return go_to(0); }

Status Player::set_param(const std::string& name, double value) {
    if (!loaded_) return fail(Errc::invalid_argument, "no lesson is loaded");
    const LessonParam* p = lesson_.param(name);
    if (!p) return fail(Errc::invalid_argument, "lesson " + lesson_.id + " has no parameter '" + name + "'");
    if (!std::isfinite(value) || value < p->min || value > p->max) {
        char buf[200];
        std::snprintf(buf, sizeof buf, "%s = %g is outside [%g, %g]", name.c_str(), value, p->min, p->max);
        return fail(Errc::invalid_argument, buf);
    }
    params_[name] = value;
    return replay(cur_, ran_);
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
    guesses_[checkpoint] = guess;
    changed();
    return {};
}

std::vector<Player::CheckpointView> Player::checkpoints() const {
    std::vector<CheckpointView> out;
    if (!loaded_) return out;
    const auto& cps = lesson_.steps[size_t(cur_)].checkpoints;
    for (size_t i = 0; i < cps.size(); ++i) {
        const Checkpoint& cp = cps[i];
        CheckpointView v;
        Result<std::string> q = run_.render(cp.question);
        v.question = q ? *q : cp.question;
        v.kind = cp.kind;
        v.unit = cp.unit;
        v.choices = cp.choices;
        if (auto g = guesses_.find(int(i)); g != guesses_.end()) {
            v.has_guess = true;
            v.guess = g->second;
        }
        if (ran_) {
            const CheckpointResult r = evaluate(run_, cp);
            v.revealed = true;
            v.explain = r.explain;
            v.error = r.error;
            v.answer = r.answer;
            v.answer_text = r.answer_text;
            v.right = r.answered && v.has_guess && grade(cp, v.guess, r.answer);
        }
        out.push_back(v);
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
    json cps = json::array();
    for (const CheckpointView& c : checkpoints()) {
        json j = checkpoint_json(lesson_.steps[size_t(cur_)].checkpoints[cps.size()], c.question);
        j["revealed"] = c.revealed;
        if (c.has_guess) j["guess"] = c.guess;
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
    return j;
}

std::string Player::state_json() const { return dump_json(state()); }

const StepMetrics& Player::metrics() const {
    if (metrics_version_ != version_) {
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
    for (const StepMetrics& m : history_metrics_) out.push_back(cow::metrics_json(m));
    return out;
}

std::string Player::share_query() const {
    if (!loaded_) return "";
    std::string q = "?lesson=" + lesson_.id + "&step=" + std::to_string(cur_ + 1);
    for (const LessonParam& p : lesson_.params) {
        auto it = params_.find(p.name);
        if (it == params_.end() || it->second == p.def) continue;
        char buf[64];
        std::snprintf(buf, sizeof buf, "%g", it->second);
        q += "&" + p.name + "=" + buf;
    }
    return q;
}

}  // namespace cow
