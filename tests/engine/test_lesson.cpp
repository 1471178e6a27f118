// Lesson files: the expression language, the loader's errors, and every
// lesson in lessons/ run to the end with the machine's invariants checked.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "docs.h"
#include "lab.h"
#include "ops.h"
#include "queries.h"

using namespace test;

namespace {

struct NoNames : ExprEnv {
    Result<double> lookup(const std::string& n) const override {
        if (n == "x") return 6.0;
        return unit_value(n);
    }
    Result<double> call(const std::string& fn, const std::vector<ExprArg>& a) const override {
        if (fn == "twice" && a.size() == 1 && !a[0].is_name) return 2 * a[0].value;
        if (fn == "named" && a.size() == 1 && a[0].is_name) return double(a[0].name.size());
        return fail(Errc::invalid_argument, "no function " + fn);
    }
};

double ev(const std::string& s) {
    Result<double> r = eval_expr(s, NoNames{});
    REQUIRE_MESSAGE(r.ok(), r.message());
    return *r;
}

std::string err(const std::string& s) {
    Result<double> r = eval_expr(s, NoNames{});
    REQUIRE(!r.ok());
    return r.message();
}

const char* kMinimal = R"({
  "id": "t", "title": "T", "summary": "S",
  "parameters": [{"name": "n", "label": "N", "min": 1, "max": 10, "default": 2}],
  "steps": [{"title": "one", "text": "n is {n}", "ops": [
     {"op": "spawn", "as": "p", "image": {"name": "x", "warm": false}},
     {"op": "mmap", "pid": "p", "as": "buf", "size": "n * MiB"},
     {"op": "write", "pid": "p", "region": "buf"}]}]
})";

std::string with(std::string text, const std::string& from, const std::string& to) {
    size_t at = text.find(from);
    REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
}

std::string parse_error(const std::string& text) {
    Result<Lesson> l = parse_lesson(text, "bad.json");
    REQUIRE(!l.ok());
    return l.message();
}

}  // namespace

TEST_CASE("lesson expressions: arithmetic, units, names and calls") {
    CHECK(ev("1 + 2 * 3") == 7);
    CHECK(ev("(1 + 2) * 3") == 9);
    CHECK(ev("4 * MiB") == 4194304);
    CHECK(ev("x / 4") == 1.5);
    CHECK(ev("-x + 10 % 4") == -4);
    CHECK(ev("twice(x + 1)") == 14);
    CHECK(ev("named(child)") == 5);
    CHECK(ev("1.5e3") == 1500);
    CHECK(err("1 / 0").find("division by zero") != std::string::npos);
    CHECK(err("2 +").find("expected a value") != std::string::npos);
    CHECK(err("(1").find("expected ')'") != std::string::npos);
    CHECK(err("y * 2").find("unknown name 'y'") != std::string::npos);
    CHECK(err("1 2").find("unexpected '2'") != std::string::npos);
    CHECK(err(std::string(200, '(') + "1" + std::string(200, ')')).find("nested too deeply") != std::string::npos);
    CHECK(!eval_expr(std::string(5000, '1'), NoNames{}).ok());
}

TEST_CASE("the calls an expression makes, in every branch: what a checkpoint asks") {
    auto names = [](const std::string& text) {
        std::string out;
        for (const ExprCall& c : calls_in(text)) {
            out += c.fn + "(";
            for (const ExprArg& a : c.args) out += (a.is_name ? a.name : std::to_string(int(a.value))) + ",";
            out += ") ";
        }
        return out;
    };
    CHECK(names("ifelse(gt(cow_copies(parent), 0), 1, 0)") == "cow_copies(parent,) gt(1,0,) ifelse(1,1,0,) ");
    CHECK(names("pss(child, bss) / KiB") == "pss(child,bss,) ");
    CHECK(names("lt(used_delta(), size(bss, parent) / 4)") == "used_delta() size(bss,parent,) lt(1,0,) ");
    CHECK(names("ints * 4").empty());
    CHECK(names("rss(a) + (").find("rss(a,)") == 0);   // up to the error
}

