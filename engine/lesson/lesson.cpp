// lesson.cpp: parsing and validating lesson files (operations against the
// operation table, ops.h) and the machine a lesson describes.
#include "lesson.h"

#include "json_reader.h"
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

// ---------------------------------------------------------------- fields (json_reader.h)

// A lesson's strings: a required one may not be empty, and none runs over 4000 characters unless said.
JsonField required(std::size_t max_len = 4000) { return {.required = true, .non_empty = true, .max_len = max_len}; }
JsonField optional(std::size_t max_len = 4000) { return {.max_len = max_len}; }

// A value an operation or machine setting takes: a number, a string expression or a boolean, kept as text.
JsonStatus scalar(const JsonReader& R, const std::string& key, const json& v, std::string& out) {
    if (v.is_string()) out = v.get<std::string>();
    else if (v.is_boolean()) out = v.get<bool>() ? "true" : "false";
    else if (v.is_number_integer()) out = std::to_string(v.get<long long>());
    else if (v.is_number()) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.17g", v.get<double>());
        out = buf;
    } else return R.error(key, std::string("must be a number, a string or a boolean, not ") + v.type_name());
    if (out.size() > 4000) return R.error(key, "longer than 4000 characters");
    return {};
}

const std::vector<std::string> kImageFields = {"name", "text", "rodata", "data", "bss", "heap", "stack", "libs", "warm"};
const std::vector<std::string> kMachineFields = {"ram", "swap", "kernel_reserved", "thp", "thp_cow", "cow_reuse",
                                                 "zero_page", "thp_zero_page", "fault_around", "overcommit", "overcommit_ratio",
                                                 "seed"};

}  // namespace

std::string format_param(const LessonParam& p, double value) {
    if (p.kind == "boolean") return value != 0 ? "on" : "off";
    if (p.kind == "choice" && value >= 0 && value < double(p.choices.size()) && value == std::floor(value))
        return p.choices[size_t(value)];
    if (p.unit == "B") return format_bytes(u64(std::max(0.0, value)));
    return format_value(value * unit_factor(p.unit), p.unit);
}

std::string param_out_of_range(const LessonParam& p, double value) {
    const bool whole = p.kind == "number" || value == std::floor(value);
    if (std::isfinite(value) && value >= p.min && value <= p.max && whole) return "";
    if (p.kind == "boolean") return p.name + " = " + format_number(value) + " is not 0 (off) or 1 (on)";
    if (p.kind == "choice") return p.name + " = " + format_number(value) + " is not a choice: 0 to " + format_number(p.max);
    return p.name + " = " + format_number(value) + " is outside [" + format_number(p.min) + ", " + format_number(p.max) + "]";
}

const LessonParam* Lesson::param(const std::string& name) const {
    for (const LessonParam& p : params)
        if (p.name == name) return &p;
    return nullptr;
}

