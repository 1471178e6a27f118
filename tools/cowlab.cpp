// cowlab: the command-line side of the lab.
//
//   cowlab lesson run FILE [--param NAME=VALUE]... [--json]
//       runs a lesson headless and prints each step's metrics
//   cowlab lesson check FILE...
//       validates lesson files, runs each to the end at its default
//       parameters and checks every checkpoint's golden value
//   cowlab lesson docs README
//       rewrites the README's tables of operations, functions and units
//       from the engine's tables (engine/lesson/docs.h)
//   cowlab live [-p PID]... [--tree PID] [--name NAME] [--interval MS] [--count N] [--json|--csv]
//       samples real processes' memory from /proc (host/proc/)
//   cowlab experiment fork|redis-bgsave|python-gc ... [--json] [--record FILE]
//       real experiments measured beside the engine's prediction (host/experiments/)
//   cowlab calibrate [--json] [--quick]
//       measures the cost model's constants on this machine (host/calibrate/)
//   cowlab version
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "docs.h"
#include "engine.h"
#include "report.h"
#include "calibrate.h"
#include "experiment.h"
#include "live.h"

using namespace cow;
using nlohmann::json;

namespace {

int usage() {
    std::fprintf(stderr,
                 "usage: cowlab lesson run FILE [--param NAME=VALUE]... [--json]\n"
                 "       cowlab lesson check FILE...\n"
                 "       cowlab lesson docs README\n"
                 "       cowlab live [-p PID]... [--tree PID] [--name NAME] [--interval MS] [--count N] [--json|--csv]\n"
                 "       cowlab experiment fork|redis-bgsave|python-gc ... [--json] [--record FILE]\n"
                 "       cowlab calibrate [--json] [--quick]\n"
                 "       cowlab version\n");
    return 2;
}

Result<Lesson> load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return fail(Errc::invalid_argument, path + ": cannot be read");
    std::ostringstream ss;
    ss << in.rdbuf();
    return parse_lesson(ss.str(), path);
}

// The checkpoints of a step, evaluated after its operations ran and checked
// against their golden values (engine/lesson/report.h).
json checkpoints_json(const LessonRun& run, int step, bool* ok, std::string* problems) {
    json out = json::array();
    for (const Checkpoint& cp : run.lesson().steps[size_t(step)].checkpoints) {
        const CheckpointResult r = evaluate(run, cp);
        for (const std::string& p : r.problems) *problems += p + "\n";
        if (!r.problems.empty()) *ok = false;
        json c = checkpoint_json(cp, r.question);
        add_answer_json(c, r);
        if (r.answered && cp.has_golden) c["golden"] = cp.golden;
        out.push_back(c);
    }
    return out;
}

std::string cell(const std::string& s, size_t w) { return s.size() >= w ? s + " " : s + std::string(w - s.size(), ' '); }

