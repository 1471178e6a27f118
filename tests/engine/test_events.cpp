// Events, configuration, snapshots and determinism.
#include "lab.h"

using namespace test;

TEST_CASE("the event ring keeps the newest events and counts all of them") {
    MachineConfig cfg = small_config();
    cfg.event_capacity = 64;
    Lab lab(cfg);
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 1 * MiB);
    lab.write(p, buf, 1 * MiB);
    const EventLog& ev = lab.m.events();
    CHECK(ev.size() == 64);
    CHECK(ev.total() > 256);
    CHECK(ev.count(EventKind::zero_fill) == 256);
    CHECK(ev.at(63).kind == EventKind::zero_fill);
    CHECK(ev.at(63).pid == p);
    CHECK(ev.at(63).addr == buf + 1 * MiB - kPageSize);
    for (u64 i = 1; i < ev.size(); ++i) CHECK(ev.at(i - 1).time_ns <= ev.at(i).time_ns);
}

TEST_CASE("an impossible configuration is refused with the field and the reason") {
    MachineConfig c;
    c.ram_bytes = 1 * MiB;
    Result<Machine> r = Machine::create(c);
    CHECK(r.code() == Errc::limit);
    CHECK(r.message().find("ram_bytes") != std::string::npos);
    c.ram_bytes = 1 * GiB + 1;
    CHECK(Machine::create(c).code() == Errc::invalid_argument);
    c.ram_bytes = 1024 * GiB;
    CHECK(Machine::create(c).code() == Errc::limit);
    c = MachineConfig{};
    c.overcommit_ratio = 5000;
    CHECK(Machine::create(c).message().find("overcommit_ratio") != std::string::npos);
    c = MachineConfig{};
    c.cost.copy_bytes_per_ns = 0;
    CHECK(Machine::create(c).code() == Errc::invalid_argument);
    c = MachineConfig{};
    c.ram_bytes = 64 * GiB;
    CHECK(Machine::create(c).ok());
}

TEST_CASE("a snapshot is a copy: restoring it rewinds the machine") {
    Lab lab;
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 1 * MiB);
    lab.write(p, buf, 1 * MiB);
    const Machine snapshot = lab.m;
    Pid c = lab.fork(p);
    lab.write(c, buf, 1 * MiB);
    CHECK(lab.m.meminfo().used > snapshot.meminfo().used);
    lab.m = snapshot;
    lab.check();
    CHECK(lab.m.pids().size() == 1);
    CHECK(lab.m.meminfo().used == snapshot.meminfo().used);
    Pid c2 = lab.fork(p);
    CHECK(c2 == c);                                  // the same future again
}

TEST_CASE("the same operations give the same events and figures") {
    auto run = [] {
        Lab lab;
        Pid p = lab.spawn(default_image("x"));
        u64 buf = lab.mmap(p, 2 * MiB);
        lab.write(p, buf, 2 * MiB);
        Pid c = lab.fork(p);
        lab.write(c, buf, 512 * KiB);
        lab.exit(c);
        std::vector<u64> out{lab.m.now_ns(), lab.m.events().total(), lab.rollup(p).pss_fp};
        for (u64 i = 0; i < lab.m.events().size(); ++i) out.push_back(lab.m.events().at(i).frame.v);
        return out;
    };
    CHECK(run() == run());
}

TEST_CASE("the cost model charges a COW fork of 1 GiB its page tables, and an eager copy every page on top") {
    Lab lab(small_config(4 * GiB));
    Pid p = lab.spawn(bare_image());
    u64 buf = lab.mmap(p, 1 * GiB);
    lab.write(p, buf, 1 * GiB);
    ForkResult cow = lab.ok(lab.m.fork(p));
    ForkResult eager = lab.ok(lab.m.fork_eager(p));
    const CostModel& k = lab.m.config().cost;
    const double ptes = double(GiB / kPageSize), vmas = double(lab.m.address_space(p)->vmas.size());
    // fork = base + VMAs + page-table pages + PTEs (engine/kernel/cost.h), and nothing for the data.
    const double model = k.fork_base_ns + vmas * k.per_vma_ns + double(cow.pt_pages) * k.per_pt_page_ns + ptes * k.per_pte_ns;
    CHECK(double(cow.time_ns) >= ptes * k.per_pte_ns);
    CHECK(double(cow.time_ns) <= model * 1.01 + 1000);
    CHECK(double(eager.time_ns) >= double(cow.time_ns) + k.copy_ns(1 * GiB) * 0.99);
}

TEST_CASE("a fork and the first writes after it are explained in a sentence each, with the frames they moved") {
    Lab lab;
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 2 * kPageSize);
    lab.write(p, buf, kPageSize);
    Pid c = lab.fork(p);
    const u64 from = lab.m.events().total();
    lab.write(c, buf, 4);                      // a copy
    lab.write(p, buf, 4);                      // then the parent alone maps the old frame: reused
    auto name = [&](Pid x) { return x == p ? std::string("parent") : x == c ? std::string("child") : "pid " + std::to_string(x.v); };
    std::vector<std::string> said;
    const EventLog& log = lab.m.events();
    for (u64 i = from - log.first_seq(); i < log.size(); ++i)
        if (is_story(log.at(i).kind)) said.push_back(explain(log.at(i), name));
    REQUIRE(said.size() == 2);
    const Event* copy = nullptr;
    for (u64 i = 0; i < log.size(); ++i)
        if (log.at(i).kind == EventKind::cow_copy) copy = &log.at(i);
    REQUIRE(copy);
    CHECK(said[0].find("child writes 0x") == 0);
    CHECK(said[0].find("copies the page to frame " + format_count(copy->frame.v)) != std::string::npos);
    CHECK(said[0].find("points child's entry at the copy, makes it writable") != std::string::npos);
    CHECK(said[1].find("parent writes") == 0);
    CHECK(said[1].find("writable in place: no copy") != std::string::npos);
    CHECK_FALSE(is_story(EventKind::frame_alloc));
    for (u64 i = 0; i < log.size(); ++i)
        if (log.at(i).kind == EventKind::fork) CHECK(explain(log.at(i), name).find("parent forks child") == 0);
}
