// The Player (engine/lesson/player.h): a lesson as the lab plays it, with no
// window: steps, predictions, the reveal, parameters, history, errors.
#include "lab.h"
#include "player.h"
#include "report.h"
#include "redis.h"

using namespace test;

namespace {

const char* kLesson = R"L({
  "id": "t", "title": "T", "summary": "S",
  "parameters": [{"name": "n", "label": "N", "min": 1, "max": 10, "default": 2},
                 {"name": "k", "label": "pages written", "min": 1, "max": 5, "default": 1}],
  "steps": [
    {"title": "map", "text": "{n} MiB", "ops": [
       {"op": "spawn", "as": "p", "image": {"name": "x", "warm": false}},
       {"op": "mmap", "pid": "p", "as": "buf", "size": "n * MiB"},
       {"op": "write", "pid": "p", "region": "buf"}],
     "checkpoints": [{"question": "Rss of buf?", "kind": "number", "unit": "MiB", "tolerance": 0.1,
                      "expect": "rss(p, buf)", "explain": "All written."}]},
    {"title": "fork", "text": "forked", "ops": [{"op": "fork", "pid": "p", "as": "child"}]},
    {"title": "write", "text": "{cow_copies(child)} copied", "ops": [{"op": "write", "pid": "child", "region": "buf", "pages": "k"}],
     "checkpoints": [{"question": "Copied?", "kind": "choice", "choices": ["No", "Yes"],
                      "expect": "ifelse(gt(cow_copies(child), 0), 1, 0)", "explain": "One page."}]}
  ]})L";

Player player() { return Player({{"lessons/t.json", kLesson}, {"lessons/broken.json", "{"}}); }

}  // namespace