int run_lesson(const std::string& path, const std::map<std::string, double>& params, bool as_json) {
    Result<Lesson> lesson = load(path);
    if (!lesson) {
        std::fprintf(stderr, "%s\n", lesson.message().c_str());
        return 1;
    }
    Result<LessonRun> started = LessonRun::start(*lesson, params);
    if (!started) {
        std::fprintf(stderr, "%s\n", started.message().c_str());
        return 1;
    }
    LessonRun& run = started.value();
    json out = {{"lesson", lesson->id}, {"title", lesson->title}, {"params", run.params()}, {"steps", json::array()}};
    if (!as_json) std::printf("%s\n%s\n", lesson->title.c_str(), std::string(lesson->title.size(), '=').c_str());
    bool ok = true;
    std::string problems;
    while (!run.done()) {
        const int i = run.next_step();
        if (Status st = run.step(); !st) {
            std::fprintf(stderr, "%s\n", st.message.c_str());
            return 1;
        }
        Result<std::string> text = run.narrative(i);
        if (!text) {
            std::fprintf(stderr, "%s: %s\n", path.c_str(), text.message().c_str());
            return 1;
        }
        const StepMetrics m = run.metrics();
        json cps = checkpoints_json(run, i, &ok, &problems);
        if (as_json) {
            json st = metrics_json(m);
            st["title"] = lesson->steps[size_t(i)].title;
            st["narrative"] = *text;
            st["checkpoints"] = cps;
            st["outcomes"] = run.outcomes();
            out["steps"].push_back(st);
            bool bgsave = false;
            for (const LessonOp& op : lesson->steps[size_t(i)].ops) bgsave |= op.op == "redis_bgsave";
            if (bgsave) {
                json series = json::array();
                for (const BgsaveSample& s : run.bgsave_series())
                    series.push_back({{"t_s", s.t_s}, {"writes", s.writes}, {"child_private_dirty", s.child_private_dirty},
                                      {"parent_rss", s.parent_rss}, {"used", s.used}});
                out["steps"].back()["bgsave_series"] = series;
            }
            continue;
        }
        std::printf("\n-- step %d/%zu: %s\n%s\n", i + 1, lesson->steps.size(), lesson->steps[size_t(i)].title.c_str(), text->c_str());
        for (size_t k = 0; k < cps.size(); ++k) {
            const json& c = cps[k];
            std::printf("  ? %s\n    -> %s\n", c["question"].get<std::string>().c_str(),
                        c.contains("answer_text") ? c["answer_text"].get<std::string>().c_str() : c["error"].get<std::string>().c_str());
        }
        for (const std::string& o : run.outcomes()) std::printf("  ! %s\n", o.c_str());
        std::printf("  %s%s%s%s%s%s%s%s%s\n", cell("process", 10).c_str(), cell("pid", 6).c_str(), cell("state", 11).c_str(),
                    cell("Rss", 11).c_str(), cell("Pss", 11).c_str(), cell("USS", 11).c_str(), cell("Shared", 11).c_str(),
                    cell("Priv_Dirty", 11).c_str(), "minflt/COW");
        for (const ProcMetrics& p : m.procs)
            std::printf("  %s%s%s%s%s%s%s%s%llu/%llu\n", cell(p.name, 10).c_str(), cell(std::to_string(p.pid.v), 6).c_str(),
                        cell(p.state, 11).c_str(), cell(format_bytes(p.mem.rss), 11).c_str(),
                        cell(format_bytes(p.mem.pss()), 11).c_str(), cell(format_bytes(p.mem.uss()), 11).c_str(),
                        cell(format_bytes(p.mem.shared()), 11).c_str(), cell(format_bytes(p.mem.private_dirty), 11).c_str(),
                        static_cast<unsigned long long>(p.counters.min_flt), static_cast<unsigned long long>(p.counters.cow_copies));
        std::printf("  machine: used %s of %s, page tables %s, Committed_AS %s, simulated time %s\n",
                    format_bytes(m.meminfo.used).c_str(), format_bytes(m.meminfo.total).c_str(),
                    format_bytes(m.meminfo.page_tables).c_str(), format_bytes(m.meminfo.committed_as).c_str(),
                    format_value(double(m.time_ns), "ms").c_str());
        for (auto& [e, v] : m.shown) std::printf("  %s = %s\n", e.c_str(), format_value(v, "").c_str());
    }
    if (as_json) std::printf("%s\n", dump_json(out, 2).c_str());
    if (!ok) {
        std::fprintf(stderr, "%s", problems.c_str());
        return 1;
    }
    return 0;
}

