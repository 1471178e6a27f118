// Steps run in slices (LessonRun::begin_step / advance) end in the same machine
// as steps run whole: every lesson in lessons/ at default, min and max
// parameters, resumed at every chunk boundary, compared after every step. And a
// copy of a run (a snapshot) is independent of the run it was copied from.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>

#include "engine.h"
#include "report.h"

using namespace cow;

namespace {

// What a learner or a test could read after a step: every figure of the
// step's metrics, what the kernel refused, the narrative, the answers, the
// clock, the event counts and the colour of every frame.
std::string fingerprint(const LessonRun& run, int step) {
    std::ostringstream out;
    out << metrics_json(run.metrics()).dump() << "\n";
    for (const std::string& o : run.outcomes()) out << "outcome " << o << "\n";
    Result<std::string> text = run.narrative(step);
    out << (text ? *text : text.message()) << "\n";
    for (const Checkpoint& cp : run.lesson().steps[size_t(step)].checkpoints) {
        Result<double> v = run.eval(cp.expect);
        out << cp.where << " = " << (v ? std::to_string(*v) : v.message()) << "\n";
    }
    const Machine& m = run.machine();
    out << "t " << m.now_ns() << " events " << m.events().first_seq() + m.events().size() << " used "
        << m.meminfo().used << "\n";
    std::vector<u8> frames;
    fill_frame_map(m, frames);
    out << "frames " << std::hash<std::string>{}(std::string(frames.begin(), frames.end())) << "\n";
    return out.str();
}

Lesson read_lesson(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    Result<Lesson> l = parse_lesson(ss.str(), p.filename().string());
    REQUIRE_MESSAGE(l.ok(), l.message());
    return *l;
}

// Runs the lesson both ways and compares after each step; returns how many
// slices the sliced run took (more slices than steps: something was resumed).
long compare(const Lesson& l, const std::map<std::string, double>& params, const std::string& what) {
    Result<LessonRun> whole = LessonRun::start(l, params), sliced = LessonRun::start(l, params);
    REQUIRE_MESSAGE(whole.ok(), whole.message());
    REQUIRE(sliced.ok());
    long slices = 0;
    const bool small = whole->machine().config().ram_bytes <= 4 * GiB;
    while (!whole->done()) {
        const int i = whole->next_step();
        Status a = whole->step();
        REQUIRE(sliced->begin_step().ok());
        Result<bool> b = false;
        for (b = sliced->advance(Budget::one_chunk()); b.ok() && !*b; b = sliced->advance(Budget::one_chunk())) {
            ++slices;
            CHECK(sliced->in_step());
            const StepProgress pr = sliced->progress();
            CHECK(pr.step == i);
            CHECK((pr.op_fraction >= 0 && pr.op_fraction <= 1));
            if (small) {   // between slices the machine is whole (bigger ones: after each step)
                Status inv = sliced->machine().check_invariants();
                REQUIRE_MESSAGE(inv.ok(), (what + ": " + inv.message));
            }
        }
        ++slices;
        CHECK_MESSAGE(a.ok() == b.ok(), (what + ": step " + std::to_string(i + 1)));
        CHECK_FALSE(sliced->in_step());
        Status inv = sliced->machine().check_invariants();
        REQUIRE_MESSAGE(inv.ok(), (what + ": " + inv.message));
        REQUIRE_MESSAGE(fingerprint(*whole, i) == fingerprint(*sliced, i),
                        (what + ": step " + std::to_string(i + 1) + " differs when sliced"));
    }
    CHECK(sliced->done());
    return slices;
}

}  // namespace

TEST_CASE("every lesson, sliced at every chunk, ends each step as it does run whole") {
    const std::filesystem::path dir = std::filesystem::path(COWLAB_SOURCE_DIR) / "lessons";
    long resumed_lessons = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".json") continue;
        const Lesson l = read_lesson(entry.path());
        long steps = long(l.steps.size());
        compare(l, {}, l.file + " at defaults");
        for (int end = 0; end < 2; ++end) {
            std::map<std::string, double> p;
            for (const LessonParam& lp : l.params) p[lp.name] = end ? lp.max : lp.min;
            const long slices = compare(l, p, l.file + (end ? " at max" : " at min"));
            if (end && slices > steps) ++resumed_lessons;
        }
    }
    // At their maximums most lessons have operations long enough to be cut.
    CHECK(resumed_lessons >= 5);
}

