// Processes: fork, eager fork, vfork, posix_spawn, exec, exit and wait.
#include "lab.h"

using namespace test;

TEST_CASE("a child writing the first 10 ints of a 4 MiB global array copies exactly one page") {
    Lab lab;
    Image im = bare_image("globals", 4 * MiB);       // int array[1 << 20]; in .bss
    Pid parent = lab.spawn(im);
    const Vma* bss = nullptr;
    for (const Vma& v : lab.m.address_space(parent)->vmas)
        if (v.kind == VmaKind::bss) bss = &v;
    REQUIRE(bss);
    const u64 array = bss->start;
    lab.write(parent, array, 4 * MiB);               // the parent initialises the array
    const u32 before = lab.peek(parent, array);
    const MemStats parent_before = lab.vma_stats(parent, array);
    CHECK(parent_before.private_dirty == 4 * MiB);

    Pid child = lab.fork(parent);
    AccessResult w = lab.write(child, array, 10 * sizeof(int));
    CHECK(w.cow_copies == 1);
    CHECK(w.minor_faults == 1);
    CHECK(lab.counters(child).cow_copies == 1);
    CHECK(lab.counters(parent).cow_copies == 0);
    CHECK(lab.peek(parent, array) == before);        // the parent's copy is unchanged
    CHECK(lab.peek(child, array) != before);
    CHECK(lab.peek(child, array + kPageSize) == lab.peek(parent, array + kPageSize));

    const MemStats c = lab.vma_stats(child, array);
    CHECK(c.private_dirty == kPageSize);
    CHECK(c.shared_dirty == 4 * MiB - kPageSize);
    const MemStats p = lab.vma_stats(parent, array);
    CHECK(p.private_dirty == kPageSize);             // the parent's original page is now its alone
    CHECK(p.shared_dirty == 4 * MiB - kPageSize);
}

TEST_CASE("a child writing 10% of a 256 MiB buffer has that many Private_Dirty pages, the rest Shared_Dirty") {
    Lab lab(small_config(1 * GiB));
    Pid parent = lab.spawn();
    const u64 size = 256 * MiB, pages = size / kPageSize;
    u64 buf = lab.mmap(parent, size);
    lab.write(parent, buf, size);
    Pid child = lab.fork(parent);
    std::vector<u64> addrs;
    for (u64 i = 0; i < pages; i += 10) addrs.push_back(buf + i * kPageSize);
    const u64 written = addrs.size();
    AccessResult r = lab.ok(lab.m.access_pages(child, addrs, Access::write));
    lab.check();
    CHECK(r.cow_copies == written);
    const MemStats c = lab.vma_stats(child, buf);
    CHECK(c.private_dirty == written * kPageSize);
    CHECK(c.shared_dirty == (pages - written) * kPageSize);
    CHECK(c.rss == size);
    // Pss: private pages count whole, shared ones half.
    CHECK(c.pss_fp == (written * kPageSize << kPssShift) + (pages - written) * ((kPageSize << kPssShift) / 2));
    const MemStats p = lab.vma_stats(parent, buf);
    CHECK(p.private_dirty == written * kPageSize);
    CHECK(p.shared_dirty == (pages - written) * kPageSize);
    CHECK(lab.m.meminfo().anon_pages >= size + written * kPageSize);
}

TEST_CASE("fork followed by exec copies nothing") {
    Lab lab;
    Pid shell = lab.spawn(default_image("bash"));
    u64 heap = lab.mmap(shell, 32 * MiB);
    lab.write(shell, heap, 32 * MiB);
    const u64 copies_before = lab.m.events().count(EventKind::cow_copy);
    Pid child = lab.fork(shell);
    lab.ok(lab.m.exec(child, default_image("ls")));
    CHECK(lab.counters(child).cow_copies == 0);
    CHECK(lab.counters(shell).cow_copies == 0);
    // ls's own start-up copies its data pages from the page cache, never a page of the shell.
    const MemStats s = lab.vma_stats(shell, heap);
    CHECK(s.private_dirty == 32 * MiB);
    CHECK(s.shared_dirty == 0);
    (void)copies_before;
}

