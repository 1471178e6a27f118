// queries.cpp: the query functions of lesson expressions, by family: helpers,
// the machine, the last operations, groups and regions, per process.
#include "queries.h"

#include <algorithm>
#include <cmath>

namespace cow {

Result<double> QueryCall::number(size_t i) const {
    if (!args[i].is_name) return args[i].value;
    return env.lookup(args[i].name);
}

Result<Pid> QueryCall::proc(size_t i) const {
    if (!args[i].is_name) return fail(Errc::invalid_argument, fn + "(): argument " + std::to_string(i + 1) + " must name a process");
    Pid p = run->pid_of(args[i].name);
    if (p == kNoPid) return fail(Errc::invalid_argument, fn + "(): no process named '" + args[i].name + "'");
    return p;
}

namespace {

// Numbers in, a number out: f(a), f(a, b), f(a, b, c).
template <size_t N, class F>
QueryHandler numeric(F f) {
    return [f](const QueryCall& q) -> Result<double> {
        double v[N];
        for (size_t i = 0; i < N; ++i) {
            Result<double> x = q.number(i);
            if (!x) return x;
            v[i] = *x;
        }
        if constexpr (N == 1) return f(v[0]);
        else if constexpr (N == 2) return f(v[0], v[1]);
        else return f(v[0], v[1], v[2]);
    };
}

std::vector<QuerySpec> helper_queries() {
    const std::vector<OpArg> ab = {{"a"}, {"b"}}, x = {{"x"}};
    const char* cmp = "1 if a < b (a > b, a == b), else 0";
    return {
        {"min", ab, "the smaller or larger of two numbers", numeric<2>([](double a, double b) { return std::min(a, b); }), true},
        {"max", ab, "the smaller or larger of two numbers", numeric<2>([](double a, double b) { return std::max(a, b); }), true},
        {"round", x, "x rounded to a whole number", numeric<1>([](double a) { return std::round(a); }), true},
        {"floor", x, "x rounded down", numeric<1>([](double a) { return std::floor(a); }), true},
        {"ceil", x, "x rounded up", numeric<1>([](double a) { return std::ceil(a); }), true},
        {"lt", ab, cmp, numeric<2>([](double a, double b) { return a < b ? 1.0 : 0.0; }), true},
        {"gt", ab, cmp, numeric<2>([](double a, double b) { return a > b ? 1.0 : 0.0; }), true},
        {"eq", ab, cmp, numeric<2>([](double a, double b) { return a == b ? 1.0 : 0.0; }), true},
        {"ifelse", {{"cond"}, {"a"}, {"b"}}, "a if cond is not 0, else b",
         numeric<3>([](double c, double a, double b) { return c != 0 ? a : b; }), true},
    };
}

// A figure of the run with no arguments.
QuerySpec figure(const char* name, const char* doc, double (*f)(const RunState&)) {
    return {name, {}, doc, [f](const QueryCall& q) -> Result<double> { return f(*q.run); }};
}

std::vector<QuerySpec> machine_queries() {
    static const std::pair<const char*, u64 MemInfo::*> mem[] = {
        {"ram", &MemInfo::total}, {"used", &MemInfo::used}, {"free", &MemInfo::free},
        {"committed_as", &MemInfo::committed_as}, {"commit_limit", &MemInfo::commit_limit},
        {"page_tables", &MemInfo::page_tables}, {"anon_pages", &MemInfo::anon_pages}, {"cached", &MemInfo::cached},
        {"anon_huge_total", &MemInfo::anon_huge}};
    std::vector<QuerySpec> out;
    for (const auto& [name, field] : mem)
        out.push_back({name, {}, "the machine, as /proc/meminfo (bytes)",
                       [field = field](const QueryCall& q) -> Result<double> { return double(q.run->m.meminfo().*field); }});
    out.push_back(figure("processes", "the machine's processes, zombies included",
                         [](const RunState& r) { return double(r.m.pids().size()); }));
    out.push_back({"events", {{"kind"}}, "how many events of a kind the log holds (kinds as in `engine/kernel/events.h`)",
                   [](const QueryCall& q) -> Result<double> {
                       if (!q.args[0].is_name) return fail(Errc::invalid_argument, "events() takes an event kind");
                       for (int k = 0; k < kEventKindCount; ++k)
                           if (q.args[0].name == to_string(EventKind(k))) return double(q.run->m.events().count(EventKind(k)));
                       return fail(Errc::invalid_argument, "events(): no event kind '" + q.args[0].name + "'");
                   }});
    return out;
}

std::vector<QuerySpec> last_op_queries() {
    const char* fork = "the last fork: its simulated time (ns), the page-table pages it copied, the pages it copied";
    const char* access = "the last read or write: its simulated time (ns), its faults";
    const char* step = "the current step: its simulated time (ns), the change of used memory, the refusals";
    const char* cost = "the cost model (`engine/kernel/cost.h`, measured by `cowlab calibrate`), ns: fork's fixed part, "
                       "copying one PTE, copying one 4 KiB page, a fault's entry and exit";
    return {
        figure("now_ns", "the simulated time since the lesson started (ns)", [](const RunState& r) { return double(r.m.now_ns()); }),
        figure("fork_ns", fork, [](const RunState& r) { return double(r.last_fork.time_ns); }),
        figure("fork_pt_pages", fork, [](const RunState& r) { return double(r.last_fork.pt_pages); }),
        figure("fork_pages_copied", fork, [](const RunState& r) { return double(r.last_fork.pages_copied); }),
        figure("access_ns", access, [](const RunState& r) { return double(r.last_access.time_ns); }),
        figure("access_faults", access,
               [](const RunState& r) { return double(r.last_access.minor_faults + r.last_access.major_faults); }),
        figure("step_ns", step, [](const RunState& r) { return double(r.m.now_ns() - r.step_start_ns); }),
        figure("used_delta", step, [](const RunState& r) { return double(r.m.used_bytes()) - double(r.step_start_used); }),
        figure("failures", step, [](const RunState& r) { return double(r.outcomes.size()); }),
        figure("cost_fork_base_ns", cost, [](const RunState& r) { return r.m.config().cost.fork_base_ns; }),
        figure("cost_pte_ns", cost, [](const RunState& r) { return r.m.config().cost.per_pte_ns; }),
        figure("cost_page_copy_ns", cost, [](const RunState& r) { return r.m.config().cost.copy_ns(kPageSize); }),
        figure("cost_fault_ns", cost, [](const RunState& r) { return r.m.config().cost.fault_trap_ns; }),
    };
}

// size(region, process?) / pages(...): a region's length in bytes or pages.
Result<double> region_length(const QueryCall& q, bool in_pages) {
    if (!q.args[0].is_name) return fail(Errc::invalid_argument, q.fn + "() takes a region name");
    Pid p = kNoPid;
    if (q.args.size() == 2) {
        Result<Pid> pp = q.proc(1);
        if (!pp) return pp.status();
        p = *pp;
    } else if (!q.run->names.empty()) {
        p = q.run->names.front().second;
    }
    Result<Region> r = q.run->region_named(q.args[0].name, p);
    if (!r) return r.status();
    return in_pages ? double(r->len / kPageSize) : double(r->len);
}

// total(fn, prefix, region?): fn summed over the live processes named prefix...; count(prefix): how many.
Result<double> group(const QueryCall& q, bool count) {
    for (const ExprArg& a : q.args)
        if (!a.is_name) return fail(Errc::invalid_argument, q.fn + "() takes names");
    const std::string& prefix = q.args[count ? 0 : 1].name;
    double sum = 0;
    for (const auto& [n, id] : q.run->names) {
        if (n.compare(0, prefix.size(), prefix) != 0 || !q.run->m.process(id) || !q.run->m.process(id)->alive()) continue;
        if (count) {
            sum += 1;
            continue;
        }
        std::vector<ExprArg> one{{true, n, 0}};
        if (q.args.size() == 3) one.push_back(q.args[2]);
        Result<double> v = call_query(q.run, q.env, q.args[0].name, one);
        if (!v) return v;
        sum += *v;
    }
    return sum;
}

std::vector<QuerySpec> group_queries() {
    const char* region = "a region's length in bytes or pages (of the process, or of the lesson's first process)";
    return {
        {"size", {{"region"}, {"process", false}}, region, [](const QueryCall& q) { return region_length(q, false); }},
        {"pages", {{"region"}, {"process", false}}, region, [](const QueryCall& q) { return region_length(q, true); }},
        {"total", {{"fn"}, {"prefix"}, {"region", false}},
         "a per-process function summed over the live processes named `prefix...`", [](const QueryCall& q) { return group(q, false); }},
        {"count", {{"prefix"}}, "how many live processes are named `prefix...`", [](const QueryCall& q) { return group(q, true); }},
    };
}

// f(process): a figure of one process, from the process itself.
QuerySpec of_process(const char* name, const char* doc, Result<double> (*f)(const RunState&, Pid, const Process*)) {
    return {name, {{"process"}}, doc, [f](const QueryCall& q) -> Result<double> {
                Result<Pid> p = q.proc(0);
                if (!p) return p.status();
                return f(*q.run, *p, q.run->m.process(*p));
            }};
}

// f(process): a figure of its /proc/PID/status.
QuerySpec of_status(const char* name, const char* doc, std::function<double(const ProcStatus&)> f) {
    return {name, {{"process"}}, doc, [f](const QueryCall& q) -> Result<double> {
                Result<Pid> p = q.proc(0);
                if (!p) return p.status();
                Result<ProcStatus> s = q.run->m.status(*p);
                if (!s) return s.status();
                return f(*s);
            }};
}

std::vector<QuerySpec> process_queries() {
    std::vector<QuerySpec> out;
    out.push_back({"alive", {{"process"}}, "1 while the process runs (0 once it exited, or before it started)",
                   [](const QueryCall& q) -> Result<double> {
                       if (q.args[0].is_name && q.run->pid_of(q.args[0].name) == kNoPid) return 0.0;   // never started
                       Result<Pid> p = q.proc(0);
                       if (!p) return p.status();
                       const Process* pr = q.run->m.process(*p);
                       return pr && pr->alive() ? 1.0 : 0.0;
                   }});
    out.push_back(of_process("exit_status", "the process's exit status, its pid",
                             [](const RunState&, Pid, const Process* pr) -> Result<double> { return pr ? double(pr->exit_status) : 0.0; }));
    out.push_back(of_process("pid", "the process's exit status, its pid",
                             [](const RunState&, Pid p, const Process*) -> Result<double> { return double(p.v); }));
    static const std::pair<const char*, u64 ProcCounters::*> counters[] = {
        {"min_flt", &ProcCounters::min_flt}, {"maj_flt", &ProcCounters::maj_flt},
        {"cow_copies", &ProcCounters::cow_copies}, {"cow_reuses", &ProcCounters::cow_reuses},
        {"zero_fills", &ProcCounters::zero_fills}, {"zero_page_maps", &ProcCounters::zero_page_maps},
        {"thp_faults", &ProcCounters::thp_faults}, {"thp_splits", &ProcCounters::thp_splits},
        {"thp_copies", &ProcCounters::thp_copies}, {"file_copies", &ProcCounters::file_copies}};
    for (const auto& [name, field] : counters)
        out.push_back({name, {{"process"}}, "the process's fault and copy counters", [field = field](const QueryCall& q) -> Result<double> {
                           Result<Pid> p = q.proc(0);
                           if (!p) return p.status();
                           const Process* pr = q.run->m.process(*p);
                           return pr ? double(pr->counters.*field) : 0.0;
                       }});
    static const std::pair<const char*, u64 ProcStatus::*> status[] = {
        {"vm_rss", &ProcStatus::vm_rss}, {"vm_size", &ProcStatus::vm_size}, {"vm_pte", &ProcStatus::vm_pte},
        {"rss_anon", &ProcStatus::rss_anon}, {"rss_file", &ProcStatus::rss_file}, {"rss_shmem", &ProcStatus::rss_shmem}};
    for (const auto& [name, field] : status)
        out.push_back(of_status(name, "the process, as /proc/PID/status (bytes), and the OOM killer's badness",
                                [field = field](const ProcStatus& s) { return double(s.*field); }));
    out.push_back(of_status("oom_badness", "the process, as /proc/PID/status (bytes), and the OOM killer's badness",
                            [](const ProcStatus& s) { return double(s.oom_badness); }));
    return out;
}

// f(process) or f(process, region): an smaps figure of the whole process or of the VMAs over a region.
Result<double> smaps_figure(const QueryCall& q, u64 (*field)(const MemStats&)) {
    Result<Pid> p = q.proc(0);
    if (!p) return p.status();
    if (q.args.size() == 1) {
        Result<MemStats> s = q.run->rollup(*p);
        if (!s) return s.status();
        return double(field(*s));
    }
    if (!q.args[1].is_name) return fail(Errc::invalid_argument, q.fn + "(): argument 2 must name a region");
    Result<Region> r = q.run->region_named(q.args[1].name, *p);
    if (!r) return r.status();
    Result<std::vector<VmaStats>> v = q.run->vma_stats(*p);
    if (!v) return v.status();
    MemStats sum;
    for (const VmaStats& vs : *v)
        if (vs.start < r->start + r->len && vs.end > r->start) sum += vs.mem;
    return double(field(sum));
}

std::vector<QuerySpec> smaps_queries() {
    static const std::pair<const char*, u64 (*)(const MemStats&)> smaps[] = {
        {"rss", [](const MemStats& s) { return s.rss; }},
        {"pss", [](const MemStats& s) { return s.pss(); }},
        {"pss_dirty", [](const MemStats& s) { return s.pss_dirty(); }},
        {"uss", [](const MemStats& s) { return s.uss(); }},
        {"shared", [](const MemStats& s) { return s.shared(); }},
        {"shared_clean", [](const MemStats& s) { return s.shared_clean; }},
        {"shared_dirty", [](const MemStats& s) { return s.shared_dirty; }},
        {"private_clean", [](const MemStats& s) { return s.private_clean; }},
        {"private_dirty", [](const MemStats& s) { return s.private_dirty; }},
        {"anonymous", [](const MemStats& s) { return s.anonymous; }},
        {"anon_huge", [](const MemStats& s) { return s.anon_huge; }},
        {"referenced", [](const MemStats& s) { return s.referenced; }}};
    std::vector<QuerySpec> out;
    for (const auto& [name, field] : smaps)
        out.push_back({name, {{"process"}, {"region", false}}, "the process (or its VMAs over a region), as smaps (bytes)",
                       [field = field](const QueryCall& q) { return smaps_figure(q, field); }});
    return out;
}

std::string arity_text(const QuerySpec& s) {
    size_t lo = 0;
    for (const OpArg& a : s.args) lo += a.required ? 1 : 0;
    const size_t hi = s.args.size();
    return s.name + "() takes " + std::to_string(lo) + (hi > lo ? " to " + std::to_string(hi) : "") + " arguments";
}

}  // namespace

const std::vector<QuerySpec>& query_table() {
    static const std::vector<QuerySpec> t = [] {
        std::vector<QuerySpec> all;
        for (std::vector<QuerySpec> part : {smaps_queries(), process_queries(), machine_queries(), last_op_queries(),
                                            group_queries(), redis_queries(), helper_queries()})
            all.insert(all.end(), part.begin(), part.end());
        return all;
    }();
    return t;
}

const QuerySpec* find_query(const std::string& name) {
    for (const QuerySpec& s : query_table())
        if (s.name == name) return &s;
    return nullptr;
}

Result<double> call_query(const RunState* run, const ExprEnv& env, const std::string& fn, const std::vector<ExprArg>& args) {
    const QuerySpec* s = find_query(fn);
    if (!run && !(s && s->pure)) {
        std::string pure;
        for (const QuerySpec& q : query_table())
            if (q.pure) pure += (pure.empty() ? "" : ", ") + q.name;
        return fail(Errc::invalid_argument, "'" + fn + "' cannot be used here (only " + pure + ")");
    }
    if (!s) return fail(Errc::invalid_argument, "unknown function '" + fn + "'");
    size_t lo = 0;
    for (const OpArg& a : s->args) lo += a.required ? 1 : 0;
    if (args.size() < lo || args.size() > s->args.size()) return fail(Errc::invalid_argument, arity_text(*s));
    return s->run(QueryCall{run, env, fn, args});
}

std::string queries_markdown() {
    std::string out = "| function | arguments | what it gives |\n|---|---|---|\n";
    const std::vector<QuerySpec>& t = query_table();
    auto args_of = [](const QuerySpec& s) {
        std::string a;
        for (const OpArg& x : s.args) a += std::string(a.empty() ? "" : ", ") + "`" + x.name + "`" + (x.required ? "" : "?");
        return a;
    };
    for (size_t i = 0; i < t.size();) {
        // Functions with the same arguments and text share a row.
        size_t j = i + 1;
        while (j < t.size() && t[j].doc == t[i].doc && args_of(t[j]) == args_of(t[i])) ++j;
        std::string names;
        for (size_t k = i; k < j; ++k) names += std::string(k > i ? " " : "") + "`" + t[k].name + "`";
        out += "| " + names + " | " + args_of(t[i]) + " | " + t[i].doc + " |\n";
        i = j;
    }
    return out;
}

}  // namespace cow