TEST_CASE("a minimal lesson runs, and its parameters are checked against their range") {
    Result<Lesson> l = parse_lesson(kMinimal, "t.json");
    REQUIRE_MESSAGE(l.ok(), l.message());
    Result<LessonRun> run = LessonRun::start(*l, {{"n", 3}});
    REQUIRE(run.ok());
    REQUIRE(run->step().ok());
    CHECK(run->done());
    CHECK(*run->narrative(0) == "n is 3");
    CHECK(*run->eval("rss(p, buf)") == 3 * MiB);
    CHECK(LessonRun::start(*l, {{"n", 11}}).message() == "t.json: parameter n = 11 is outside [1, 10]");
    CHECK(LessonRun::start(*l, {{"m", 1}}).message() == "t.json: no parameter 'm'");
}

TEST_CASE("a parameter is a number in a range, a boolean or a choice; the last two imply their range") {
    const std::string params = R"("parameters": [{"name": "n", "label": "N", "min": 1, "max": 10, "default": 2},
        {"name": "thp", "label": "THP", "kind": "boolean", "default": 1},
        {"name": "mode", "label": "mode", "kind": "choice", "choices": ["0 heuristic", "1 always", "2 never"], "default": 0}],)";
    const std::string text = with(kMinimal, R"("parameters": [{"name": "n", "label": "N", "min": 1, "max": 10, "default": 2}],)", params);
    Result<Lesson> l = parse_lesson(text, "t.json");
    REQUIRE_MESSAGE(l.ok(), l.message());
    const LessonParam& thp = *l->param("thp");
    const LessonParam& mode = *l->param("mode");
    CHECK(thp.max == 1);
    CHECK(mode.max == 2);
    CHECK(format_param(thp, 1) == "on");
    CHECK(format_param(mode, 2) == "2 never");
    CHECK(format_param(*l->param("n"), 1000000) == "1,000,000");
    CHECK(param_out_of_range(mode, 1).empty());
    CHECK(param_out_of_range(mode, 1.5) == "mode = 1.5 is not a choice: 0 to 2");
    CHECK(param_out_of_range(thp, 2) == "thp = 2 is not 0 (off) or 1 (on)");
    CHECK(LessonRun::start(*l, {{"mode", 3}}).message() == "t.json: parameter mode = 3 is not a choice: 0 to 2");
    auto bad = [&](const std::string& from, const std::string& to) { return parse_error(with(text, from, to)); };
    CHECK(bad(R"("kind": "boolean")", R"("kind": "toggle")") == R"(bad.json: parameters[1].kind: must be "number", "boolean" or "choice")");
    CHECK(bad(R"(["0 heuristic", "1 always", "2 never"])", R"(["only"])") == "bad.json: parameters[2].choices: a choice needs 2 to 8 choices");
    CHECK(bad(R"("kind": "boolean", "default": 1)", R"("kind": "boolean", "max": 3, "default": 1)") ==
          "bad.json: parameters[1].max: a boolean has no range, step or unit of its own");
    CHECK(bad(R"("kind": "boolean", "default": 1)", R"("kind": "boolean", "default": 0.5)") ==
          "bad.json: parameters[1].default: must be 0 or 1, or the index of a choice");
}

