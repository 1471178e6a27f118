// Recordings: what `cowlab live --record` and experiments write, read back for replay.
#include <doctest/doctest.h>

#include "engine.h"

using namespace cow;

namespace {
const char* kHeader = R"({"type":"header","format":"cowlab-recording","version":1,"source":"live","command":"cowlab live --tree 1","started":"2026-11-22T20:00:00Z","host":{"kernel":"6.1.0","machine":"x86_64","hostname":"lab","cpus":4,"mem_total":4294967296}})";
}

TEST_CASE("a recording reads back its samples, pages, experiment and series") {
    std::string text = std::string(kHeader) + "\n" +
        R"({"type":"sample","t_s":0,"processes":[{"pid":10,"ppid":1,"name":"redis-server","state":"S","rss":8192,"pss":4096,"uss":4096,"private_dirty":4096,"min_flt":5},{"pid":11,"problem":"not permitted","error":"/proc/11/smaps_rollup: not permitted"}]})" "\n"
        R"({"type":"pages","t_s":0,"pid":10,"start":4096,"map":"3x2s1."})" "\n"
        R"({"type":"sample","t_s":1.5,"processes":[{"pid":10,"ppid":1,"name":"redis-server","state":"S","rss":12288,"pss":8192}]})" "\n"
        R"({"type":"pages","t_s":1.5,"pid":10,"start":4096,"map":"6x"})" "\n"
        R"({"type":"experiment","name":"fork","title":"fork experiment","params":{"size":4096},"rows":[{"name":"child Rss","measured":4096,"predicted":4096,"unit":"B"}],"notes":["times"]})" "\n"
        R"({"type":"series","name":"COW","unit":"B","measured":[[0,0],[1,4096]],"predicted":[[0,0]]})" "\n"
        R"({"type":"future-kind","x":1})" "\n"
        R"({"type":"end","samples":2})" "\n";
    Result<Recording> r = Recording::parse(text, "r.jsonl");
    REQUIRE_MESSAGE(r.ok(), r.message());
    CHECK(r->source == "live");
    CHECK(r->host == "lab: Linux 6.1.0 x86_64, 4 CPUs, 4 GiB RAM");
    REQUIRE(r->samples.size() == 2);
    CHECK(r->samples[0].procs.size() == 2);
    CHECK(r->samples[0].find(10)->private_dirty == 4096);
    CHECK(r->samples[0].find(11)->problem == "not permitted");
    CHECK(r->samples[1].find(11) == nullptr);
    CHECK(r->duration_s() == doctest::Approx(1.5));
    CHECK(r->sample_at(-1) == 0);
    CHECK(r->sample_at(0.7) == 0);
    CHECK(r->sample_at(1.5) == 1);
    CHECK(r->sample_at(99) == 1);
    REQUIRE(r->pages_at(10, 0.2).size() == 1);
    CHECK(r->pages_at(10, 0.2)[0]->states == "xxxss.");
    CHECK(r->pages_at(10, 2.0)[0]->states == "xxxxxx");
    CHECK(r->pages_at(99, 2.0).empty());
    REQUIRE(r->experiments.size() == 1);
    CHECK(r->experiments[0].rows[0].predicted == 4096);
    CHECK(r->experiments[0].params == R"({"size":4096})");
    REQUIRE(r->series.size() == 1);
    CHECK(r->series[0].measured.size() == 2);
    CHECK(r->ended);
    CHECK(r->warnings.empty());
}

TEST_CASE("an interrupted recording keeps its complete lines") {
    std::string text = std::string(kHeader) + "\n" + R"({"type":"sample","t_s":0,"processes":[{"pid":10,"rss":4096}]})" "\n" +
                       R"({"type":"sample","t_s":0.5,"proc)";
    Result<Recording> r = Recording::parse(text, "cut.jsonl");
    REQUIRE_MESSAGE(r.ok(), r.message());
    CHECK(r->samples.size() == 1);
    CHECK(!r->ended);
    REQUIRE(r->warnings.size() == 2);
    CHECK(r->warnings[0].find("line 3 is incomplete") != std::string::npos);
}