TEST_CASE("the player lists and loads the lessons of its catalogue; a bad one changes nothing") {
    Player P = player();
    std::vector<LessonInfo> infos = lesson_infos(P.lessons());
    REQUIRE(infos.size() == 1);   // the broken one is left out
    CHECK(infos[0].id == "t");
    {   // the course's order: by "order", those without one last
        auto lesson = [](const char* id, const char* order) {
            return std::string(R"({"id": ")") + id + R"(", "title": "T", "summary": "S", )" + order +
                   R"("steps": [{"title": "a", "text": "x", "ops": []}]})";
        };
        const std::vector<LessonInfo> course = lesson_infos({{"a.json", lesson("a", "")}, {"b.json", lesson("b", R"("order": 2,)")},
                                                             {"c.json", lesson("c", R"("order": 1,)")}});
        REQUIRE(course.size() == 3);
        CHECK(course[0].id == "c");
        CHECK(course[1].id == "b");
        CHECK(course[2].id == "a");
        CHECK(course[1].order == 2);
    }
    CHECK(!P.loaded());
    CHECK(P.next().message == "no lesson is loaded");
    CHECK(P.load("nope", {}).message == "no lesson 'nope'");
    REQUIRE(P.load("t", {}).ok());
    CHECK(P.current() == 0);
    CHECK(!P.ran());   // it asks first
    CHECK(P.params().at("n") == 2);

    const long v = P.version();
    CHECK(!P.load("t", {{"n", 11}}).ok());
    CHECK(P.load("t", {}, 7).message == "lesson t has steps 1 to 3, not 8");
    CHECK(!P.load_text("{\"id\": 1}", "bad.json", {}).ok());
    CHECK(!P.load_text("not json", "bad.json", {}).ok());
    CHECK(P.version() == v);
    CHECK(P.lesson().id == "t");
    CHECK(P.current() == 0);
}

TEST_CASE("predict, then reveal: answers are graded against the engine's") {
    Player P = player();
    REQUIRE(P.load("t", {}).ok());
    CHECK(P.answer(1, 0).message == "step 1 has no checkpoint 2");
    REQUIRE(P.answer(0, 2.1 * double(MiB)).ok());   // within 10%
    CHECK(P.checkpoints()[0].has_guess);
    CHECK(!P.checkpoints()[0].revealed);
    CHECK(P.narrative().empty());
    REQUIRE(P.next().ok());
    CHECK(P.ran());
    const Player::CheckpointView c = P.checkpoints()[0];
    CHECK(c.revealed);
    CHECK(c.answer == 2.0 * double(MiB));
    CHECK(c.answer_text == "2 MiB");
    CHECK(c.right);
    CHECK(P.narrative() == "2 MiB");
    CHECK(P.answer(0, 1).message == "this step has already run: its answers are shown");

    REQUIRE(P.next().ok());   // the fork asks nothing: it runs at once
    CHECK(P.current() == 1);
    CHECK(P.ran());
    REQUIRE(P.next().ok());
    CHECK(P.answer(0, 2).message == "choose 1 to 2");
    REQUIRE(P.answer(0, 0).ok());   // "No": wrong
    REQUIRE(P.next().ok());
    CHECK(P.checkpoints()[0].answer_text == "Yes");
    CHECK(!P.checkpoints()[0].right);
    CHECK(P.at_end());
    CHECK(P.next().message == "this is the last step");
    CHECK(P.narrative() == "1 copied");
    Status inv = P.run().machine().check_invariants();
    CHECK_MESSAGE(inv.ok(), inv.message);

    // The grading rule itself.
    const Checkpoint& num = P.lesson().steps[0].checkpoints[0];
    CHECK(grade(num, 110, 100));
    CHECK(!grade(num, 111, 100));
    CHECK(grade(P.lesson().steps[2].checkpoints[0], 1, 1));
    CHECK(!grade(P.lesson().steps[2].checkpoints[0], 0, 1));
}

TEST_CASE("guesses are kept across back, reset and parameter changes; one made for other values is not graded") {
    Player P = player();
    REQUIRE(P.load("t", {}).ok());
    REQUIRE(P.answer(0, 2.0 * double(MiB)).ok());
    REQUIRE(P.withdraw(0).ok());   // taken back before the step ran
    CHECK(!P.checkpoints()[0].has_guess);
    REQUIRE(P.answer(0, 0).ok());   // 0 is a guess like any other
    CHECK(P.checkpoints()[0].has_guess);
    CHECK(P.checkpoints()[0].guess_text == "0 MiB");
    REQUIRE(P.answer(0, 2.0 * double(MiB)).ok());
    REQUIRE(P.next().ok());
    CHECK(P.checkpoints()[0].right);
    CHECK(P.withdraw(0).message == "this step has already run: its answers are shown");
    REQUIRE(P.next().ok());   // the fork
    REQUIRE(P.next().ok());
    REQUIRE(P.answer(0, 1).ok());   // "Yes"

    // Back, reset, go_to: the guesses stay.
    REQUIRE(P.back().ok());
    REQUIRE(P.back().ok());
    CHECK(P.current() == 0);
    CHECK(P.checkpoints()[0].has_guess);
    CHECK(P.checkpoints()[0].right);
    REQUIRE(P.reset().ok());
    CHECK(!P.ran());
    CHECK(P.checkpoints()[0].guess == 2.0 * double(MiB));
    REQUIRE(P.go_to(2).ok());
    CHECK(P.checkpoints()[0].guess == 1);

    // k is read by step 3 only: the guess of step 1 is still for these values, step 3's is not.
    REQUIRE(P.set_param("k", 2).ok());
    REQUIRE(P.next().ok());
    Player::CheckpointView c = P.checkpoints()[0];
    CHECK(c.has_guess);
    CHECK(c.for_other_values);
    CHECK(c.guess_params == "pages written = 1");
    CHECK(c.answer == 1);
    CHECK(!c.right);   // the right choice, but for another machine
    REQUIRE(P.go_to(0).ok());
    REQUIRE(P.next().ok());
    CHECK(!P.checkpoints()[0].for_other_values);
    CHECK(P.checkpoints()[0].right);
    // n is read from step 1 on: every guess was for other values.
    REQUIRE(P.set_param("n", 3).ok());
    CHECK(P.checkpoints()[0].for_other_values);
    CHECK(P.checkpoints()[0].guess_params == "N = 2");
    // Set back, the guesses are for these values again.
    REQUIRE(P.set_param("n", 2).ok());
    CHECK(P.checkpoints()[0].right);

    // Another lesson forgets them.
    REQUIRE(P.load("t", {}).ok());
    CHECK(!P.checkpoints()[0].has_guess);
}

TEST_CASE("what a step asks is kept off the screen until it has run; the recap scores the lesson") {
    Player P = player();
    REQUIRE(P.load("t", {}).ok());
    std::vector<Player::Asked> a = P.asked();
    REQUIRE(a.size() == 1);
    CHECK(a[0].fn == "rss");
    CHECK(a[0].process == "p");
    CHECK(P.hides("rss", "p"));
    CHECK(!P.hides("rss", "child"));
    CHECK(!P.hides("pss", "p"));
    const nlohmann::json s = P.state();
    CHECK(s["asked"][0]["fn"] == "rss");
    REQUIRE(P.next().ok());
    CHECK(P.asked().empty());   // revealed
    CHECK(!P.hides("rss", "p"));
    REQUIRE(P.next().ok());
    REQUIRE(P.next().ok());
    CHECK(P.hides("cow_copies", "child"));   // inside ifelse(gt(...))
    // total(fn, prefix): every process whose name starts with it.
    const Player::Asked t{"rss", "w", true};
    CHECK(t.covers("rss", "w3"));
    CHECK(!t.covers("rss", "parent"));

    Player::Recap r = P.recap();
    CHECK(r.asked == 2);
    CHECK(r.guessed == 0);
    CHECK(r.revealed == 1);   // step 1 ran; step 3 is shown, not yet run
    REQUIRE(P.answer(0, 0).ok());   // "No": wrong
    REQUIRE(P.next().ok());
    r = P.recap();
    CHECK(r.revealed == 2);
    CHECK(r.guessed == 1);
    CHECK(r.right == 0);
    REQUIRE(r.items.size() == 2);
    CHECK(r.items[1].step == 2);
    CHECK(r.items[1].view.guess_text == "No");
    CHECK(r.items[1].view.answer_text == "Yes");
    CHECK(r.items[0].view.answer_text == "2 MiB");
    CHECK(P.state()["recap"]["items"][1]["guess_text"] == "No");
}

TEST_CASE("next, back, reset and go_to replay the lesson; history holds one point per step run") {
    Player P = player();
    REQUIRE(P.load("t", {}).ok());
    CHECK(P.history().empty());
    REQUIRE(P.go_to(2).ok());
    CHECK(P.current() == 2);
    CHECK(!P.ran());
    CHECK(P.history().size() == 2);
    REQUIRE(P.next().ok());
    CHECK(P.history().size() == 3);
    CHECK(P.history().back().metrics.procs.size() == 2);
    REQUIRE(P.back().ok());
    CHECK(P.current() == 1);
    CHECK(P.ran());
    CHECK(P.history().size() == 2);
    CHECK(P.go_to(3).message == "no step 4");
    CHECK(P.current() == 1);
    REQUIRE(P.reset().ok());
    CHECK(P.current() == 0);
    CHECK(!P.ran());
    CHECK(P.history().empty());
    REQUIRE(P.back().ok());   // at the first step: stays there
    CHECK(P.current() == 0);
}

TEST_CASE("set_param replays to the same step with the new value; a bad value changes nothing") {
    Player P = player();
    REQUIRE(P.load("t", {}).ok());
    REQUIRE(P.next().ok());
    REQUIRE(P.set_param("n", 3).ok());
    CHECK(P.current() == 0);
    CHECK(P.ran());
    CHECK(P.checkpoints()[0].answer == 3.0 * double(MiB));
    CHECK(P.share_query() == "?lesson=t&step=1&n=3");
    {   // a share link keeps every digit and no exponent
        const char* big = R"L({"id": "b", "title": "B", "summary": "S",
          "parameters": [{"name": "keys", "label": "K", "min": 0.5, "max": 5e7, "default": 10, "step": 0.5}],
          "steps": [{"title": "a", "text": "x", "ops": [{"op": "set", "name": "x", "value": "keys"}]}]})L";
        Player B(LessonCatalogue{{"lessons/b.json", big}});
        REQUIRE(B.load("b", {{"keys", 1000000}}).ok());
        CHECK(B.share_query() == "?lesson=b&step=1&keys=1000000");
        REQUIRE(B.set_param("keys", 12345678.5).ok());
        CHECK(B.share_query() == "?lesson=b&step=1&keys=12345678.5");
    }
    const long v = P.version();
    CHECK(P.set_param("n", 11).message == "n = 11 is outside [1, 10]");
    CHECK(P.set_param("m", 1).message == "lesson t has no parameter 'm'");
    CHECK(P.version() == v);
    CHECK(P.params().at("n") == 3);
}