TEST_CASE("fork copies page tables, not pages; the eager fork copies every private page") {
    Lab lab(small_config(1 * GiB));
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 64 * MiB);
    lab.write(p, buf, 64 * MiB);
    const u64 used = lab.m.meminfo().used;
    ForkResult cow = lab.ok(lab.m.fork(p));
    CHECK(cow.pt_pages >= 32);                       // 64 MiB / 2 MiB per PTE table
    CHECK(cow.pages_copied == 0);
    CHECK(lab.m.meminfo().used - used == cow.pt_pages * kPageSize);
    ForkResult eager = lab.ok(lab.m.fork_eager(p));
    CHECK(eager.pages_copied >= 64 * MiB / kPageSize);
    CHECK(double(eager.time_ns) >= double(cow.time_ns) + lab.m.config().cost.copy_ns(64 * MiB));   // and every page's copy
    CHECK(lab.vma_stats(eager.child, buf).private_dirty == 64 * MiB);
    lab.write(eager.child, buf, kPageSize);
    CHECK(lab.counters(eager.child).cow_copies == 0);   // its pages are its own already
}

TEST_CASE("vfork shares the address space and suspends the parent until exec") {
    Lab lab;
    Pid parent = lab.spawn();
    u64 buf = lab.mmap(parent, 1 * MiB);
    lab.write(parent, buf, 1 * MiB);
    ForkResult v = lab.ok(lab.m.vfork(parent));
    CHECK(lab.m.process(parent)->state == ProcState::vfork_wait);
    Result<AccessResult> blocked = lab.m.access(parent, buf, 1, Access::read);
    CHECK(blocked.code() == Errc::not_running);
    lab.write(v.child, buf, kPageSize);              // the child writes the parent's memory
    CHECK(lab.peek(parent, buf) == lab.peek(v.child, buf));
    CHECK(lab.counters(v.child).cow_copies == 0);
    lab.ok(lab.m.exec(v.child, bare_image("true")));
    CHECK(lab.m.process(parent)->state == ProcState::running);
    CHECK(lab.m.events().count(EventKind::vfork_resume) == 1);
    CHECK(v.time_ns < lab.ok(lab.m.fork(parent)).time_ns);
}

TEST_CASE("posix_spawn starts a child without copying the parent's page tables") {
    Lab lab(small_config(1 * GiB));
    Pid parent = lab.spawn();
    u64 buf = lab.mmap(parent, 256 * MiB);
    lab.write(parent, buf, 256 * MiB);
    const u64 tables = lab.m.meminfo().page_tables;
    ForkResult s = lab.ok(lab.m.posix_spawn(parent, bare_image("worker")));
    CHECK(s.pt_pages == 0);
    CHECK(lab.m.meminfo().page_tables - tables < 8 * kPageSize);   // only the new, tiny process's
    const u64 t0 = lab.m.now_ns();
    ForkResult f = lab.ok(lab.m.fork(parent));
    lab.ok(lab.m.exec(f.child, bare_image("worker")));
    CHECK(f.pt_pages >= 128);
    CHECK(s.time_ns < lab.m.now_ns() - t0);          // posix_spawn beats fork + exec
}

TEST_CASE("exit frees the pages only the exiting process maps; wait reaps the zombie") {
    Lab lab;
    Pid parent = lab.spawn();
    u64 buf = lab.mmap(parent, 4 * MiB);
    lab.write(parent, buf, 4 * MiB);
    Pid child = lab.fork(parent);
    lab.write(child, buf, 1 * MiB);
    const u64 free_before = lab.m.meminfo().free;
    lab.exit(child, 3);
    CHECK(lab.m.process(child)->state == ProcState::zombie);
    CHECK(lab.m.meminfo().free - free_before >= 1 * MiB);   // its copies are gone
    WaitResult w = lab.ok(lab.m.wait(parent));
    CHECK(w.pid == child);
    CHECK(w.status == 3 << 8);
    CHECK(lab.m.process(child)->state == ProcState::reaped);
    CHECK(lab.m.wait(parent).code() == Errc::no_child);
    // The parent's pages are its own again: the next write reuses instead of copying.
    AccessResult r = lab.write(parent, buf, kPageSize);
    CHECK(r.cow_reuses == 1);
    CHECK(r.cow_copies == 0);
}