TEST_CASE("bad recordings are refused with the line and the reason") {
    auto error = [](const std::string& text) {
        Result<Recording> r = Recording::parse(text, "bad.jsonl");
        return r.ok() ? std::string("(accepted)") : r.message();
    };
    const std::string h = std::string(kHeader) + "\n";
    CHECK(error("") == "bad.jsonl: empty: a recording starts with its header line");
    CHECK(error("hello\n").find("line 1 is not a JSON object") != std::string::npos);
    CHECK(error(R"({"type":"header","format":"something-else"})").find("not a cowlab recording") != std::string::npos);
    CHECK(error(R"({"type":"sample","t_s":0,"processes":[]})").find("not a cowlab recording") != std::string::npos);
    CHECK(error(h + "[1,2]\n" + R"({"type":"end"})").find("line 2 is not a JSON object") != std::string::npos);
    CHECK(error(h + R"({"type":"sample","processes":[]})").find("line 2: \"t_s\" is missing") != std::string::npos);
    CHECK(error(h + R"({"type":"sample","t_s":"x","processes":[]})").find("\"t_s\" must be a number") != std::string::npos);
    CHECK(error(h + R"({"type":"sample","t_s":0,"processes":[{"pid":-3,"rss":1}]})").find("\"pid\" must be a whole number") != std::string::npos);
    CHECK(error(h + R"({"type":"sample","t_s":0,"processes":[{"pid":3,"rss":-1}]})").find("\"rss\" must be a number of at least 0") != std::string::npos);
    CHECK(error(h + R"({"type":"sample","t_s":2,"processes":[]})" "\n" R"({"type":"sample","t_s":1,"processes":[]})")
              .find("line 3: \"t_s\" goes back in time") != std::string::npos);
    CHECK(error(h + R"({"type":"pages","t_s":0,"pid":1,"start":0,"map":"12q"})").find("\"map\" must be runs") != std::string::npos);
    CHECK(error(h + R"({"type":"pages","t_s":0,"pid":1,"start":0,"map":"99999999999x"})").find("\"map\" must be runs") != std::string::npos);
    CHECK(error(h + R"({"type":"experiment","name":"x","rows":[{"name":"a","measured":"no"}]})").find("\"measured\" must be a number") != std::string::npos);
    CHECK(error(h + R"({"type":"series","name":"x","measured":[[1]]})").find("[t, value] pairs") != std::string::npos);
    CHECK(error(h + kHeader).find("a second header") != std::string::npos);
}

TEST_CASE("page-state runs decode within their limit") {
    std::string out;
    CHECK(Recording::decode_runs("3x2s1.1w", out, 100));
    CHECK(out == "xxxss.w");
    CHECK(Recording::decode_runs("", out, 100));
    CHECK(out.empty());
    CHECK_FALSE(Recording::decode_runs("3x2", out, 100));    // a count without its state
    CHECK_FALSE(Recording::decode_runs("x", out, 100));      // a state without its count
    CHECK_FALSE(Recording::decode_runs("60x50s", out, 100)); // beyond the limit
}