int check_lessons(const std::vector<std::string>& files) {
    int bad = 0;
    for (const std::string& f : files) {
        Result<Lesson> lesson = load(f);
        if (!lesson) {
            std::printf("not ok - %s\n", lesson.message().c_str());
            ++bad;
            continue;
        }
        Result<LessonRun> started = LessonRun::start(*lesson, {});
        if (!started) {
            std::printf("not ok - %s\n", started.message().c_str());
            ++bad;
            continue;
        }
        LessonRun* run = &started.value();
        bool ok = true;
        std::string problems;
        int checkpoints = 0;
        while (ok && !run->done()) {
            const int i = run->next_step();
            if (Status st = run->step(); !st) {
                problems += st.message + "\n";
                ok = false;
                break;
            }
            if (Result<std::string> t = run->narrative(i); !t) {
                problems += f + ": " + t.message() + "\n";
                ok = false;
            }
            if (const auto& spec = run->lesson().steps[size_t(i)].mapping; spec)
                if (auto v = run->mapping_view(*spec); !v) {
                    problems += f + ": steps[" + std::to_string(i) + "]." + v.message() + "\n";
                    ok = false;
                }
            checkpoints += int(run->lesson().steps[size_t(i)].checkpoints.size());
            checkpoints_json(*run, i, &ok, &problems);
        }
        if (ok) std::printf("ok - %s: %zu steps, %d checkpoints\n", f.c_str(), lesson->steps.size(), checkpoints);
        else {
            std::printf("not ok - %s\n%s", f.c_str(), problems.c_str());
            ++bad;
        }
    }
    return bad ? 1 : 0;
}

// Rewrites the generated parts of a lessons README (engine/lesson/docs.h).
int update_docs(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "%s: cannot be read\n", path.c_str());
        return 1;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    in.close();
    Result<std::string> out = with_generated_docs(ss.str());
    if (!out) {
        std::fprintf(stderr, "%s: %s\n", path.c_str(), out.message().c_str());
        return 1;
    }
    if (*out == ss.str()) {
        std::printf("%s is up to date\n", path.c_str());
        return 0;
    }
    std::ofstream f(path, std::ios::binary);
    f << *out;
    if (!f) {
        std::fprintf(stderr, "%s: cannot be written\n", path.c_str());
        return 1;
    }
    std::printf("%s: the generated tables rewritten\n", path.c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> a(argv + 1, argv + argc);
    if (a.empty()) return usage();
    if (a[0] == "live") return cowlab::live::live_main(std::vector<std::string>(a.begin() + 1, a.end()));
    if (a[0] == "experiment") return cowlab::live::experiment_main(std::vector<std::string>(a.begin() + 1, a.end()));
    if (a[0] == "calibrate") return cowlab::live::calibrate_main(std::vector<std::string>(a.begin() + 1, a.end()));
    if (a[0] == "version") {
        std::printf("cowlab %s\n", version());
        return 0;
    }
    if (a[0] != "lesson" || a.size() < 3) return usage();
    if (a[1] == "check") return check_lessons(std::vector<std::string>(a.begin() + 2, a.end()));
    if (a[1] == "docs" && a.size() == 3) return update_docs(a[2]);
    if (a[1] != "run") return usage();
    std::string file;
    std::map<std::string, double> params;
    bool as_json = false;
    for (size_t i = 2; i < a.size(); ++i) {
        if (a[i] == "--json") {
            as_json = true;
        } else if (a[i] == "--param" && i + 1 < a.size()) {
            const std::string& kv = a[++i];
            size_t eq = kv.find('=');
            if (eq == std::string::npos || eq == 0) {
                std::fprintf(stderr, "cowlab: --param %s: expected NAME=VALUE\n", kv.c_str());
                return 2;
            }
            char* end = nullptr;
            const std::string v = kv.substr(eq + 1);
            double x = std::strtod(v.c_str(), &end);
            if (v.empty() || !end || *end || !std::isfinite(x)) {
                std::fprintf(stderr, "cowlab: --param %s: '%s' is not a number\n", kv.c_str(), v.c_str());
                return 2;
            }
            params[kv.substr(0, eq)] = x;
        } else if (file.empty() && a[i][0] != '-') {
            file = a[i];
        } else {
            return usage();
        }
    }
    if (file.empty()) return usage();
    return run_lesson(file, params, as_json);
}
