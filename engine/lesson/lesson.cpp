// lesson.cpp: parsing and validating lesson files (operations against the
// operation table, ops.h) and the machine a lesson describes.
#include "lesson.h"

#include "ops.h"
#include "queries.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace cow {

using nlohmann::json;

namespace {

// ---------------------------------------------------------------- JSON errors with a position

// Accepts every event and remembers the first syntax error (json::parse without
// exceptions reports none).
struct ErrorLocator : nlohmann::json_sax<json> {
    std::size_t position = 0;
    std::string message;
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }
    bool parse_error(std::size_t pos, const std::string&, const nlohmann::detail::exception& ex) override {
        position = pos;
        message = ex.what();
        return false;
    }
};

std::string line_col(const std::string& text, std::size_t pos) {
    std::size_t line = 1, col = 1;
    for (std::size_t i = 0; i + 1 < pos && i < text.size(); ++i) {
        if (text[i] == '\n') { ++line; col = 1; }
        else ++col;
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

std::string strip_json_prefix(std::string m) {
    // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..." -> the reason
    std::size_t c = m.find("syntax error");
    if (c != std::string::npos) return m.substr(c);
    return m;
}

// ---------------------------------------------------------------- field access with messages

class Fields {
public:
    Fields(const std::string& file) : file_(file) {}
    Status error(const std::string& where, const std::string& why) const {
        return fail(Errc::invalid_argument, file_ + ": " + where + ": " + why);
    }
    // A string field; absent -> fallback unless required.
    Status str(const json& o, const std::string& where, const char* key, std::string& out, bool required,
               std::size_t max_len = 4000) const {
        auto it = o.find(key);
        if (it == o.end()) return required ? error(where + key, "missing (required)") : Status{};
        if (!it->is_string()) return error(where + key, std::string("must be a string, not ") + it->type_name());
        out = it->get<std::string>();
        if (out.size() > max_len) return error(where + key, "longer than " + std::to_string(max_len) + " characters");
        if (required && out.empty()) return error(where + key, "is empty");
        return {};
    }
    Status number(const json& o, const std::string& where, const char* key, double& out, bool required) const {
        auto it = o.find(key);
        if (it == o.end()) return required ? error(where + key, "missing (required)") : Status{};
        if (!it->is_number()) return error(where + key, std::string("must be a number, not ") + it->type_name());
        out = it->get<double>();
        if (!std::isfinite(out)) return error(where + key, "is not a finite number");
        return {};
    }
    // A value an operation or machine setting takes: a number, a string expression or a boolean, kept as text.
    Status scalar(const json& v, const std::string& where, std::string& out) const {
        if (v.is_string()) out = v.get<std::string>();
        else if (v.is_boolean()) out = v.get<bool>() ? "true" : "false";
        else if (v.is_number_integer()) out = std::to_string(v.get<long long>());
        else if (v.is_number()) {
            char buf[64];
            std::snprintf(buf, sizeof buf, "%.17g", v.get<double>());
            out = buf;
        } else return error(where, std::string("must be a number, a string or a boolean, not ") + v.type_name());
        if (out.size() > 4000) return error(where, "longer than 4000 characters");
        return {};
    }
    Status no_unknown(const json& o, const std::string& where, std::initializer_list<const char*> known) const {
        for (auto it = o.begin(); it != o.end(); ++it) {
            bool ok = false;
            for (const char* k : known) ok |= it.key() == k;
            if (!ok) return error(where + it.key(), "unknown field");
        }
        return {};
    }

private:
    std::string file_;
};

const std::vector<std::string> kImageFields = {"name", "text", "rodata", "data", "bss", "heap", "stack", "libs", "warm"};
const std::vector<std::string> kMachineFields = {"ram", "swap", "kernel_reserved", "thp", "thp_cow", "cow_reuse",
                                                 "zero_page", "thp_zero_page", "fault_around", "overcommit", "overcommit_ratio",
                                                 "seed"};

}  // namespace

const LessonParam* Lesson::param(const std::string& name) const {
    for (const LessonParam& p : params)
        if (p.name == name) return &p;
    return nullptr;
}

namespace {

Status parse_machine(const Fields& F, const json& root, std::map<std::string, std::string>& machine) {
    auto it = root.find("machine");
    if (it == root.end()) return {};
    if (!it->is_object()) return F.error("machine", "must be an object");
    for (auto m = it->begin(); m != it->end(); ++m) {
        if (std::find(kMachineFields.begin(), kMachineFields.end(), m.key()) == kMachineFields.end())
            return F.error("machine." + m.key(), "unknown setting");
        if (Status st = F.scalar(m.value(), "machine." + m.key(), machine[m.key()]); !st) return st;
    }
    return {};
}

Status parse_param(const Fields& F, const json& p, const std::string& w, const Lesson& L, LessonParam& lp) {
    if (!p.is_object()) return F.error(w.substr(0, w.size() - 1), "must be an object");
    if (Status st = F.no_unknown(p, w, {"name", "label", "unit", "min", "max", "default", "step"}); !st) return st;
    if (Status st = F.str(p, w, "name", lp.name, true, 40); !st) return st;
    if (Status st = F.str(p, w, "label", lp.label, true, 120); !st) return st;
    if (Status st = F.str(p, w, "unit", lp.unit, false, 20); !st) return st;
    if (Status st = F.number(p, w, "min", lp.min, true); !st) return st;
    if (Status st = F.number(p, w, "max", lp.max, true); !st) return st;
    if (Status st = F.number(p, w, "default", lp.def, true); !st) return st;
    if (Status st = F.number(p, w, "step", lp.step, false); !st) return st;
    if (!(lp.min <= lp.max)) return F.error(w + "min", "is above max");
    if (lp.def < lp.min || lp.def > lp.max) return F.error(w + "default", "is outside [min, max]");
    if (!(lp.step > 0)) return F.error(w + "step", "must be positive");
    if (!std::isalpha(static_cast<unsigned char>(lp.name[0]))) return F.error(w + "name", "must start with a letter");
    if (L.param(lp.name)) return F.error(w + "name", "'" + lp.name + "' is defined twice");
    if (!valid_display_unit(lp.unit)) return F.error(w + "unit", "unknown unit '" + lp.unit + "'");
    return {};
}

Status parse_params(const Fields& F, const json& root, Lesson& L) {
    auto it = root.find("parameters");
    if (it == root.end()) return {};
    if (!it->is_array()) return F.error("parameters", "must be an array");
    if (it->size() > 32) return F.error("parameters", "more than 32 parameters");
    for (std::size_t i = 0; i < it->size(); ++i) {
        LessonParam lp;
        if (Status st = parse_param(F, (*it)[i], "parameters[" + std::to_string(i) + "].", L, lp); !st) return st;
        L.params.push_back(lp);
    }
    return {};
}

// An operation, checked against the operation table (ops.h); "image" is an object, flattened to "image.*".
Status parse_op(const Fields& F, const json& o, const std::string& ow, LessonOp& op) {
    if (!o.is_object()) return F.error(ow, "must be an object");
    op.where = ow;
    if (Status st = F.str(o, ow + ".", "op", op.op, true, 40); !st) return st;
    const OpSpec* spec = find_op(op.op);
    if (!spec) return F.error(ow + ".op", "unknown operation '" + op.op + "'");
    for (auto a = o.begin(); a != o.end(); ++a) {
        if (a.key() == "op") continue;
        if (!takes_arg(*spec, a.key())) return F.error(ow + "." + a.key(), "'" + op.op + "' takes no such argument");
        if (a.key() == "image" && a->is_object()) {
            for (auto f = a->begin(); f != a->end(); ++f) {
                if (std::find(kImageFields.begin(), kImageFields.end(), f.key()) == kImageFields.end())
                    return F.error(ow + ".image." + f.key(), "unknown image field");
                if (Status st = F.scalar(f.value(), ow + ".image." + f.key(), op.args["image." + f.key()]); !st) return st;
            }
            op.args["image"] = "{}";
            continue;
        }
        if (Status st = F.scalar(a.value(), ow + "." + a.key(), op.args[a.key()]); !st) return st;
    }
    for (const OpArg& r : spec->args)
        if (r.required && !op.args.count(r.name)) return F.error(ow + "." + r.name, "missing (required by '" + op.op + "')");
    return {};
}

Status parse_checkpoint(const Fields& F, const json& c, const std::string& cw, Checkpoint& cp) {
    if (!c.is_object()) return F.error(cw.substr(0, cw.size() - 1), "must be an object");
    if (Status st = F.no_unknown(c, cw, {"question", "kind", "expect", "unit", "tolerance", "choices", "explain", "golden"}); !st) return st;
    cp.where = cw.substr(0, cw.size() - 1);
    if (Status st = F.str(c, cw, "question", cp.question, true); !st) return st;
    if (Status st = F.str(c, cw, "kind", cp.kind, true, 10); !st) return st;
    if (cp.kind != "number" && cp.kind != "choice") return F.error(cw + "kind", "must be \"number\" or \"choice\"");
    if (Status st = F.str(c, cw, "expect", cp.expect, true, 400); !st) return st;
    if (Status st = F.str(c, cw, "unit", cp.unit, false, 20); !st) return st;
    if (!valid_display_unit(cp.unit)) return F.error(cw + "unit", "unknown unit '" + cp.unit + "'");
    if (Status st = F.number(c, cw, "tolerance", cp.tolerance, false); !st) return st;
    if (cp.tolerance < 0 || cp.tolerance > 1) return F.error(cw + "tolerance", "must be a fraction in [0, 1]");
    if (Status st = F.str(c, cw, "explain", cp.explain, true); !st) return st;
    if (c.contains("golden")) {
        if (Status st = F.number(c, cw, "golden", cp.golden, true); !st) return st;
        cp.has_golden = true;
    }
    if (auto ch = c.find("choices"); ch != c.end()) {
        if (!ch->is_array() || ch->size() < 2 || ch->size() > 8) return F.error(cw + "choices", "must be an array of 2 to 8 strings");
        for (const json& x : *ch) {
            if (!x.is_string()) return F.error(cw + "choices", "must hold strings");
            cp.choices.push_back(x.get<std::string>());
        }
    }
    if (cp.kind == "choice" && cp.choices.empty()) return F.error(cw + "choices", "missing (required for a choice)");
    if (cp.kind == "number" && !cp.choices.empty()) return F.error(cw + "choices", "a number checkpoint has no choices");
    return {};
}

Status parse_step(const Fields& F, const json& s, const std::string& w, LessonStep& step) {
    if (!s.is_object()) return F.error(w.substr(0, w.size() - 1), "must be an object");
    if (Status st = F.no_unknown(s, w, {"title", "text", "ops", "checkpoints", "show"}); !st) return st;
    if (Status st = F.str(s, w, "title", step.title, true, 200); !st) return st;
    if (Status st = F.str(s, w, "text", step.text, true, 8000); !st) return st;
    if (auto ops = s.find("ops"); ops != s.end()) {
        if (!ops->is_array()) return F.error(w + "ops", "must be an array");
        if (ops->size() > 1000) return F.error(w + "ops", "more than 1000 operations");
        for (std::size_t k = 0; k < ops->size(); ++k) {
            LessonOp op;
            if (Status st = parse_op(F, (*ops)[k], w + "ops[" + std::to_string(k) + "]", op); !st) return st;
            step.ops.push_back(std::move(op));
        }
    }
    if (auto cps = s.find("checkpoints"); cps != s.end()) {
        if (!cps->is_array()) return F.error(w + "checkpoints", "must be an array");
        for (std::size_t k = 0; k < cps->size(); ++k) {
            Checkpoint cp;
            if (Status st = parse_checkpoint(F, (*cps)[k], w + "checkpoints[" + std::to_string(k) + "].", cp); !st) return st;
            step.checkpoints.push_back(std::move(cp));
        }
    }
    if (auto sh = s.find("show"); sh != s.end()) {
        if (!sh->is_array()) return F.error(w + "show", "must be an array of expressions");
        for (const json& x : *sh) {
            if (!x.is_string()) return F.error(w + "show", "must hold strings");
            step.show.push_back(x.get<std::string>());
        }
    }
    return {};
}

}  // namespace

Result<Lesson> parse_lesson(const std::string& text, const std::string& file) {
    Fields F(file);
    if (text.size() > 4 * 1024 * 1024) return F.error("(file)", "larger than 4 MiB");
    json root = json::parse(text, nullptr, false);
    if (root.is_discarded()) {
        ErrorLocator loc;
        json::sax_parse(text, &loc);
        return fail(Errc::invalid_argument, file + ": " + line_col(text, loc.position) + ": " +
                                                strip_json_prefix(loc.message));
    }
    if (!root.is_object()) return F.error("(top level)", "must be an object");
    Lesson L;
    L.file = file;
    if (Status st = F.no_unknown(root, "", {"$schema", "id", "title", "summary", "level", "machine", "parameters", "steps"}); !st) return st;
    if (Status st = F.str(root, "", "id", L.id, true, 64); !st) return st;
    for (char c : L.id)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
            return F.error("id", "use letters, digits, '-' and '_' only");
    if (Status st = F.str(root, "", "title", L.title, true, 200); !st) return st;
    if (Status st = F.str(root, "", "summary", L.summary, true); !st) return st;
    if (Status st = F.str(root, "", "level", L.level, false, 40); !st) return st;
    // machine: kept as text, evaluated when the lesson starts (it may use parameters).
    std::map<std::string, std::string> machine;
    if (Status st = parse_machine(F, root, machine); !st) return st;
    if (Status st = parse_params(F, root, L); !st) return st;

    auto steps = root.find("steps");
    if (steps == root.end()) return F.error("steps", "missing (required)");
    if (!steps->is_array() || steps->empty()) return F.error("steps", "must be a non-empty array");
    if (steps->size() > 200) return F.error("steps", "more than 200 steps");
    for (std::size_t i = 0; i < steps->size(); ++i) {
        LessonStep step;
        if (Status st = parse_step(F, (*steps)[i], "steps[" + std::to_string(i) + "].", step); !st) return st;
        L.steps.push_back(std::move(step));
    }

    // The machine must be valid with the parameters at their defaults.
    L.machine = machine;
    std::map<std::string, double> defaults;
    for (const LessonParam& p : L.params) defaults[p.name] = p.def;
    if (Result<MachineConfig> mc = L.machine_config(defaults); !mc) return fail(mc.code(), file + ": " + mc.message());
    return L;
}

namespace {
// Names a machine setting may use: the parameters and the units.
class ParamEnv : public ExprEnv {
public:
    explicit ParamEnv(const std::map<std::string, double>& p) : p_(p) {}
    Result<double> lookup(const std::string& name) const override {
        if (auto it = p_.find(name); it != p_.end()) return it->second;
        if (Result<double> u = unit_value(name); u) return u;
        return fail(Errc::invalid_argument, "unknown name '" + name + "'");
    }
    // Only the helpers that need no run (round, min, ...), from the query table.
    Result<double> call(const std::string& fn, const std::vector<ExprArg>& args) const override {
        return call_query(nullptr, *this, fn, args);
    }

private:
    const std::map<std::string, double>& p_;
};
}  // namespace

Result<MachineConfig> Lesson::machine_config(const std::map<std::string, double>& values) const {
    MachineConfig c;
    ParamEnv env(values);
    auto bad = [](const std::string& field, const std::string& why) {
        return fail(Errc::invalid_argument, "machine." + field + ": " + why);
    };
    auto bytes = [&](const std::string& field, u64& out) -> Status {
        auto it = machine.find(field);
        if (it == machine.end()) return {};
        Result<double> v = eval_expr(it->second, env);
        if (!v) return bad(field, v.message());
        if (*v < 0 || *v > 1e15) return bad(field, "out of range");
        out = u64(std::llround(*v));
        return {};
    };
    auto choice = [&](const std::string& field, std::initializer_list<const char*> names, int& out) -> Status {
        auto it = machine.find(field);
        if (it == machine.end()) return {};
        int i = 0;
        for (const char* n : names) {
            if (it->second == n) { out = i; return {}; }
            ++i;
        }
        std::string list;
        for (const char* n : names) list += std::string(list.empty() ? "" : ", ") + n;
        // Or an expression giving the index (so that a parameter can choose).
        if (Result<double> v = eval_expr(it->second, env); v && *v >= 0 && *v < double(i) && *v == std::floor(*v)) {
            out = int(*v);
            return {};
        }
        return bad(field, "'" + it->second + "' is not one of " + list + " (or an expression giving its index)");
    };
    auto flag = [&](const std::string& field, bool& out) -> Status {
        auto it = machine.find(field);
        if (it == machine.end()) return {};
        if (it->second == "true" || it->second == "false") {
            out = it->second == "true";
            return {};
        }
        Result<double> v = eval_expr(it->second, env);   // or an expression: nonzero is true
        if (!v) return bad(field, "must be true, false or an expression (" + v.message() + ")");
        out = *v != 0;
        return {};
    };
    if (Status st = bytes("ram", c.ram_bytes); !st) return st;
    if (Status st = bytes("swap", c.swap_bytes); !st) return st;
    if (Status st = bytes("kernel_reserved", c.kernel_reserved_bytes); !st) return st;
    if (Status st = bytes("fault_around", c.fault_around_bytes); !st) return st;
    int thp = int(c.thp), thp_cow = int(c.thp_cow), reuse = int(c.cow_reuse), oc = int(c.overcommit);
    if (Status st = choice("thp", {"always", "madvise", "never"}, thp); !st) return st;
    if (Status st = choice("thp_cow", {"split_pmd", "copy_huge"}, thp_cow); !st) return st;
    if (Status st = choice("cow_reuse", {"exclusive", "always_copy"}, reuse); !st) return st;
    if (Status st = choice("overcommit", {"0", "1", "2"}, oc); !st) return st;
    c.thp = ThpMode(thp);
    c.thp_cow = ThpCow(thp_cow);
    c.cow_reuse = CowReuse(reuse);
    c.overcommit = Overcommit(oc);
    if (Status st = flag("zero_page", c.zero_page); !st) return st;
    if (Status st = flag("thp_zero_page", c.thp_use_zero_page); !st) return st;
    u64 ratio = c.overcommit_ratio, seed = c.seed;
    if (Status st = bytes("overcommit_ratio", ratio); !st) return st;
    if (Status st = bytes("seed", seed); !st) return st;
    if (ratio > 1000) return bad("overcommit_ratio", "above 1000");
    c.overcommit_ratio = u32(ratio);
    c.seed = seed;
    if (Status st = validate(c); !st) return fail(st.err, "machine: " + st.message);
    return c;
}

}  // namespace cow