TEST_CASE("broken lesson files give the file, the field and the reason") {
    CHECK(parse_error("{\"id\": \"t\",\n \"title\": }") .find("bad.json: line 2, column 11: syntax error") == 0);
    CHECK(parse_error(with(kMinimal, "\"op\": \"write\"", "\"op\": \"scribble\"")) ==
          "bad.json: steps[0].ops[2].op: unknown operation 'scribble'");
    CHECK(parse_error(with(kMinimal, "\"title\": \"T\", ", "")) == "bad.json: title: missing (required)");
    CHECK(parse_error(with(kMinimal, R"("title": "one",)", R"("title": "one", "setup": "n is {n}",)")) ==
          "bad.json: steps[0].setup: takes no {expr}: it is shown before the step runs");
    CHECK(parse_lesson(with(kMinimal, R"("title": "one",)", R"("title": "one", "setup": "Context.",)"), "t.json")->steps[0].setup == "Context.");
    CHECK(parse_error(with(kMinimal, "\"default\": 2", "\"default\": \"two\"")) ==
          "bad.json: parameters[0].default: must be a number, not string");
    CHECK(parse_error(with(kMinimal, "\"default\": 2", "\"default\": 20")) ==
          "bad.json: parameters[0].default: is outside [min, max]");
    CHECK(parse_error(with(kMinimal, "\"as\": \"buf\", ", "")) ==
          "bad.json: steps[0].ops[1].as: missing (required by 'mmap')");
    CHECK(parse_error(with(kMinimal, "\"region\": \"buf\"}", "\"region\": \"buf\", \"colour\": 3}")) ==
          "bad.json: steps[0].ops[2].colour: 'write' takes no such argument");
    CHECK(parse_error(with(kMinimal, "\"id\": \"t\",", "\"id\": \"t\", \"machine\": {\"ram\": \"1024 * GiB\"},"))
              .find("bad.json: machine: ram_bytes: 1 TiB is outside") == 0);
    CHECK(parse_error(with(kMinimal, "\"id\": \"t\",", "\"id\": \"t\", \"machine\": {\"thp\": \"sometimes\"},"))
              .find("machine.thp: 'sometimes' is not one of always, madvise, never") != std::string::npos);
    CHECK(parse_error("[1, 2]") == "bad.json: (top level): must be an object");
    CHECK(parse_error(with(kMinimal, "\"steps\": [", "\"steps\": [], \"x\": [")) == "bad.json: x: unknown field");
}

TEST_CASE("errors met while running name the operation; engine refusals are outcomes, not errors") {
    Result<Lesson> l = parse_lesson(with(kMinimal, "\"size\": \"n * MiB\"", "\"size\": \"n * nope\""), "t.json");
    REQUIRE(l.ok());
    Result<LessonRun> run = LessonRun::start(*l, {});
    Status st = run->step();
    CHECK(st.message.find("t.json: steps[0].ops[1] (mmap): size: ") == 0);
    CHECK(st.message.find("unknown name 'nope'") != std::string::npos);

    Result<Lesson> huge = parse_lesson(with(kMinimal, "\"size\": \"n * MiB\"", "\"size\": \"n * 1000 * TiB\""), "t.json");
    Result<LessonRun> r2 = LessonRun::start(*huge, {});
    Status st2 = r2->step();
    CHECK(st2.message.find("steps[0].ops[2] (write): region: no region named 'buf'") != std::string::npos);
    REQUIRE(r2->outcomes().size() == 1);
    CHECK(r2->outcomes()[0].find("is above the model's 64 TiB") != std::string::npos);
    Status check = r2->machine().check_invariants();
    CHECK_MESSAGE(check.ok(), check.message);
}

