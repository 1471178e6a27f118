// ops.h: the operations a lesson step may run, declared once each: name,
// arguments, documentation and handler. The loader (parse_lesson) checks a
// file's operations against this table; the run dispatches through it;
// lessons/README.md's table of operations is generated from it (ops_markdown,
// `cowlab lesson docs`) and a test keeps the two the same.
//
//   {"write", {{"pid"}, {"region"}, {"offset", false}, ...}, "touch the range ...", op_access}
//
//   LessonOp {"write", {pid: "child", region: "bss"}}  --find_op-->  OpSpec  --run-->  handler(OpCall&)
//
// A handler reads its arguments through OpCall (expressions evaluated, names
// resolved, errors naming the operation) and changes the RunState. An engine
// refusal (ENOMEM, SIGSEGV, OOM) is call.outcome(status): recorded, the
// lesson goes on; a mistake in the lesson is an error Status: it stops.
//
// A long operation runs in chunks: after each it asks call.pause(pos, total),
// which, when the budget is spent, keeps its place in the cursor and tells it
// to return; the run calls it again with the same cursor, and the handler
// resumes from call.cur (its own state in call.cur.state). Sliced or not, it
// must end in the same machine.
//
// Adding an operation: one entry in a table below (or a workload's own file)
// and its handler.
#pragma once

#include <string>
#include <vector>

#include "lesson.h"

namespace cow {

struct OpArg {
    const char* name;
    bool required = true;
};

struct OpCall;
using OpHandler = Status (*)(OpCall& call);

struct OpSpec {
    const char* name;
    std::vector<OpArg> args;   // "image" takes an object (see lessons/README.md)
    const char* doc;
    OpHandler run;
};

// Every operation, in the order the docs list them.
const std::vector<OpSpec>& op_table();
const OpSpec* find_op(const std::string& name);
bool takes_arg(const OpSpec& spec, const std::string& arg);

// The table's parts, one per file.
std::vector<OpSpec> process_ops();   // ops_process.cpp: spawn, fork, exec, exit, ...
std::vector<OpSpec> memory_ops();    // ops_memory.cpp: mmap, madvise, write, ...
std::vector<OpSpec> redis_ops();     // ops_redis.cpp
std::vector<OpSpec> heap_ops();      // ops_heap.cpp

// Runs one operation of a step; "pid": "w*" runs it for every live process named w...
// With a budget it may stop early: cur.more is then set, and the next call
// with the same cursor goes on.
Status run_op(RunState& run, const LessonOp& op, OpCursor& cur, const Budget& budget);
Status run_op(RunState& run, const LessonOp& op);   // to the end

// One operation being run: its arguments, read with messages that name it.
struct OpCall {
    RunState& run;
    const LessonOp& op;
    OpCursor& cur;
    const Budget& budget;

    // After a chunk: true when the budget is spent; the handler then returns
    // at once (with {}) and is called again later, cur.pos == pos.
    bool pause(u64 pos, u64 total) {
        cur.pos = pos;
        cur.total = total;
        cur.more = budget.spent();
        return cur.more;
    }

    Status error(const std::string& why) const;           // the lesson's mistake: stops it
    // Before its first chunk, a long operation says how much it will visit
    // ("pages to write"): past run.op_work_limit, an over_budget error.
    Status admit(u64 units, const std::string& what) const;
    Status outcome(const Status& st);                      // the engine's refusal: recorded
    bool has(const std::string& key) const { return op.args.count(key) != 0; }
    const std::string& text(const std::string& key) const; // a required argument as written
    Result<double> num(const std::string& key, double fallback, bool required) const;
    Result<bool> flag(const std::string& key, bool fallback) const;   // true / false
    Result<Pid> proc(const std::string& key) const;
    Result<Region> region(Pid pid, const std::string& key) const;
    Result<Image> image() const;
    Status name_process(const std::string& key, Pid pid);
    Status run_again(const LessonOp& other) { return run_op(run, other); }   // whole, at once
};

// The table as lessons/README.md shows it (a Markdown table).
std::string ops_markdown();

}  // namespace cow
