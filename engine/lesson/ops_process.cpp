// ops_process.cpp: the operations on processes: spawn, fork and its
// relatives, exec, exit, wait, oom_score_adj; and set, which remembers a value.
#include <cmath>

#include "ops.h"

namespace cow {

namespace {

Status op_spawn(OpCall& c) {
    Result<Image> im = c.image();
    if (!im) return im.status();
    Result<Pid> p = c.run.m.spawn(*im);
    if (!p) return c.outcome(p.status());
    if (c.has("oom_score_adj")) {
        Result<double> v = c.num("oom_score_adj", 0, true);
        if (!v) return v.status();
        if (Status st = c.run.m.set_oom_score_adj(*p, int(*v)); !st) return c.error(st.message);
    }
    return c.name_process("as", *p);
}

// What every fork-like operation does once the engine has forked.
Status forked(OpCall& c, Pid parent, const Result<ForkResult>& r) {
    if (!r) return c.outcome(r.status());
    c.run.last_fork = *r;
    for (auto& [kind, w] : c.run.workloads) w.p->forked(parent, r->child);
    return c.name_process("as", r->child);
}

// A chunk of a fork: so many page-table entries copied (a 16 GiB process has
// 4,194,304 of them).
constexpr u64 kForkChunkEntries = 32768;

// The page-table entries a fork of pid walks: every slot of its tables.
u64 table_entries(const Machine& m, Pid pid) {
    const Mm* mm = m.address_space(pid);
    return mm ? mm->pt_pages * 512 : 0;
}

Status op_fork(OpCall& c) {
    if (c.has("count")) {   // count: N forks N children named as1 .. asN
        if (!c.cur.state.has_value()) {   // evaluated once: resumed, the count stays what it was
            Result<double> n = c.num("count", 1, true);
            if (!n) return n.status();
            if (*n < 0 || *n > 10000 || *n != std::floor(*n)) return c.error("count: must be a whole number 0 .. 10000");
            Result<Pid> parent = c.proc("pid");
            if (!parent) return parent.status();
            if (Status st = c.admit(u64(*n) * table_entries(c.run.m, *parent), "page-table entries to copy"); !st) return st;
            c.cur.state = u64(*n);
            c.cur.inner.resize(1);
        }
        const u64 total = std::any_cast<u64>(c.cur.state);
        for (u64 i = c.cur.pos; i < total;) {   // each child a fork of its own, itself in chunks
            LessonOp one = c.op;
            one.args.erase("count");
            one.args["as"] = c.text("as") + std::to_string(i + 1);
            if (Status st = run_op(c.run, one, c.cur.inner[0], c.budget); !st) return st;
            if (c.cur.inner[0].more) {
                c.pause(i, total);
                c.cur.more = true;
                return {};
            }
            c.cur.inner[0] = {};
            if (++i < total && c.pause(i, total)) return {};
        }
        return {};
    }
    Result<Pid> pid = c.proc("pid");
    if (!pid) return pid.status();
    if (!c.cur.state.has_value()) {
        if (Status st = c.admit(table_entries(c.run.m, *pid), "page-table entries to copy"); !st) return st;
        Result<bool> eager = c.flag("eager", false);
        if (!eager) return eager.status();
        Result<ForkJob> job = c.run.m.fork_begin(*pid, *eager);
        if (!job) return forked(c, *pid, job.status());
        c.cur.state = std::move(*job);
    }
    ForkJob& job = std::any_cast<ForkJob&>(c.cur.state);
    for (;;) {
        if (Status st = c.run.m.fork_step(job, kForkChunkEntries); !st) return forked(c, *pid, st);
        if (job.done) return forked(c, *pid, job.r);
        if (c.pause(job.pages_done, std::max<u64>(1, job.pages_total))) return {};
    }
}

Status op_vfork(OpCall& c) {
    Result<Pid> pid = c.proc("pid");
    if (!pid) return pid.status();
    return forked(c, *pid, c.run.m.vfork(*pid));
}

Status op_posix_spawn(OpCall& c) {
    Result<Pid> pid = c.proc("pid");
    if (!pid) return pid.status();
    Result<Image> im = c.image();
    if (!im) return im.status();
    return forked(c, *pid, c.run.m.posix_spawn(*pid, *im));
}

// An exec or exit job run on, a chunk at a time (as many pages unmapped as a
// fork's chunk copies entries), until it is done or the budget is spent.
template <class Job, class Step>
Status unmap_in_parts(OpCall& c, Job& job, Step step) {
    for (;;) {
        if (Status st = step(job); !st) return c.outcome(st);
        if (job.done) return {};
        if (c.pause(job.unmap.pages_done, std::max<u64>(1, job.unmap.pages_total))) return {};
    }
}

Status op_exec(OpCall& c) {
    if (!c.cur.state.has_value()) {
        Result<Pid> pid = c.proc("pid");
        if (!pid) return pid.status();
        Result<Image> im = c.image();
        if (!im) return im.status();
        Result<ExecJob> job = c.run.m.exec_begin(*pid, *im);
        if (!job) return c.outcome(job.status());
        c.cur.state = std::move(*job);
    }
    return unmap_in_parts(c, std::any_cast<ExecJob&>(c.cur.state),
                          [&](ExecJob& j) { return c.run.m.exec_step(j, kForkChunkEntries); });
}

Status op_exit(OpCall& c) {
    if (!c.cur.state.has_value()) {
        Result<Pid> pid = c.proc("pid");
        if (!pid) return pid.status();
        Result<double> code = c.num("code", 0, false);
        if (!code) return code.status();
        Result<ExitJob> job = c.run.m.exit_begin(*pid, int(*code));
        if (!job) return c.outcome(job.status());
        c.cur.state = std::move(*job);
    }
    return unmap_in_parts(c, std::any_cast<ExitJob&>(c.cur.state),
                          [&](ExitJob& j) { return c.run.m.exit_step(j, kForkChunkEntries); });
}

Status op_wait(OpCall& c) {
    Result<Pid> pid = c.proc("pid");
    if (!pid) return pid.status();
    Pid child = kNoPid;
    if (c.has("child")) {
        Result<Pid> ch = c.proc("child");
        if (!ch) return ch.status();
        child = *ch;
    }
    return c.outcome(c.run.m.wait(*pid, child).status());
}

Status op_oom_score_adj(OpCall& c) {
    Result<Pid> p = c.proc("pid");
    if (!p) return p.status();
    Result<double> v = c.num("value", 0, true);
    if (!v) return v.status();
    if (Status st = c.run.m.set_oom_score_adj(*p, int(*v)); !st) return c.error(st.message);
    return {};
}

Status op_set(OpCall& c) {
    const std::string& name = c.text("name");
    if (name.empty() || !std::isalpha(static_cast<unsigned char>(name[0]))) return c.error("name: must start with a letter");
    if (c.run.lesson.param(name) || unit_value(name)) return c.error("name: '" + name + "' is a parameter or a unit");
    Result<double> v = c.num("value", 0, true);
    if (!v) return v.status();
    c.run.vars[name] = *v;
    return {};
}

}  // namespace

std::vector<OpSpec> process_ops() {
    return {
        {"spawn", {{"as"}, {"image", false}, {"oom_score_adj", false}}, "a new process from an image", op_spawn},
        {"fork", {{"pid"}, {"as"}, {"eager", false}, {"count", false}},
         "fork (COW); `eager: true` copies every private page at once; `count: N` forks N children named `as1` .. `asN`",
         op_fork},
        {"vfork", {{"pid"}, {"as"}}, "the child borrows the parent's memory; the parent waits for exec or exit", op_vfork},
        {"posix_spawn", {{"pid"}, {"as"}, {"image", false}}, "clone(CLONE_VM\\|CLONE_VFORK) + exec", op_posix_spawn},
        {"exec", {{"pid"}, {"image", false}}, "replace the address space with a new image", op_exec},
        {"exit", {{"pid"}, {"code", false}}, "the process exits (a zombie until its parent waits)", op_exit},
        {"wait", {{"pid"}, {"child", false}}, "reap an exited child", op_wait},
        {"oom_score_adj", {{"pid"}, {"value"}}, "-1000 .. 1000", op_oom_score_adj},
        {"set", {{"name"}, {"value"}}, "remember a value for later expressions", op_set},
    };
}

}  // namespace cow