TEST_CASE("after every process exits nothing but the page cache is left") {
    Lab lab;
    Pid a = lab.spawn(default_image("a"));
    u64 buf = lab.mmap(a, 8 * MiB);
    lab.write(a, buf, 8 * MiB);
    u64 shm = lab.mmap_shared(a, 1 * MiB);
    lab.write(a, shm, 1 * MiB);
    Pid b = lab.fork(a);
    lab.write(b, buf, 2 * MiB);
    Pid c = lab.ok(lab.m.vfork(b)).child;
    lab.exit(c);
    lab.exit(b);
    lab.exit(a);
    CHECK(lab.m.pids().size() <= 1);
    const MemInfo mi = lab.m.meminfo();
    CHECK(mi.anon_pages == 0);
    CHECK(mi.page_tables == 0);
    CHECK(mi.shmem == 0);
    CHECK(mi.committed_as == 0);
    CHECK(mi.used == mi.cached + kPageSize);         // the page cache and the zero page
}

TEST_CASE("MADV_DONTFORK ranges are missing in the child; MADV_WIPEONFORK ranges read as zeros") {
    Lab lab;
    Pid p = lab.spawn();
    u64 keep = lab.mmap(p, 1 * MiB, "keep");
    u64 secret = lab.mmap(p, 1 * MiB, "secret");
    u64 wipe = lab.mmap(p, 1 * MiB, "wipe");
    lab.write(p, keep, 1 * MiB);
    lab.write(p, secret, 1 * MiB);
    lab.write(p, wipe, 1 * MiB);
    lab.ok(lab.m.madvise(p, secret, 1 * MiB, Advice::dontfork));
    lab.ok(lab.m.madvise(p, wipe, 1 * MiB, Advice::wipeonfork));
    Pid c = lab.fork(p);
    CHECK(lab.peek(c, keep) == lab.peek(p, keep));
    CHECK(lab.peek(c, wipe) == 0);
    CHECK(lab.peek(p, wipe) != 0);
    CHECK(lab.m.peek(c, secret).code() == Errc::bad_address);
    Result<AccessResult> r = lab.m.access(c, secret, 1, Access::read);
    CHECK(r.code() == Errc::killed);                 // SIGSEGV: the range does not exist there
    lab.check();
    CHECK(lab.m.process(c)->state == ProcState::zombie);
    CHECK(lab.m.process(c)->exit_status == 11);
    CHECK(lab.m.events().count(EventKind::segfault) == 1);
}

TEST_CASE("MAP_SHARED anonymous memory stays shared and writable across fork") {
    Lab lab;
    Pid p = lab.spawn();
    u64 shm = lab.mmap_shared(p, 64 * KiB);
    lab.write(p, shm, 64 * KiB);
    Pid c = lab.fork(p);
    AccessResult r = lab.write(c, shm, kPageSize);
    CHECK(r.cow_copies == 0);
    CHECK(lab.peek(p, shm) == lab.peek(c, shm));     // the parent sees the child's write
    const MemStats s = lab.vma_stats(c, shm);
    CHECK(s.rss == kPageSize);                       // the child maps only what it touched
    CHECK(s.shared_dirty == kPageSize);
    CHECK(s.anonymous == 0);                         // shmem is not "Anonymous"
}

TEST_CASE("a process that has not touched its libraries' pages after fork maps them lazily") {
    Lab lab;
    Pid p = lab.spawn(default_image("server"));
    const u64 rss_file = lab.ok(lab.m.status(p)).rss_file;
    CHECK(rss_file > 0);
    Pid c = lab.fork(p);
    // Text and rodata VMAs have no anonymous pages: fork does not copy their PTEs.
    CHECK(lab.ok(lab.m.status(c)).rss_file < rss_file);
    CHECK(lab.ok(lab.m.status(c)).rss_anon == lab.ok(lab.m.status(p)).rss_anon);
}

