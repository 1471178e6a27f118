// report.cpp: metrics JSON, checkpoint evaluation and grading.
#include "report.h"

#include <cmath>
#include <cstdio>

namespace cow {

using nlohmann::json;

CheckpointResult evaluate(const LessonRun& run, const Checkpoint& cp) {
    CheckpointResult r;
    Result<std::string> q = run.render(cp.question), e = run.render(cp.explain);
    r.question = q ? *q : cp.question;
    r.explain = e ? *e : cp.explain;
    for (const Result<std::string>* t : {&q, &e})
        if (!*t) r.problems.push_back(run.lesson().file + ": " + cp.where + ": " + t->message());
    Result<double> v = run.eval(cp.expect);
    if (!v) {
        r.error = v.message();
        r.problems.push_back(run.lesson().file + ": " + cp.where + ".expect: " + v.message());
        return r;
    }
    r.answered = true;
    r.answer = *v;
    const bool is_choice = cp.kind == "choice" && *v >= 0 && *v < double(cp.choices.size());
    r.answer_text = is_choice ? cp.choices[size_t(*v)] : format_value(*v, cp.unit);
    for (const std::string& p : check_golden(cp, *v)) r.problems.push_back(run.lesson().file + ": " + cp.where + p);
    return r;
}

bool grade(const Checkpoint& cp, double guess, double answer) {
    if (cp.kind == "choice") return guess == answer;
    return std::fabs(guess - answer) <= cp.tolerance * std::fabs(answer) + 1e-9;
}

std::vector<std::string> check_golden(const Checkpoint& cp, double v) {
    std::vector<std::string> out;
    if (cp.kind == "choice" && !(v >= 0 && v < double(cp.choices.size()) && v == std::floor(v)))
        out.push_back(": expect gives " + format_value(v, "") + ", not the index of a choice");
    if (cp.has_golden && std::fabs(v - cp.golden) > 1e-9 * std::max(1.0, std::fabs(cp.golden))) {
        char buf[256];
        std::snprintf(buf, sizeof buf, ": golden value %.17g, the engine now says %.17g", cp.golden, v);
        out.push_back(buf);
    }
    return out;
}

json process_json(const ProcMetrics& p) {
    const MemStats& s = p.mem;
    return {{"name", p.name}, {"pid", p.pid.v}, {"state", p.state},
            {"rss", s.rss}, {"pss", s.pss()}, {"pss_dirty", s.pss_dirty()}, {"uss", s.uss()}, {"shared", s.shared()},
            {"shared_clean", s.shared_clean}, {"shared_dirty", s.shared_dirty},
            {"private_clean", s.private_clean}, {"private_dirty", s.private_dirty},
            {"anonymous", s.anonymous}, {"anon_huge", s.anon_huge}, {"referenced", s.referenced},
            {"vm_rss", p.status.vm_rss}, {"vm_pte", p.status.vm_pte},
            {"min_flt", p.counters.min_flt}, {"cow_copies", p.counters.cow_copies},
            {"cow_reuses", p.counters.cow_reuses}, {"zero_fills", p.counters.zero_fills}};
}

json metrics_json(const StepMetrics& m) {
    json procs = json::array();
    for (const ProcMetrics& p : m.procs) procs.push_back(process_json(p));
    json shown = json::object();
    for (const auto& [e, v] : m.shown) shown[e] = std::isfinite(v) ? json(v) : json(nullptr);
    const MemInfo& mi = m.meminfo;
    return {{"step", m.step},
            {"time_ns", m.time_ns},
            {"meminfo", {{"total", mi.total}, {"used", mi.used}, {"free", mi.free}, {"anon_pages", mi.anon_pages},
                         {"page_tables", mi.page_tables}, {"committed_as", mi.committed_as}, {"commit_limit", mi.commit_limit}}},
            {"processes", procs},
            {"show", shown}};
}

json checkpoint_json(const Checkpoint& cp, const std::string& question) {
    return {{"question", question}, {"kind", cp.kind}, {"unit", cp.unit}, {"choices", cp.choices}};
}

void add_answer_json(json& j, const CheckpointResult& r) {
    j["explain"] = r.explain;
    if (!r.answered) {
        j["error"] = r.error;
        return;
    }
    j["answer"] = r.answer;
    j["answer_text"] = r.answer_text;
}

std::string dump_json(const json& j, int indent) { return j.dump(indent, ' ', false, json::error_handler_t::replace); }

}  // namespace cow
