// ops.cpp: the operation table, assembled from its parts, the dispatch, and
// the argument readers handlers share.
#include "ops.h"

#include <cmath>

#include "units.h"

namespace cow {

const std::vector<OpSpec>& op_table() {
    static const std::vector<OpSpec> t = [] {
        std::vector<OpSpec> all;
        for (std::vector<OpSpec> part : {process_ops(), memory_ops(), redis_ops(), heap_ops()})
            all.insert(all.end(), part.begin(), part.end());
        return all;
    }();
    return t;
}

const OpSpec* find_op(const std::string& name) {
    for (const OpSpec& s : op_table())
        if (name == s.name) return &s;
    return nullptr;
}

bool takes_arg(const OpSpec& spec, const std::string& arg) {
    for (const OpArg& a : spec.args)
        if (arg == a.name) return true;
    return false;
}

Status run_op(RunState& run, const LessonOp& op, OpCursor& cur, const Budget& budget) {
    const OpSpec* spec = find_op(op.op);
    if (!spec) return fail(Errc::invalid_argument, op.where + ": run_op: no operation '" + op.op + "' (the loader checks this)");
    cur.more = false;
    run.forget_walks();   // its arguments see the machine as the operations before left it
    // "pid": "w*" applies the operation to every named process whose name starts with "w".
    if (auto p = op.args.find("pid"); p != op.args.end() && !p->second.empty() && p->second.back() == '*') {
        if (cur.targets.empty() && cur.inner.empty()) {   // first call: who the targets are
            const std::string prefix = p->second.substr(0, p->second.size() - 1);
            for (const auto& [n, id] : run.names)
                if (n.compare(0, prefix.size(), prefix) == 0 && run.m.process(id) && run.m.process(id)->alive())
                    cur.targets.push_back(n);
            cur.inner.resize(1);
            if (cur.targets.empty()) return {};
        }
        for (; cur.pos < cur.targets.size(); ++cur.pos) {
            LessonOp one = op;
            one.args["pid"] = cur.targets[cur.pos];
            if (Status st = run_op(run, one, cur.inner[0], budget); !st) return st;
            if (cur.inner[0].more) return cur.more = true, Status{};
            cur.inner[0] = {};
            if (cur.pos + 1 < cur.targets.size() && budget.spent()) {
                ++cur.pos;
                cur.more = true;
                return {};
            }
        }
        return {};
    }
    OpCall call{run, op, cur, budget};
    return spec->run(call);
}

Status run_op(RunState& run, const LessonOp& op) {
    OpCursor cur;
    return run_op(run, op, cur, Budget::unlimited());
}

// ---------------------------------------------------------------- arguments

Status OpCall::error(const std::string& why) const {
    return fail(Errc::invalid_argument, op.where + " (" + op.op + "): " + why);
}

Status OpCall::admit(u64 units, const std::string& what) const {
    if (!run.op_work_limit || units <= run.op_work_limit) return {};
    return fail(Errc::over_budget, op.where + " (" + op.op + "): " + format_count(units) + " " + what +
                                       ", more than the " + format_count(run.op_work_limit) +
                                       " one operation may take here; choose smaller parameters");
}

Status OpCall::outcome(const Status& st) {
    if (!st) run.outcomes.push_back(op.where + " (" + op.op + "): " + st.message);
    return {};
}

const std::string& OpCall::text(const std::string& key) const {
    static const std::string none;
    auto it = op.args.find(key);
    return it == op.args.end() ? none : it->second;
}

Result<double> OpCall::num(const std::string& key, double fallback, bool required) const {
    auto it = op.args.find(key);
    if (it == op.args.end()) {
        if (required) return error(key + " is missing");
        return fallback;
    }
    Result<double> v = eval_expr(it->second, run);
    if (!v) return error(key + ": " + v.message());
    return v;
}

Result<bool> OpCall::flag(const std::string& key, bool fallback) const {
    auto it = op.args.find(key);
    if (it == op.args.end()) return fallback;
    if (it->second != "true" && it->second != "false") return error(key + ": must be true or false");
    return it->second == "true";
}

Result<Pid> OpCall::proc(const std::string& key) const {
    auto it = op.args.find(key);
    if (it == op.args.end()) return error(key + " is missing");
    Pid p = run.pid_of(it->second);
    if (p == kNoPid) return error(key + ": no process named '" + it->second + "'");
    return p;
}

Status OpCall::name_process(const std::string& key, Pid pid) {
    auto it = op.args.find(key);
    if (it == op.args.end() || it->second.empty()) return error(key + " is missing");
    const std::string& name = it->second;
    if (!std::isalpha(static_cast<unsigned char>(name[0]))) return error(key + ": a name must start with a letter");
    for (auto& [n, p] : run.names)
        if (n == name) {
            p = pid;
            return {};
        }
    run.names.push_back({name, pid});
    return {};
}

Result<Region> OpCall::region(Pid pid, const std::string& key) const {
    auto it = op.args.find(key);
    if (it == op.args.end()) return error(key + " is missing");
    Result<Region> r = run.region_named(it->second, pid);
    if (!r) return error(key + ": " + r.message());
    return r;
}

Result<Image> OpCall::image() const {
    auto get = [&](const std::string& k) -> const std::string* {
        auto it = op.args.find("image." + k);
        return it == op.args.end() ? nullptr : &it->second;
    };
    const std::string* name = get("name");
    auto as = op.args.find("as");
    Image im = default_image(name ? *name : as != op.args.end() ? as->second : "a.out");
    if (!op.args.count("image")) return im;
    for (auto [field, slot] : {std::pair{"text", &im.text}, {"rodata", &im.rodata}, {"data", &im.data},
                               {"bss", &im.bss}, {"heap", &im.heap}, {"stack", &im.stack}}) {
        if (const std::string* v = get(field)) {
            Result<double> x = eval_expr(*v, run);
            if (!x) return error(std::string("image.") + field + ": " + x.message());
            if (*x < 0 || *x > 1e15) return error(std::string("image.") + field + ": out of range");
            *slot = u64(std::llround(*x));
        }
    }
    if (const std::string* libs = get("libs")) {
        if (*libs == "none") im.libs.clear();
        else if (*libs != "glibc") return error("image.libs: must be \"glibc\" or \"none\"");
    }
    if (const std::string* warm = get("warm")) {
        if (*warm != "true" && *warm != "false") return error("image.warm: must be true or false");
        im.warm = *warm == "true";
    }
    return im;
}

// ---------------------------------------------------------------- docs

std::string ops_markdown() {
    std::string out = "| op | arguments | what it does |\n|---|---|---|\n";
    const std::vector<OpSpec>& t = op_table();
    for (size_t i = 0; i < t.size();) {
        // Operations with the same arguments and text share a row.
        size_t j = i + 1;
        auto same = [&](const OpSpec& a, const OpSpec& b) {
            if (std::string(a.doc) != b.doc || a.args.size() != b.args.size()) return false;
            for (size_t k = 0; k < a.args.size(); ++k)
                if (std::string(a.args[k].name) != b.args[k].name || a.args[k].required != b.args[k].required) return false;
            return true;
        };
        while (j < t.size() && same(t[i], t[j])) ++j;
        std::string names, args;
        for (size_t k = i; k < j; ++k) names += std::string(k > i ? ", " : "") + "`" + t[k].name + "`";
        for (const OpArg& a : t[i].args) args += std::string(args.empty() ? "" : ", ") + "`" + a.name + "`" + (a.required ? "" : "?");
        out += "| " + names + " | " + args + " | " + t[i].doc + " |\n";
        i = j;
    }
    return out;
}

}  // namespace cow