TEST_CASE("the player's state and metrics are JSON in the shape the page reads") {
    Player P = player();
    CHECK(P.state_json() == "{\"loaded\":false}");
    CHECK(P.metrics_json() == "{}");
    REQUIRE(P.load("t", {}, 2).ok());
    REQUIRE(P.answer(0, 1).ok());
    REQUIRE(P.next().ok());
    const nlohmann::json s = nlohmann::json::parse(P.state_json());
    CHECK(s["lesson"] == "t");
    CHECK(s["step"] == 2);
    CHECK(s["ran"] == true);
    CHECK(s["at_end"] == true);
    CHECK(s["checkpoints"][0]["revealed"] == true);
    CHECK(s["checkpoints"][0]["answer"] == 1);
    CHECK(s["checkpoints"][0]["right"] == true);
    CHECK(s["checkpoints"][0]["answer_text"] == "Yes");
    const nlohmann::json m = nlohmann::json::parse(P.metrics_json());
    CHECK(m["step"] == 2);
    REQUIRE(m["processes"].size() == 2);
    CHECK(m["processes"][1]["name"] == "child");
    CHECK(m["processes"][1]["cow_copies"] == 1);
    CHECK(m["processes"][1]["private_dirty"] == kPageSize);
    CHECK(m["meminfo"]["used"].get<u64>() > 2 * MiB);
    const nlohmann::json h = P.history_json();
    REQUIRE(h.size() == 3);
    CHECK(h[2] == m);   // the history's last point is the current metrics
}