TEST_CASE("every lesson in lessons/ loads, runs to the end, and its checkpoints evaluate") {
    const std::filesystem::path dir = std::filesystem::path(COWLAB_SOURCE_DIR) / "lessons";
    int lessons = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".json") continue;
        ++lessons;
        std::ifstream in(entry.path());
        std::stringstream ss;
        ss << in.rdbuf();
        Result<Lesson> l = parse_lesson(ss.str(), entry.path().filename().string());
        REQUIRE_MESSAGE(l.ok(), l.message());
        CHECK(l->steps.size() >= 2);
        int checkpoints = 0;
        for (const LessonStep& s : l->steps) checkpoints += int(s.checkpoints.size());
        CHECK_MESSAGE(checkpoints >= 2, (l->file));
        Result<LessonRun> run = LessonRun::start(*l, {});
        REQUIRE_MESSAGE(run.ok(), run.message());
        while (!run->done()) {
            const int i = run->next_step();
            Status st = run->step();
            REQUIRE_MESSAGE(st.ok(), st.message);
            Status inv = run->machine().check_invariants();
            REQUIRE_MESSAGE(inv.ok(), (l->file + ": " + inv.message));
            Result<std::string> text = run->narrative(i);
            REQUIRE_MESSAGE(text.ok(), text.message());
            for (const Checkpoint& cp : l->steps[size_t(i)].checkpoints) {
                Result<double> v = run->eval(cp.expect);
                REQUIRE_MESSAGE(v.ok(), (l->file + ": " + v.message()));
                if (cp.has_golden) CHECK_MESSAGE(*v == doctest::Approx(cp.golden), (l->file + ": " + cp.where));
            }
        }
        // Every parameter at its minimum and at its maximum runs too.
        for (int end = 0; end < 2; ++end) {
            std::map<std::string, double> p;
            for (const LessonParam& lp : l->params) p[lp.name] = end ? lp.max : lp.min;
            Result<LessonRun> r = LessonRun::start(*l, p);
            REQUIRE_MESSAGE(r.ok(), r.message());
            while (!r->done()) {
                const int i = r->next_step();
                Status st = r->step();
                REQUIRE_MESSAGE(st.ok(), (l->file + (end ? " at max: " : " at min: ") + st.message));
                Status inv = r->machine().check_invariants();
                REQUIRE_MESSAGE(inv.ok(), inv.message);
                (void)i;
            }
        }
    }
    CHECK(lessons >= 6);
}

TEST_CASE("lessons/README.md lists exactly the operation table, the query functions and the units") {
    const std::filesystem::path readme = std::filesystem::path(COWLAB_SOURCE_DIR) / "lessons" / "README.md";
    std::ifstream in(readme, std::ios::binary);
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    Result<std::string> generated = with_generated_docs(ss.str());
    REQUIRE_MESSAGE(generated.ok(), generated.message());
    CHECK_MESSAGE(*generated == ss.str(), "lessons/README.md is out of date: run build/native/cowlab lesson docs lessons/README.md");
    for (const OpSpec& op : op_table()) {
        CHECK_MESSAGE(ss.str().find(std::string("`") + op.name + "`") != std::string::npos, op.name);
        CHECK_MESSAGE(std::string(op.doc).size() > 3, op.name);
        CHECK(bool(op.run));
    }
    for (const QuerySpec& q : query_table()) CHECK_MESSAGE(ss.str().find("`" + q.name + "`") != std::string::npos, q.name);
    CHECK(with_generated_docs("no markers").message().find("no markers for the generated operations") == 0);
}

TEST_CASE("the loader checks each operation's arguments against the operation table") {
    for (const OpSpec& op : op_table()) {
        // Every argument the table names is accepted; leaving out a required one is refused, naming it.
        std::string args;
        for (const OpArg& a : op.args) args += std::string(", \"") + a.name + "\": " + (std::string(a.name) == "image" ? "{}" : "\"1\"");
        const std::string write = "{\"op\": \"write\", \"pid\": \"p\", \"region\": \"buf\"}";
        const std::string all = with(kMinimal, write, std::string("{\"op\": \"") + op.name + "\"" + args + "}");
        Result<Lesson> l = parse_lesson(all, "t.json");
        CHECK_MESSAGE(l.ok(), (op.name + std::string(": ") + l.message()));
        CHECK(parse_error(with(kMinimal, write, std::string("{\"op\": \"") + op.name + "\"" + args + ", \"nope\": 1}")) ==
              "bad.json: steps[0].ops[2].nope: '" + std::string(op.name) + "' takes no such argument");
        for (const OpArg& a : op.args) {
            if (!a.required) continue;
            const std::string key = std::string(", \"") + a.name + "\": \"1\"";
            CHECK(parse_error(with(all, key, "")) ==
                  "bad.json: steps[0].ops[2]." + std::string(a.name) + ": missing (required by '" + op.name + "')");
        }
    }
}