TEST_CASE("operations on missing, dead or suspended processes are refused with a message") {
    Lab lab;
    CHECK(lab.m.fork(Pid{42}).code() == Errc::no_such_process);
    CHECK(lab.m.fork(Pid{0}).code() == Errc::no_such_process);
    Pid p = lab.spawn();
    Pid c = lab.fork(p);
    lab.exit(c);
    CHECK(lab.m.fork(c).code() == Errc::not_running);
    CHECK(lab.m.exit(c, 0).code() == Errc::not_running);
    CHECK(lab.m.mmap(c, {.len = kPageSize}).code() == Errc::not_running);
    CHECK(lab.m.exit(p, 256).code() == Errc::invalid_argument);
    CHECK(lab.m.set_oom_score_adj(p, 2000).code() == Errc::invalid_argument);
    Image empty = bare_image("");
    CHECK(lab.m.spawn(empty).code() == Errc::invalid_argument);
    Image huge = bare_image("big");
    huge.heap = 100 * 1024 * GiB;
    Result<Pid> r = lab.m.spawn(huge);
    CHECK(r.code() == Errc::limit);
    CHECK(r.message().find("heap") != std::string::npos);
    lab.check();
}

namespace {
// A fork made a part at a time: the machine's invariants hold between parts,
// the child is no process until the last one, and the result is fork()'s.
ForkResult fork_in_parts(Lab& lab, Pid p, bool eager, int& parts) {
    Result<ForkJob> job = lab.m.fork_begin(p, eager);
    REQUIRE_MESSAGE(job.ok(), job.message());
    const size_t procs = lab.m.pids().size();
    parts = 0;
    u64 last = 0;
    while (!job->done) {
        REQUIRE(lab.m.fork_step(*job, 1000).ok());
        ++parts;
        lab.check();
        CHECK(job->pages_done >= last);
        last = job->pages_done;
        if (!job->done) CHECK(lab.m.pids().size() == procs);
    }
    CHECK(job->pages_done == job->pages_total);
    CHECK_FALSE(lab.m.fork_step(*job, 1000).ok());   // over
    return job->r;
}
}  // namespace

TEST_CASE("a fork made a part at a time ends as fork() does, and the machine is whole between parts") {
    for (bool eager : {false, true}) {
        Lab whole(small_config(1 * GiB)), parted(small_config(1 * GiB));
        for (Lab* lab : {&whole, &parted}) {
            Pid p = lab->spawn();
            u64 buf = lab->mmap(p, 24 * MiB);
            lab->write(p, buf, 24 * MiB);
            u64 other = lab->mmap(p, 6 * MiB, "other");
            lab->write(p, other + 2 * MiB, 1 * MiB);
        }
        Pid p = whole.m.pids()[0];
        const ForkResult a = whole.ok(eager ? whole.m.fork_eager(p) : whole.m.fork(p));
        int parts = 0;
        const ForkResult b = fork_in_parts(parted, p, eager, parts);
        CHECK(parts >= 6);   // 6,400 entries, 1,000 at a time (at 2 MiB boundaries)
        CHECK(a.child == b.child);
        CHECK(a.ptes_copied == b.ptes_copied);
        CHECK(a.pt_pages == b.pt_pages);
        CHECK(a.pages_copied == b.pages_copied);
        CHECK(a.time_ns == b.time_ns);
        CHECK(whole.m.now_ns() == parted.m.now_ns());
        CHECK(whole.m.meminfo().used == parted.m.meminfo().used);
        CHECK(whole.rollup(a.child).pss() == parted.rollup(b.child).pss());
        CHECK(whole.rollup(p).pss() == parted.rollup(p).pss());
        CHECK(whole.m.events().total() == parted.m.events().total());
    }
}