TEST_CASE("back, go_to and reset restore a snapshot instead of replaying from the start") {
    Player P = player();
    REQUIRE(P.load("t", {}).ok());
    REQUIRE(P.go_to(2).ok());
    REQUIRE(P.next().ok());
    CHECK(P.snapshot_stats().steps_run == 3);
    const std::string after_fork = [] {
        Player Q = player();
        REQUIRE(Q.load("t", {}).ok());
        REQUIRE(Q.go_to(1).ok());
        return Q.metrics_json();
    }();
    REQUIRE(P.back().ok());   // to step 2, run: the snapshot after two steps
    CHECK(P.current() == 1);
    CHECK(P.ran());
    CHECK(P.snapshot_stats().steps_run == 3);   // nothing ran again
    CHECK(P.snapshot_stats().restores >= 1);
    CHECK(P.metrics_json() == after_fork);
    CHECK(P.history().size() == 2);
    REQUIRE(P.go_to(0).ok());                   // to the first step, not run: then run it again
    REQUIRE(P.next().ok());
    REQUIRE(P.go_to(1).ok());                   // the snapshot after two steps: its history is whole
    CHECK(P.history().size() == 2);
    CHECK(P.history_json() == [] {
        Player Q = player();
        REQUIRE(Q.load("t", {}).ok());
        REQUIRE(Q.go_to(1).ok());
        return Q.history_json();
    }());
    REQUIRE(P.go_to(2).ok());                   // from that snapshot, no step runs
    REQUIRE(P.next().ok());                     // step 3 runs once more
    CHECK(P.snapshot_stats().steps_run == 5);
    CHECK(P.snapshot_stats().count >= 3);
    Status inv = P.run().machine().check_invariants();
    CHECK_MESSAGE(inv.ok(), inv.message);
}