namespace {

JsonStatus parse_machine(const JsonReader& R, const json& root, std::map<std::string, std::string>& machine) {
    const json* m = nullptr;
    if (JsonStatus st = R.object(root, "machine", m); !st || !m) return st;
    const JsonReader M = R.at("machine");
    for (auto it = m->begin(); it != m->end(); ++it) {
        if (std::find(kMachineFields.begin(), kMachineFields.end(), it.key()) == kMachineFields.end())
            return M.error(it.key(), "unknown setting");
        if (JsonStatus st = scalar(M, it.key(), it.value(), machine[it.key()]); !st) return st;
    }
    return {};
}

JsonStatus parse_strings(const JsonReader& R, const json& o, const char* key, std::vector<std::string>& out);

// A parameter: a number in a range (a slider), a boolean (a checkbox: 0 or 1),
// or a choice among named values (0, 1, ...), whose range is implied.
JsonStatus parse_param(const JsonReader& P, const json& p, const Lesson& L, LessonParam& lp) {
    if (JsonStatus st = P.is_object(p); !st) return st;
    if (JsonStatus st = P.only(p, {"name", "label", "kind", "choices", "unit", "min", "max", "default", "step"}); !st) return st;
    if (JsonStatus st = P.str(p, "name", lp.name, required(40)); !st) return st;
    if (JsonStatus st = P.str(p, "label", lp.label, required(120)); !st) return st;
    if (JsonStatus st = P.str(p, "kind", lp.kind, optional(10)); !st) return st;
    if (lp.kind != "number" && lp.kind != "boolean" && lp.kind != "choice")
        return P.error("kind", "must be \"number\", \"boolean\" or \"choice\"");
    if (JsonStatus st = parse_strings(P, p, "choices", lp.choices); !st) return st;
    if (lp.kind == "choice" && (lp.choices.size() < 2 || lp.choices.size() > 8)) return P.error("choices", "a choice needs 2 to 8 choices");
    if (lp.kind != "choice" && !lp.choices.empty()) return P.error("choices", "only a parameter of kind \"choice\" has choices");
    if (JsonStatus st = P.str(p, "unit", lp.unit, optional(20)); !st) return st;
    const bool ranged = lp.kind == "number";   // else the range is 0 .. the last choice (boolean: 1)
    if (!ranged) {
        lp.max = lp.kind == "boolean" ? 1 : double(lp.choices.size() - 1);
        if (p.contains("min") || p.contains("max") || p.contains("step") || p.contains("unit"))
            return P.error(p.contains("unit") ? "unit" : p.contains("step") ? "step" : p.contains("min") ? "min" : "max",
                           "a " + lp.kind + " has no range, step or unit of its own");
    }
    if (JsonStatus st = P.number(p, "min", lp.min, {.required = ranged}); !st) return st;
    if (JsonStatus st = P.number(p, "max", lp.max, {.required = ranged}); !st) return st;
    if (JsonStatus st = P.number(p, "default", lp.def, kRequired); !st) return st;
    if (JsonStatus st = P.number(p, "step", lp.step); !st) return st;
    if (!(lp.min <= lp.max)) return P.error("min", "is above max");
    if (lp.def < lp.min || lp.def > lp.max) return P.error("default", "is outside [min, max]");
    if (!ranged && lp.def != std::floor(lp.def)) return P.error("default", "must be 0 or 1, or the index of a choice");
    if (!(lp.step > 0)) return P.error("step", "must be positive");
    if (!std::isalpha(static_cast<unsigned char>(lp.name[0]))) return P.error("name", "must start with a letter");
    if (L.param(lp.name)) return P.error("name", "'" + lp.name + "' is defined twice");
    if (!valid_display_unit(lp.unit)) return P.error("unit", "unknown unit '" + lp.unit + "'");
    return {};
}

JsonStatus parse_params(const JsonReader& R, const json& root, Lesson& L) {
    const json* ps = nullptr;
    if (JsonStatus st = R.array(root, "parameters", ps); !st || !ps) return st;
    if (ps->size() > 32) return R.error("parameters", "more than 32 parameters");
    for (std::size_t i = 0; i < ps->size(); ++i) {
        LessonParam lp;
        if (JsonStatus st = parse_param(R.at("parameters", i), (*ps)[i], L, lp); !st) return st;
        L.params.push_back(lp);
    }
    return {};
}

// An operation, checked against the operation table (ops.h); "image" is an object, flattened to "image.*".
JsonStatus parse_op(const JsonReader& O, const json& o, LessonOp& op) {
    if (JsonStatus st = O.is_object(o); !st) return st;
    op.where = O.path();
    if (JsonStatus st = O.str(o, "op", op.op, required(40)); !st) return st;
    const OpSpec* spec = find_op(op.op);
    if (!spec) return O.error("op", "unknown operation '" + op.op + "'");
    for (auto a = o.begin(); a != o.end(); ++a) {
        if (a.key() == "op") continue;
        if (!takes_arg(*spec, a.key())) return O.error(a.key(), "'" + op.op + "' takes no such argument");
        if (a.key() == "image" && a->is_object()) {
            const JsonReader I = O.at("image");
            for (auto f = a->begin(); f != a->end(); ++f) {
                if (std::find(kImageFields.begin(), kImageFields.end(), f.key()) == kImageFields.end())
                    return I.error(f.key(), "unknown image field");
                if (JsonStatus st = scalar(I, f.key(), f.value(), op.args["image." + f.key()]); !st) return st;
            }
            op.args["image"] = "{}";
            continue;
        }
        if (JsonStatus st = scalar(O, a.key(), a.value(), op.args[a.key()]); !st) return st;
    }
    for (const OpArg& r : spec->args)
        if (r.required && !op.args.count(r.name)) return O.error(r.name, "missing (required by '" + op.op + "')");
    return {};
}

// An array of strings: a checkpoint's choices, a step's show list (absent: out stays empty).
JsonStatus parse_strings(const JsonReader& R, const json& o, const char* key, std::vector<std::string>& out) {
    const json* a = nullptr;
    if (JsonStatus st = R.array(o, key, a); !st || !a) return st;
    for (const json& x : *a) {
        if (!x.is_string()) return R.error(key, "must hold strings");
        out.push_back(x.get<std::string>());
    }
    return {};
}

JsonStatus parse_checkpoint(const JsonReader& C, const json& c, Checkpoint& cp) {
    if (JsonStatus st = C.is_object(c); !st) return st;
    if (JsonStatus st = C.only(c, {"question", "kind", "expect", "unit", "tolerance", "choices", "explain", "golden"}); !st) return st;
    cp.where = C.path();
    if (JsonStatus st = C.str(c, "question", cp.question, required()); !st) return st;
    if (JsonStatus st = C.str(c, "kind", cp.kind, required(10)); !st) return st;
    if (cp.kind != "number" && cp.kind != "choice") return C.error("kind", "must be \"number\" or \"choice\"");
    if (JsonStatus st = C.str(c, "expect", cp.expect, required(400)); !st) return st;
    if (JsonStatus st = C.str(c, "unit", cp.unit, optional(20)); !st) return st;
    if (!valid_display_unit(cp.unit)) return C.error("unit", "unknown unit '" + cp.unit + "'");
    if (JsonStatus st = C.number(c, "tolerance", cp.tolerance); !st) return st;
    if (cp.tolerance < 0 || cp.tolerance > 1) return C.error("tolerance", "must be a fraction in [0, 1]");
    if (JsonStatus st = C.str(c, "explain", cp.explain, required()); !st) return st;
    if (JsonStatus st = C.number(c, "golden", cp.golden); !st) return st;
    cp.has_golden = c.contains("golden");
    if (JsonStatus st = parse_strings(C, c, "choices", cp.choices); !st) return st;
    if (c.contains("choices") && (cp.choices.size() < 2 || cp.choices.size() > 8))
        return C.error("choices", "must be an array of 2 to 8 strings");
    if (cp.kind == "choice" && cp.choices.empty()) return C.error("choices", "missing (required for a choice)");
    if (cp.kind == "number" && !cp.choices.empty()) return C.error("choices", "a number checkpoint has no choices");
    return {};
}

JsonStatus parse_mapping(const JsonReader& S, const json& s, std::optional<MappingSpec>& out) {
    const json* m = nullptr;
    if (JsonStatus st = S.object(s, "mapping", m); !st || !m) return st;
    const JsonReader M = S.at("mapping");
    if (JsonStatus st = M.only(*m, {"region", "processes", "pages"}); !st) return st;
    MappingSpec spec;
    if (JsonStatus st = M.str(*m, "region", spec.region, required(40)); !st) return st;
    if (!m->contains("processes")) return M.error("processes", "missing (required)");
    if (JsonStatus st = parse_strings(M, *m, "processes", spec.processes); !st) return st;
    if (spec.processes.empty() || spec.processes.size() > kMaxMappingPids)
        return M.error("processes", "must name 1 to 8 processes");
    double pages = 0;
    if (JsonStatus st = M.number(*m, "pages", pages); !st) return st;
    if (pages < 0 || pages > double(u64{1} << 36) || pages != std::floor(pages))
        return M.error("pages", "must be a whole number of pages, 0 (all) to 2^36");
    spec.pages = u64(pages);
    out = std::move(spec);
    return {};
}

JsonStatus parse_step(const JsonReader& S, const json& s, LessonStep& step) {
    if (JsonStatus st = S.is_object(s); !st) return st;
    if (JsonStatus st = S.only(s, {"title", "setup", "text", "ops", "checkpoints", "show", "mapping"}); !st) return st;
    if (JsonStatus st = parse_mapping(S, s, step.mapping); !st) return st;
    if (JsonStatus st = S.str(s, "title", step.title, required(200)); !st) return st;
    if (JsonStatus st = S.str(s, "text", step.text, required(8000)); !st) return st;
    if (JsonStatus st = S.str(s, "setup", step.setup, optional(4000)); !st) return st;
    if (step.setup.find('{') != std::string::npos)   // shown before the step runs: there is nothing to fill in yet
        return S.error("setup", "takes no {expr}: it is shown before the step runs");
    const json* ops = nullptr;
    if (JsonStatus st = S.array(s, "ops", ops); !st) return st;
    if (ops && ops->size() > 1000) return S.error("ops", "more than 1000 operations");
    for (std::size_t k = 0; ops && k < ops->size(); ++k) {
        LessonOp op;
        if (JsonStatus st = parse_op(S.at("ops", k), (*ops)[k], op); !st) return st;
        step.ops.push_back(std::move(op));
    }
    const json* cps = nullptr;
    if (JsonStatus st = S.array(s, "checkpoints", cps); !st) return st;
    for (std::size_t k = 0; cps && k < cps->size(); ++k) {
        Checkpoint cp;
        if (JsonStatus st = parse_checkpoint(S.at("checkpoints", k), (*cps)[k], cp); !st) return st;
        step.checkpoints.push_back(std::move(cp));
    }
    return parse_strings(S, s, "show", step.show);
}

// The fields of a lesson file; the machine stays text, evaluated when the lesson starts (it may use parameters).
JsonStatus read_lesson(const JsonReader& R, const json& root, Lesson& L) {
    if (!root.is_object()) return R.error("(top level)", "must be an object");
    if (JsonStatus st = R.only(root, {"$schema", "id", "title", "summary", "level", "order", "machine", "parameters", "steps"}); !st) return st;
    if (JsonStatus st = R.str(root, "id", L.id, required(64)); !st) return st;
    for (char c : L.id)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_'))
            return R.error("id", "use letters, digits, '-' and '_' only");
    if (JsonStatus st = R.str(root, "title", L.title, required(200)); !st) return st;
    if (JsonStatus st = R.str(root, "summary", L.summary, required()); !st) return st;
    if (JsonStatus st = R.str(root, "level", L.level, optional(40)); !st) return st;
    if (JsonStatus st = R.whole(root, "order", L.order); !st) return st;
    if (JsonStatus st = parse_machine(R, root, L.machine); !st) return st;
    if (JsonStatus st = parse_params(R, root, L); !st) return st;
    const json* steps = nullptr;
    if (JsonStatus st = R.array(root, "steps", steps, {.required = true, .non_empty = true}); !st) return st;
    if (steps->size() > 200) return R.error("steps", "more than 200 steps");
    for (std::size_t i = 0; i < steps->size(); ++i) {
        LessonStep step;
        if (JsonStatus st = parse_step(R.at("steps", i), (*steps)[i], step); !st) return st;
        L.steps.push_back(std::move(step));
    }
    return {};
}

}  // namespace

Result<Lesson> parse_lesson(const std::string& text, const std::string& file) {
    const JsonReader R(JsonStyle::path, file);
    if (text.size() > 4 * 1024 * 1024) return fail(Errc::invalid_argument, R.error("(file)", "larger than 4 MiB").message);
    json root = json::parse(text, nullptr, false);
    if (root.is_discarded()) {
        ErrorLocator loc;
        json::sax_parse(text, &loc);
        return fail(Errc::invalid_argument, file + ": " + line_col(text, loc.position) + ": " +
                                                strip_json_prefix(loc.message));
    }
    Lesson L;
    L.file = file;
    if (JsonStatus st = read_lesson(R, root, L); !st) return fail(Errc::invalid_argument, st.message);

    // The machine must be valid with the parameters at their defaults.
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