TEST_CASE("a fork made in parts that runs out of memory releases what it had made") {
    MachineConfig cfg = small_config(64 * MiB);
    Lab lab(cfg);
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 40 * MiB);
    lab.write(p, buf, 40 * MiB);
    const u64 used = lab.m.meminfo().used;
    Result<ForkJob> job = lab.m.fork_begin(p, true);   // 40 MiB more do not fit
    REQUIRE(job.ok());
    Status st;
    while (!job->done && st) st = lab.m.fork_step(*job, 512);
    CHECK(st.code() == Errc::no_memory);
    CHECK(job->done);
    lab.check();
    CHECK(lab.m.meminfo().used == used);
    CHECK(lab.m.pids().size() == 1);
    CHECK(lab.m.events().count(EventKind::fork_failed) == 1);
}

namespace {
// The events since sequence number first: kind, frame and time of each.
std::vector<std::string> events_since(const Lab& lab, u64 first) {
    std::vector<std::string> log;
    for (u64 i = first; i < lab.m.events().total(); ++i) {
        const Event& e = lab.m.events().at(i - lab.m.events().first_seq());
        log.push_back(std::string(to_string(e.kind)) + " " + std::to_string(e.frame.v) + " " + std::to_string(e.time_ns));
    }
    return log;
}
}  // namespace

TEST_CASE("an exit made a part at a time ends as exit() does, events in the same order") {
    std::vector<std::string> logs[2];
    for (int parted = 0; parted < 2; ++parted) {
        Lab lab(small_config(1 * GiB));
        Pid p = lab.spawn();
        u64 a = lab.mmap(p, 24 * MiB);
        lab.write(p, a, 24 * MiB);
        u64 s = lab.mmap_shared(p, 4 * MiB);   // its last user: the exit frees its pages
        lab.write(p, s, 4 * MiB);
        u64 b = lab.mmap(p, 8 * MiB, "b");
        lab.write(p, b, 8 * MiB);
        Pid c = lab.fork(p);
        lab.write(c, a, 2 * MiB);
        const u64 first = lab.m.events().total();
        if (!parted) {
            lab.exit(c);
        } else {
            Result<ExitJob> job = lab.m.exit_begin(c, 0);
            REQUIRE(job.ok());
            int parts = 0;
            while (!job->done) {
                REQUIRE(lab.m.exit_step(*job, 1000).ok());
                ++parts;
                lab.check();
                if (!job->done) CHECK(lab.m.process(c)->alive());
            }
            CHECK(parts >= 3);
            CHECK_FALSE(lab.m.exit_step(*job, 1000).ok());
        }
        lab.check();
        CHECK(lab.m.process(c)->state == ProcState::zombie);
        logs[parted] = events_since(lab, first);
    }
    CHECK(logs[0].size() > 100);
    CHECK(logs[0] == logs[1]);
}

TEST_CASE("an exec made a part at a time ends as exec() does, events in the same order") {
    std::vector<std::string> logs[2];
    for (int parted = 0; parted < 2; ++parted) {
        Lab lab(small_config(1 * GiB));
        Pid p = lab.spawn();
        u64 a = lab.mmap(p, 24 * MiB);
        lab.write(p, a, 24 * MiB);
        Pid c = lab.fork(p);
        lab.write(c, a, 4 * MiB);
        const u64 first = lab.m.events().total();
        if (!parted) {
            lab.ok(lab.m.exec(c, bare_image("ls")));
        } else {
            Result<ExecJob> job = lab.m.exec_begin(c, bare_image("ls"));
            REQUIRE(job.ok());
            int parts = 0;
            while (!job->done) {
                REQUIRE(lab.m.exec_step(*job, 1000).ok());
                ++parts;
                lab.check();
            }
            CHECK(parts >= 3);
        }
        lab.check();
        CHECK(lab.m.process(c)->name == "ls");
        CHECK(lab.rollup(c).rss < 1 * MiB);
        logs[parted] = events_since(lab, first);
    }
    CHECK(logs[0].size() > 100);
    CHECK(logs[0] == logs[1]);
}