TEST_CASE("a parameter change runs again only the steps from the first one that reads it") {
    const char* text = R"L({
      "id": "k", "title": "K", "summary": "S",
      "parameters": [{"name": "k", "label": "K", "min": 1, "max": 8, "default": 1},
                     {"name": "mib", "label": "M", "min": 1, "max": 8, "default": 4}],
      "steps": [
        {"title": "map", "text": "x", "ops": [
           {"op": "spawn", "as": "p", "image": {"name": "x", "warm": false}},
           {"op": "mmap", "pid": "p", "as": "buf", "size": "mib * MiB"},
           {"op": "write", "pid": "p", "region": "buf"}]},
        {"title": "fork", "text": "forked", "ops": [{"op": "fork", "pid": "p", "as": "child"}]},
        {"title": "write", "text": "{cow_copies(child)} copied", "ops": [
           {"op": "write", "pid": "child", "region": "buf", "pages": "k"}]}]})L";
    Player P(LessonCatalogue{{"lessons/k.json", text}});
    REQUIRE(P.load("k", {}).ok());
    REQUIRE(P.go_to(2).ok());
    CHECK(P.snapshot_stats().steps_run == 3);
    REQUIRE(P.set_param("k", 5).ok());           // read by step 3 only
    CHECK(P.snapshot_stats().steps_run == 4);
    CHECK(P.narrative() == "5 copied");
    Player Q(LessonCatalogue{{"lessons/k.json", text}});
    REQUIRE(Q.load("k", {{"k", 5}}, 2).ok());
    CHECK(P.metrics_json() == Q.metrics_json());
    CHECK(P.history_json() == Q.history_json());
    REQUIRE(P.set_param("mib", 2).ok());         // read by step 1: everything again
    CHECK(P.snapshot_stats().steps_run == 7);
    CHECK(P.run().machine().smaps_rollup(P.run().pid_of("p"))->rss >= 2 * MiB);
    CHECK(first_step_reading(P.lesson(), "k") == 2);
    CHECK(first_step_reading(P.lesson(), "mib") == 0);
    CHECK(first_step_reading(P.lesson(), "nothing") == 3);
}

TEST_CASE("sliced, the player works between frames, says how far it got, and Cancel puts back what was shown") {
    Player P = player();
    P.set_sliced(true);
    REQUIRE(P.load("t", {{"n", 10}}).ok());
    P.finish();
    REQUIRE(P.next().ok());          // runs step 1: 2,560 pages in chunks
    CHECK(P.busy());
    CHECK(!P.ran());
    const std::string before = [&] {
        Player Q = player();
        REQUIRE(Q.load("t", {{"n", 10}}).ok());
        return Q.state_json();
    }();
    P.work(Budget::one_chunk());
    CHECK(P.busy());
    CHECK(P.progress().step == 0);
    CHECK(P.progress().fraction > 0);
    CHECK(P.progress().fraction < 1);
    P.cancel();
    CHECK(!P.busy());
    CHECK(!P.ran());
    CHECK(P.state_json() == before);
    CHECK(P.run().machine().smaps_rollup(P.run().pid_of("p")).ok() == false);   // the step's spawn was undone
    REQUIRE(P.next().ok());
    int slices = 0;
    while (P.busy()) {
        P.work(Budget::one_chunk());
        ++slices;
    }
    CHECK(slices >= 3);
    CHECK(P.ran());
    CHECK(P.checkpoints()[0].answer == 10.0 * double(MiB));
    {   // the figures taken a piece per slice are those taken at once
        Player Q = player();
        REQUIRE(Q.load("t", {{"n", 10}}).ok());
        REQUIRE(Q.next().ok());
        CHECK(P.history_json() == Q.history_json());
        CHECK(P.metrics_json() == Q.metrics_json());
    }
    REQUIRE(P.set_param("n", 4).ok());   // a change, cancelled: the old value and figures come back
    P.work(Budget::one_chunk());
    P.cancel();
    CHECK(P.params().at("n") == 10);
    CHECK(P.checkpoints()[0].answer == 10.0 * double(MiB));
}