TEST_CASE("query functions check their argument counts; machine settings may use only the pure helpers") {
    Result<Lesson> l = parse_lesson(kMinimal, "t.json");
    REQUIRE(l.ok());
    Result<LessonRun> run = LessonRun::start(*l, {});
    REQUIRE(run.ok());
    REQUIRE(run->step().ok());
    CHECK(*run->eval("max(2, n * 3)") == 6);
    CHECK(*run->eval("ifelse(gt(rss(p, buf), MiB), 1, 0)") == 1);
    CHECK(*run->eval("total(rss, p, buf)") == *run->eval("rss(p, buf)"));
    CHECK(*run->eval("count(p)") == 1);
    auto says = [&](const std::string& e, const std::string& why) {
        const std::string m = run->eval(e).message();
        CHECK_MESSAGE(m.find(why) != std::string::npos, m);
    };
    says("rss()", "rss() takes 1 to 2 arguments");
    says("round(1, 2)", "round() takes 1 arguments");
    says("frobnicate(p)", "unknown function 'frobnicate'");
    says("rss(q)", "rss(): no process named 'q'");
    CHECK(parse_error(with(kMinimal, "\"id\": \"t\",", "\"id\": \"t\", \"machine\": {\"ram\": \"max(n, 1) * rss(p) \"},"))
              .find("'rss' cannot be used here (only min, max, round") != std::string::npos);
    Result<Lesson> ok = parse_lesson(with(kMinimal, "\"id\": \"t\",", "\"id\": \"t\", \"machine\": {\"ram\": \"max(n, 1) * 256 * MiB\"},"), "t.json");
    CHECK_MESSAGE(ok.ok(), ok.message());
}

TEST_CASE("a step's mapping spec is checked when read, and resolved against the run after the step") {
    const std::string step = "\"title\": \"one\",";
    auto spec = [&](const std::string& m) { return with(kMinimal, step, step + " \"mapping\": " + m + ","); };
    CHECK(parse_error(spec(R"({"region": "buf"})")) == "bad.json: steps[0].mapping.processes: missing (required)");
    CHECK(parse_error(spec(R"({"region": "buf", "processes": []})")) ==
          "bad.json: steps[0].mapping.processes: must name 1 to 8 processes");
    CHECK(parse_error(spec(R"({"region": "buf", "processes": ["p"], "pages": -1})")) ==
          "bad.json: steps[0].mapping.pages: must be a whole number of pages, 0 (all) to 2^36");
    CHECK(parse_error(spec(R"({"region": "buf", "processes": ["p"], "zoom": 2})")) == "bad.json: steps[0].mapping.zoom: unknown field");
    CHECK(parse_error(spec(R"({"processes": ["p"]})")) == "bad.json: steps[0].mapping.region: missing (required)");

    Result<Lesson> l = parse_lesson(spec(R"({"region": "buf", "processes": ["p"], "pages": 8})"), "t.json");
    REQUIRE_MESSAGE(l.ok(), l.message());
    REQUIRE(l->steps[0].mapping);
    LessonRun run = std::move(LessonRun::start(*l, {}).value());
    REQUIRE(run.step().ok());
    Result<LessonRun::MappingView> v = run.mapping_view(*l->steps[0].mapping);
    REQUIRE_MESSAGE(v.ok(), v.message());
    CHECK(v->names == std::vector<std::string>{"p"});
    CHECK(v->region_to - v->region_from == 2 * MiB);
    CHECK(v->to - v->region_from == 8 * kPageSize);
    Result<Mapping> m = run.machine().mapping({v->pids, v->region_from, v->to});
    REQUIRE(m.ok());
    CHECK(m->row.size() == 8);

    MappingSpec nobody{"buf", {"q"}, 0}, nowhere{"elsewhere", {"p"}, 0};
    CHECK(run.mapping_view(nobody).message() == "mapping: no process named 'q'");
    CHECK(run.mapping_view(nowhere).message().find("mapping: region 'elsewhere'") == 0);
}