TEST_CASE("what the writer writes, the reader reads back: header, samples, pages, experiment, series, end") {
    RecSample sample{.t_s = 0.25};
    sample.procs.push_back({.pid = 10, .ppid = 1, .name = "redis-server", .state = "S", .rss = 8192, .pss = 6144, .uss = 4096,
                            .shared_clean = 4096, .private_dirty = 4096, .anon_huge = 0, .swap = 4096, .vm_pte = 12288,
                            .min_flt = 7, .maj_flt = 1});
    sample.procs.push_back({.pid = 11, .problem = "not permitted", .error = "/proc/11/smaps_rollup: not permitted"});
    RecExperiment e{.name = "fork", .title = "fork \"experiment\"", .params = R"({"size":4096,"writer":"child"})"};
    e.rows.push_back({"child Rss", 4096, 8192, "B"});
    e.rows.push_back({"writer's minor faults", 3, 3, ""});
    e.notes.push_back("times: calibrated elsewhere");
    RecSeries series{.name = "child Private_Dirty", .unit = "B", .measured = {{0, 0}, {0.5, 4096}}, .predicted = {{0, 0}}};
    const RecHost host{.kernel = "6.1.0", .machine = "x86_64", .hostname = "lab", .page_size = 4096, .cpus = 4, .mem_total = u64{4} << 30};
    const std::string text = rec_line::header("experiment", "cowlab experiment fork", "2026-11-22T20:00:00Z", host) + "\n" +
                             rec_line::sample(sample) + "\n" + rec_line::pages({0.25, 10, 4096, "xxxss.w"}) + "\n" +
                             rec_line::experiment(e) + "\n" + rec_line::series(series) + "\n" + rec_line::end(1) + "\n";
    Result<Recording> r = Recording::parse(text, "round.jsonl");
    REQUIRE_MESSAGE(r.ok(), r.message());
    CHECK(r->source == "experiment");
    CHECK(r->command == "cowlab experiment fork");
    CHECK(r->started == "2026-11-22T20:00:00Z");
    CHECK(r->host == "lab: Linux 6.1.0 x86_64, 4 CPUs, 4 GiB RAM");
    CHECK(r->ended);
    CHECK(r->warnings.empty());
    REQUIRE(r->samples.size() == 1);
    CHECK(r->samples[0].t_s == 0.25);
    const RecProc* p = r->samples[0].find(10);
    REQUIRE(p);
    CHECK(p->ppid == 1);
    CHECK(p->name == "redis-server");
    CHECK(p->state == "S");
    CHECK(p->rss == 8192);
    CHECK(p->pss == 6144);
    CHECK(p->uss == 4096);
    CHECK(p->shared_clean == 4096);
    CHECK(p->private_dirty == 4096);
    CHECK(p->swap == 4096);
    CHECK(p->vm_pte == 12288);
    CHECK(p->min_flt == 7);
    CHECK(p->maj_flt == 1);
    REQUIRE(r->samples[0].find(11));
    CHECK(r->samples[0].find(11)->problem == "not permitted");
    CHECK(r->samples[0].find(11)->error == "/proc/11/smaps_rollup: not permitted");
    REQUIRE(r->pages.size() == 1);
    CHECK(r->pages[0].pid == 10);
    CHECK(r->pages[0].start == 4096);
    CHECK(r->pages[0].states == "xxxss.w");
    REQUIRE(r->experiments.size() == 1);
    CHECK(r->experiments[0].name == "fork");
    CHECK(r->experiments[0].title == "fork \"experiment\"");
    CHECK(r->experiments[0].params == R"({"size":4096,"writer":"child"})");
    REQUIRE(r->experiments[0].rows.size() == 2);
    CHECK(r->experiments[0].rows[0].name == "child Rss");
    CHECK(r->experiments[0].rows[0].measured == 4096);
    CHECK(r->experiments[0].rows[0].predicted == 8192);
    CHECK(r->experiments[0].rows[0].unit == "B");
    CHECK(r->experiments[0].rows[1].unit.empty());
    CHECK(r->experiments[0].notes == std::vector<std::string>{"times: calibrated elsewhere"});
    REQUIRE(r->series.size() == 1);
    CHECK(r->series[0].name == "child Private_Dirty");
    CHECK(r->series[0].measured == series.measured);
    CHECK(r->series[0].predicted == series.predicted);
}

TEST_CASE("page states encode to runs and decode back") {
    CHECK(Recording::encode_runs("xxxss.w") == "3x2s1.1w");
    CHECK(Recording::encode_runs("").empty());
    std::string out;
    const std::string states = std::string(512, 'x') + std::string(20, 's') + "...w";
    REQUIRE(Recording::decode_runs(Recording::encode_runs(states), out, 1000));
    CHECK(out == states);
}