TEST_CASE("a memory limit refuses a machine too big for it and stops a run that outgrows it") {
    Player P = player();
    REQUIRE(P.load("t", {}).ok());
    P.set_memory_limit(1 * MiB);
    const long v = P.version();
    Status st = P.load("t", {{"n", 3}});
    CHECK(st.message.find("t: a machine of 1 GiB of RAM takes 4.0 MiB to simulate, more than the 1 MiB the lab may use here") != std::string::npos);
    CHECK(P.version() == v);
    CHECK(P.params().at("n") == 2);

    Player R = player();
    REQUIRE(R.load("t", {{"n", 10}}).ok());
    R.set_memory_limit(R.run().machine().host_bytes() + 1024);   // the first page table is more
    REQUIRE(R.next().ok());
    CHECK(R.notice().find("t: step 1 was stopped: its machine grew past the") != std::string::npos);
    CHECK(!R.ran());
    CHECK(R.current() == 0);
    CHECK(R.run().machine().check_invariants().ok());
}

TEST_CASE("a work limit refuses parameters that ask too much before running them, and puts back what was shown") {
    for (bool sliced : {false, true}) {
        CAPTURE(sliced);
        Player P = player();
        P.set_sliced(sliced);
        P.set_work_limit(1000);   // pages one operation may visit
        REQUIRE(P.load("t", {}).ok());
        REQUIRE(P.answer(0, 2).ok());
        REQUIRE(P.next().ok());
        P.finish();
        REQUIRE(P.ran());
        const u64 rss = P.run().machine().meminfo().used;
        // n = 10: a write of 2,560 pages, refused before any is written.
        const Status st = P.set_param("n", 10);
        P.finish();
        const std::string why = "steps[0].ops[2] (write): 2,560 pages to write, more than the 1,000 one operation may take here";
        if (sliced) {   // the action only starts the work: the refusal comes with it
            CHECK(st.ok());
            CHECK(P.take_refusal().message.find(why) != std::string::npos);
        } else {
            CHECK(st.message.find(why) != std::string::npos);
        }
        CHECK(P.take_refusal().ok());   // said once
        CHECK(P.notice() == "N = 10 was not applied: 2,560 pages to write, more than the 1,000 one operation may take here; "
                            "choose smaller parameters");
        CHECK(P.params().at("n") == 2);
        CHECK(P.ran());
        CHECK(P.current() == 0);
        CHECK(P.lesson_error().empty());
        CHECK(P.run().machine().meminfo().used == rss);
        CHECK(P.checkpoints()[0].has_guess);
        CHECK(P.run().machine().check_invariants().ok());
        // Within the limit, the next change runs.
        P.clear_notice();
        REQUIRE(P.set_param("n", 3).ok());
        P.finish();
        CHECK(P.notice().empty());
        CHECK(P.params().at("n") == 3);
        CHECK(P.run().machine().meminfo().used > rss);
    }
}

TEST_CASE("a dataset larger than the machine is said so before it is loaded") {
    const char* lesson = R"L({
      "id": "r", "title": "R", "summary": "S",
      "machine": {"ram": "1024 * MiB"},
      "parameters": [{"name": "vb", "label": "value size", "unit": "B", "min": 16, "max": 4096, "default": 100}],
      "steps": [{"title": "load", "text": "loaded", "ops": [
          {"op": "spawn", "as": "redis"},
          {"op": "redis_load", "pid": "redis", "keys": "1000000", "value_bytes": "vb"}]}]})L";
    Player P(LessonCatalogue{{"lessons/r.json", lesson}});
    REQUIRE(P.load("r", {}).ok());   // 1,000,000 keys of 100 B fit in 1 GiB
    CHECK(P.ran());
    REQUIRE(P.run().outcomes().empty());
    const u64 used = P.run().machine().meminfo().used;
    const Status st = P.set_param("vb", 4096);
    CHECK(st.code() == Errc::over_budget);
    const u64 need = RedisServer::bytes_for({1000000, 4096});
    CHECK(st.message.find("steps[0].ops[1] (redis_load): 1,000,000 keys of 4 KiB need " + format_bytes(need) +
                          " of simulated RAM; this machine has 1 GiB: the dataset does not fit") != std::string::npos);
    CHECK(P.params().at("vb") == 100);
    CHECK(P.ran());
    CHECK(P.run().machine().meminfo().used == used);
    CHECK(P.run().outcomes().empty());   // not found by the OOM killer
}
