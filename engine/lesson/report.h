// report.h: a lesson run's figures and checkpoints as people and programs
// read them, in one place: the one JSON shape of a step's metrics (the lab's
// cowlab.metrics(), its exports, `cowlab lesson run --json`), a checkpoint
// evaluated after its step, and grading (a learner's guess; a golden value).
//
//   metrics_json(run.metrics())
//     {"step": 2, "time_ns": ..., "meminfo": {"total", "used", "free", "anon_pages", "page_tables",
//      "committed_as", "commit_limit"}, "processes": [{"name", "pid", "state", "rss", "pss", ...}],
//      "show": {"cow_copies(child)": 1}}
//
//   CheckpointResult r = evaluate(run, cp);      // after the step ran
//   grade(cp, guess, r.answer)                   // the learner's guess is right
//   check_golden(cp, r.answer)                   // the file's golden value still holds
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "lesson.h"

namespace cow {

// A checkpoint after its step's operations ran.
struct CheckpointResult {
    std::string question, explain;   // rendered ({expr} replaced); as written if that failed
    std::vector<std::string> problems;   // rendering or evaluating failed: why
    bool answered = false;           // expect evaluated
    double answer = 0;
    std::string answer_text;         // the right choice, or the number in the checkpoint's unit
    std::string error;               // why expect did not evaluate
};

CheckpointResult evaluate(const LessonRun& run, const Checkpoint& cp);
// A guess is right: a choice is the answer's index; a number is within the
// checkpoint's tolerance (a fraction of the answer).
bool grade(const Checkpoint& cp, double guess, double answer);
// What is wrong with the engine's answer for the file: a choice's answer
// that is no index, a golden value the engine no longer gives. Empty: nothing.
std::vector<std::string> check_golden(const Checkpoint& cp, double answer);

// The one shape of a step's metrics.
nlohmann::json metrics_json(const StepMetrics& m);
nlohmann::json process_json(const ProcMetrics& p);
// A checkpoint before its reveal: {question, kind, unit, choices}.
nlohmann::json checkpoint_json(const Checkpoint& cp, const std::string& question);
// The reveal added to it: answer, answer_text, explain (or error).
void add_answer_json(nlohmann::json& j, const CheckpointResult& r);

// nlohmann's dump as the lab and the CLI write it (invalid UTF-8 replaced).
std::string dump_json(const nlohmann::json& j, int indent = -1);

}  // namespace cow