TEST_CASE("a sliced write over many pages stops between chunks and reports how far it got") {
    const char* text = R"({"id": "t", "title": "T", "summary": "s", "level": "intro",
      "machine": {"ram": "1 * GiB"},
      "steps": [{"title": "a", "text": "x", "ops": [
        {"op": "spawn", "as": "p"},
        {"op": "mmap", "pid": "p", "as": "buf", "size": "256 * MiB"},
        {"op": "write", "pid": "p", "region": "buf"},
        {"op": "fork", "pid": "p", "as": "c"},
        {"op": "write", "pid": "c", "region": "buf", "fraction": "0.5"}]}]})";
    Result<Lesson> l = parse_lesson(text, "t.json");
    REQUIRE_MESSAGE(l.ok(), l.message());
    Result<LessonRun> r = LessonRun::start(*l, {});
    REQUIRE(r.ok());
    REQUIRE(r->begin_step().ok());
    CHECK_FALSE(r->begin_step().ok());   // one at a time
    int slices = 0;
    double last = -1;
    bool saw_partial_write = false;
    for (;;) {
        Result<bool> done = r->advance(Budget::one_chunk());
        REQUIRE(done.ok());
        ++slices;
        if (*done) break;
        const StepProgress p = r->progress();
        const double at = p.op + p.op_fraction;
        CHECK(at >= last);   // progress never goes back
        last = at;
        if (p.op == 2 && p.op_fraction > 0 && p.op_fraction < 1) saw_partial_write = true;
    }
    CHECK(saw_partial_write);
    // 65,536 pages in chunks of 4,096 (16 slices), 32,768 random ones (8), the three quick ones, and
    // the fork's 65,536 entries in chunks of 32,768: two more (the VMAs after the budget's end follow
    // in a slice of their own).
    CHECK(slices == 16 + 8 + 3 + 2);
    CHECK(r->machine().smaps_rollup(r->pid_of("c"))->private_dirty == 128 * MiB);
    CHECK_FALSE(r->advance(Budget::one_chunk()).ok());   // the step is over
}

namespace {

// A run's state as a learner could read it, with no step named.
std::string state_print(const LessonRun& run) {
    const Machine& m = run.machine();
    std::ostringstream out;
    out << metrics_json(run.metrics()).dump() << " t " << m.now_ns() << " events " << m.events().total() << " used "
        << m.meminfo().used;
    for (u64 i = 0; i < m.events().size(); i += 97) out << " " << m.events().at(i).frame.v;
    std::vector<u8> frames;
    fill_frame_map(m, frames);
    out << " frames " << std::hash<std::string>{}(std::string(frames.begin(), frames.end()));
    return out.str();
}

// A copy of the run before each step (a snapshot, sharing the machine's
// chunks): the step run on one leaves the other as it was, and run on the
// other too ends the same. Every other step goes on from the copy.
void snapshot_each_step(const Lesson& l, const std::map<std::string, double>& params, const std::string& what) {
    Result<LessonRun> started = LessonRun::start(l, params);
    REQUIRE_MESSAGE(started.ok(), started.message());
    LessonRun run = std::move(*started);
    while (!run.done()) {
        const int i = run.next_step();
        LessonRun copy = run;
        const std::string before = state_print(copy);
        const bool ok = run.step().ok();
        REQUIRE_MESSAGE(state_print(copy) == before, (what + ": step " + std::to_string(i + 1) + " changed a copy made before it"));
        Status inv = copy.machine().check_invariants();
        REQUIRE_MESSAGE(inv.ok(), (what + ": the copy: " + inv.message));
        CHECK(copy.step().ok() == ok);
        inv = copy.machine().check_invariants();
        REQUIRE_MESSAGE(inv.ok(), (what + ": " + inv.message));
        REQUIRE_MESSAGE(fingerprint(copy, i) == fingerprint(run, i),
                        (what + ": step " + std::to_string(i + 1) + " differs when run on a copy"));
        if (i % 2) run = std::move(copy);
    }
}

}  // namespace

TEST_CASE("a copy of a run is a snapshot: a step run on either leaves the other as it was") {
    const std::filesystem::path dir = std::filesystem::path(COWLAB_SOURCE_DIR) / "lessons";
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        if (entry.path().extension() != ".json") continue;
        const Lesson l = read_lesson(entry.path());
        snapshot_each_step(l, {}, l.file + " at defaults");
        std::map<std::string, double> p;
        for (const LessonParam& lp : l.params) p[lp.name] = lp.max;
        snapshot_each_step(l, p, l.file + " at max");
    }
}
