// queries.h: the functions lesson expressions may call, declared once each:
// name, arguments, documentation and handler. Lesson runs (RunState::call)
// and machine settings (which have no run: only the `pure` helpers) both call
// through this table; lessons/README.md's list is generated from it
// (queries_markdown, `cowlab lesson docs`) and a test keeps the two the same.
//
//   "private_dirty(child, buf)"  --find_query-->  {"private_dirty", {process, region?}, doc, handler}
//
// An argument that is a bare name reaches the handler as a name (a process,
// a region, an event kind); QueryCall::number evaluates it otherwise.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "lesson.h"
#include "ops.h"

namespace cow {

struct QueryCall {
    const RunState* run;   // nullptr: no run (a machine setting), only pure functions
    const ExprEnv& env;
    const std::string& fn;
    const std::vector<ExprArg>& args;

    Result<double> number(size_t i) const;   // argument i as a number (a name is looked up)
    Result<Pid> proc(size_t i) const;        // argument i names a process of the run
};

using QueryHandler = std::function<Result<double>(const QueryCall&)>;

struct QuerySpec {
    std::string name;
    std::vector<OpArg> args;   // required ones first
    std::string doc;
    QueryHandler run;
    bool pure = false;         // needs no run: machine settings may use it
};

// Every query function, in the order the docs list them.
const std::vector<QuerySpec>& query_table();
const QuerySpec* find_query(const std::string& name);
// The workloads' own functions (ops_redis.cpp).
std::vector<QuerySpec> redis_queries();

// Calls fn: checks that it exists, may be used here, and its argument count.
Result<double> call_query(const RunState* run, const ExprEnv& env, const std::string& fn, const std::vector<ExprArg>& args);

// The table as lessons/README.md shows it (a Markdown table).
std::string queries_markdown();

}  // namespace cow
