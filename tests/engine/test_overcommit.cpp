// Overcommit modes and the OOM killer.
#include "lab.h"

using namespace test;

TEST_CASE("overcommit mode 2: a fork that would pass CommitLimit fails with ENOMEM and changes nothing") {
    MachineConfig cfg = small_config(1 * GiB);
    cfg.overcommit = Overcommit::never;
    cfg.overcommit_ratio = 50;
    Lab lab(cfg);
    Pid p = lab.spawn(bare_image("redis"));
    u64 buf = lab.mmap(p, 300 * MiB);
    lab.write(p, buf, 16 * MiB);
    const MemInfo before = lab.m.meminfo();
    CHECK(before.commit_limit == 512 * MiB);
    Result<ForkResult> f = lab.m.fork(p);
    CHECK(f.code() == Errc::no_memory);
    CHECK(f.message().find("CommitLimit") != std::string::npos);
    lab.check();
    const MemInfo after = lab.m.meminfo();
    CHECK(after.committed_as == before.committed_as);
    CHECK(after.used == before.used);
    CHECK(lab.m.pids().size() == 1);
    CHECK(lab.m.events().count(EventKind::fork_failed) == 1);
}

TEST_CASE("overcommit mode 2 refuses an mmap beyond CommitLimit; mode 1 allows anything") {
    MachineConfig cfg = small_config(256 * MiB);
    cfg.overcommit = Overcommit::never;
    Lab strict(cfg);
    Pid p = strict.spawn(bare_image());
    CHECK(strict.m.mmap(p, {.len = 200 * MiB}).code() == Errc::no_memory);
    cfg.overcommit = Overcommit::always;
    Lab lax(cfg);
    Pid q = lax.spawn(bare_image());
    CHECK(lax.m.mmap(q, {.len = 64 * GiB}).ok());
    cfg.overcommit = Overcommit::heuristic;
    Lab guess(cfg);
    Pid r = guess.spawn(bare_image());
    CHECK(guess.m.mmap(r, {.len = 64 * GiB}).code() == Errc::no_memory);   // more than RAM + swap at once
    CHECK(guess.m.mmap(r, {.len = 200 * MiB}).ok());
}

TEST_CASE("when memory runs out the OOM killer kills the process with the highest badness") {
    MachineConfig cfg = small_config(64 * MiB);
    cfg.overcommit = Overcommit::always;
    Lab lab(cfg);
    Pid small = lab.spawn(bare_image("small"));
    u64 a = lab.mmap(small, 8 * MiB);
    lab.write(small, a, 8 * MiB);
    Pid big = lab.spawn(bare_image("big"));
    u64 b = lab.mmap(big, 40 * MiB);
    lab.write(big, b, 40 * MiB);
    Pid grower = lab.spawn(bare_image("grower"));
    u64 c = lab.mmap(grower, 32 * MiB);
    Result<AccessResult> r = lab.m.access(grower, c, 32 * MiB, Access::write);
    lab.check();
    CHECK(lab.m.events().count(EventKind::oom_kill) >= 1);
    CHECK(lab.m.process(big)->state == ProcState::reaped);   // no parent: reaped at once
    CHECK(lab.m.process(small)->alive());
    CHECK(r.ok());
    CHECK(lab.m.process(grower)->alive());
}

TEST_CASE("oom_score_adj -1000 exempts a process; the faulting process itself can be the victim") {
    MachineConfig cfg = small_config(64 * MiB);
    cfg.overcommit = Overcommit::always;
    Lab lab(cfg);
    Pid big = lab.spawn(bare_image("db"));
    lab.ok(lab.m.set_oom_score_adj(big, -1000));
    u64 b = lab.mmap(big, 40 * MiB);
    lab.write(big, b, 40 * MiB);
    Pid hog = lab.spawn(bare_image("hog"));
    u64 h = lab.mmap(hog, 64 * MiB);
    Result<AccessResult> r = lab.m.access(hog, h, 64 * MiB, Access::write);
    CHECK(r.code() == Errc::killed);
    CHECK(r.message().find("OOM") != std::string::npos);
    lab.check();
    CHECK(lab.m.process(big)->alive());
    CHECK(!lab.m.process(hog)->alive());
}

TEST_CASE("unmapped page cache is reclaimed before anyone is killed") {
    MachineConfig cfg = small_config(64 * MiB);
    cfg.overcommit = Overcommit::always;
    Lab lab(cfg);
    Pid reader = lab.spawn(bare_image("reader"));
    FileId f = lab.ok(lab.m.create_file("/data/big.log", 32 * MiB));
    u64 map = lab.ok(lab.m.mmap(reader, {.len = 32 * MiB, .prot = prot::read, .file = f}));
    lab.read(reader, map, 32 * MiB);
    lab.ok(lab.m.munmap(reader, map, 32 * MiB));
    CHECK(lab.m.meminfo().cached >= 32 * MiB);
    u64 buf = lab.mmap(reader, 40 * MiB);
    lab.write(reader, buf, 40 * MiB);
    CHECK(lab.m.events().count(EventKind::oom_kill) == 0);
    CHECK(lab.m.events().count(EventKind::reclaim) > 0);
}

TEST_CASE("a fork that runs out of memory fails with ENOMEM and kills nobody, where a fault would OOM-kill") {
    MachineConfig cfg = small_config(64 * MiB);
    cfg.overcommit = Overcommit::always;
    Lab lab(cfg);
    Pid bystander = lab.spawn(bare_image("bystander"));
    u64 a = lab.mmap(bystander, 24 * MiB);
    lab.write(bystander, a, 24 * MiB);
    Pid parent = lab.spawn(bare_image("parent"));
    u64 b = lab.mmap(parent, 24 * MiB);
    lab.write(parent, b, 24 * MiB);
    const u64 free_before = lab.m.frames().free_count();
    Result<ForkResult> r = lab.m.fork_eager(parent);   // copying 24 MiB into the 16 MiB left
    CHECK(r.code() == Errc::no_memory);
    lab.check();
    CHECK(lab.m.events().count(EventKind::oom_kill) == 0);
    CHECK(lab.m.events().count(EventKind::fork_failed) == 1);
    CHECK(lab.m.process(bystander)->alive());
    CHECK(lab.m.process(parent)->alive());
    CHECK(lab.m.frames().free_count() == free_before);   // the child's frames and tables went back
    // The same shortage met by a fault calls the OOM killer, which picks the
    // faulting parent: by then the biggest.
    u64 c = lab.mmap(parent, 24 * MiB);
    Result<AccessResult> w = lab.m.access(parent, c, 24 * MiB, Access::write);
    lab.check();
    CHECK(w.code() == Errc::killed);
    CHECK(lab.m.events().count(EventKind::oom_kill) == 1);
    CHECK(!lab.m.process(parent)->alive());
    CHECK(lab.m.process(bystander)->alive());
}
