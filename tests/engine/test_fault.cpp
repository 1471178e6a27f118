// The fault handler: zero page, zero fill, COW copy and reuse, file pages, THP.
#include "lab.h"

using namespace test;

TEST_CASE("reading untouched anonymous memory maps the zero page and costs no RSS") {
    Lab lab;
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 1 * MiB);
    AccessResult r = lab.read(p, buf, 1 * MiB);
    CHECK(r.zero_page_maps == 256);
    CHECK(r.minor_faults == 256);
    CHECK(lab.vma_stats(p, buf).rss == 0);
    CHECK(lab.peek(p, buf) == 0);
    AccessResult w = lab.write(p, buf, kPageSize);
    CHECK(w.zero_fills == 1);                         // wp_page_copy() from the zero page
    CHECK(lab.vma_stats(p, buf).rss == kPageSize);
}

TEST_CASE("without a zero page, a read allocates a page") {
    MachineConfig c = small_config();
    c.zero_page = false;
    Lab lab(c);
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 1 * MiB);
    AccessResult r = lab.read(p, buf, 1 * MiB);
    CHECK(r.zero_page_maps == 0);
    CHECK(r.zero_fills == 256);
    CHECK(lab.vma_stats(p, buf).rss == 1 * MiB);
}

TEST_CASE("the first write to anonymous memory allocates a zeroed page; later writes do not fault") {
    Lab lab;
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 64 * KiB);
    const u64 flt0 = lab.ok(lab.m.status(p)).min_flt;
    AccessResult a = lab.write(p, buf, 64 * KiB);
    CHECK(a.zero_fills == 16);
    CHECK(a.minor_faults == 16);
    AccessResult b = lab.write(p, buf, 64 * KiB);
    CHECK(b.minor_faults == 0);
    CHECK(b.pages == 16);
    CHECK(lab.ok(lab.m.status(p)).min_flt == flt0 + 16);
}

TEST_CASE("after fork the first writer copies and the last sharer reuses the page in place") {
    Lab lab;
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, kPageSize);
    lab.write(p, buf, kPageSize);
    Pid c = lab.fork(p);
    AccessResult pw = lab.write(p, buf, kPageSize);
    CHECK(pw.cow_copies == 1);
    AccessResult cw = lab.write(c, buf, kPageSize);
    CHECK(cw.cow_reuses == 1);                         // do_wp_page(): the child alone maps it now
    CHECK(cw.cow_copies == 0);
    CHECK(lab.m.events().count(EventKind::cow_reuse) == 1);
}

TEST_CASE("with the always-copy rule the last sharer copies too") {
    MachineConfig cfg = small_config();
    cfg.cow_reuse = CowReuse::always_copy;
    Lab lab(cfg);
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, kPageSize);
    lab.write(p, buf, kPageSize);
    Pid c = lab.fork(p);
    CHECK(lab.write(p, buf, kPageSize).cow_copies == 1);
    CHECK(lab.write(c, buf, kPageSize).cow_copies == 1);
}

TEST_CASE("writing a private file mapping copies the page-cache page; a shared one dirties it") {
    Lab lab;
    Pid p = lab.spawn();
    FileId f = lab.ok(lab.m.create_file("/var/lib/data.bin", 64 * KiB));
    u64 priv = lab.ok(lab.m.mmap(p, {.len = 64 * KiB, .prot = prot::read | prot::write, .file = f}));
    u64 shared = lab.ok(lab.m.mmap(p, {.len = 64 * KiB, .prot = prot::read | prot::write, .shared = true, .file = f}));
    AccessResult r = lab.read(p, priv, 64 * KiB);
    CHECK(r.major_faults == 16);                       // read from disk into the page cache
    const u32 disk = lab.peek(p, priv);
    CHECK(disk != 0);
    AccessResult w = lab.write(p, priv, kPageSize);
    CHECK(w.file_copies == 1);
    CHECK(w.cow_copies == 0);
    CHECK(lab.peek(p, shared) == disk);                // the file is unchanged
    AccessResult s = lab.write(p, shared + kPageSize, kPageSize);
    CHECK(s.major_faults == 0);                        // already cached
    CHECK(lab.peek(p, priv + kPageSize) == lab.peek(p, shared + kPageSize));   // private mapping sees it too (not yet copied)
    const MemStats ss = lab.vma_stats(p, shared);
    CHECK(ss.private_dirty + ss.shared_dirty == kPageSize);
}

TEST_CASE("fault-around: a read of a cached file maps 16 pages per fault, within the window and the VMA") {
    Lab lab;
    Pid p = lab.spawn();
    FileId f = lab.ok(lab.m.create_file("/usr/lib/libbig.so", 256 * KiB));
    u64 first = lab.ok(lab.m.mmap(p, {.len = 256 * KiB, .prot = prot::read, .file = f}));
    AccessResult cold = lab.read(p, first, 256 * KiB);
    CHECK(cold.major_faults == 64);                    // nothing cached: every page is read from disk
    CHECK(cold.minor_faults == 0);
    Pid q = lab.spawn();
    u64 b = lab.ok(lab.m.mmap(q, {.len = 256 * KiB, .prot = prot::read, .file = f}));
    AccessResult warm = lab.read(q, b, 256 * KiB);
    CHECK(warm.major_faults == 0);
    // 64 cached pages, 16 (64 KiB) per fault; one more when the mapping does not start on a
    // 64 KiB boundary (the first window then runs from the VMA's start, as do_fault_around()).
    const u64 faults = (b & (64 * KiB - 1)) ? 5 : 4;
    CHECK(warm.minor_faults == faults);
    CHECK(warm.file_faults == faults);
    CHECK(lab.vma_stats(q, b).rss == 256 * KiB);
    // One read in the middle maps its whole 64 KiB window, not only the page read.
    Pid r = lab.spawn();
    u64 c = lab.ok(lab.m.mmap(r, {.len = 256 * KiB, .prot = prot::read, .file = f}));
    AccessResult one = lab.read(r, c + 100 * KiB, 1);
    CHECK(one.minor_faults == 1);
    CHECK(lab.vma_stats(r, c).rss == 64 * KiB);
    // The window stops at the VMA: a 12 KiB mapping maps at most its 3 pages.
    Pid s = lab.spawn();
    u64 d = lab.ok(lab.m.mmap(s, {.len = 12 * KiB, .prot = prot::read, .file = f, .offset = 16 * KiB}));
    lab.read(s, d, 1);
    CHECK(lab.vma_stats(s, d).rss == 12 * KiB);
}

TEST_CASE("fault-around maps only what is cached, never on a write, and can be turned off") {
    MachineConfig off = small_config(256 * MiB);
    off.fault_around_bytes = kPageSize;
    for (const bool around : {true, false}) {
        Lab lab(around ? small_config(256 * MiB) : off);
        Pid p = lab.spawn();
        FileId f = lab.ok(lab.m.create_file("/srv/data", 64 * KiB));
        u64 a = lab.ok(lab.m.mmap(p, {.len = 64 * KiB, .prot = prot::read | prot::write, .file = f}));
        lab.read(p, a + 8 * KiB, kPageSize);           // caches one page (a major fault)
        Pid q = lab.spawn();
        u64 b = lab.ok(lab.m.mmap(q, {.len = 64 * KiB, .prot = prot::read | prot::write, .file = f}));
        AccessResult r = lab.read(q, b, kPageSize);    // page 0 is not cached: read from disk
        CHECK(r.major_faults == 1);
        // Page 2, cached, comes along: page 0's window runs 64 KiB from the VMA's start.
        CHECK(lab.vma_stats(q, b).rss == (around ? 8 * KiB : 4 * KiB));
        AccessResult w = lab.write(q, b + 32 * KiB, kPageSize);   // a write copies one page, maps nothing else
        CHECK(w.file_copies == 1);
        CHECK(lab.vma_stats(q, b).rss == (around ? 12 * KiB : 8 * KiB));
    }
    MachineConfig bad = small_config(256 * MiB);
    bad.fault_around_bytes = 48 * KiB;
    CHECK(Machine::create(bad).status().err == Errc::invalid_argument);
}

TEST_CASE("THP: a write to a huge-page region faults in 2 MiB at once") {
    MachineConfig cfg = small_config();
    cfg.thp = ThpMode::always;
    Lab lab(cfg);
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 8 * MiB);
    CHECK(buf % kHugeSize == 0);                       // large anonymous mmaps are THP aligned
    AccessResult r = lab.write(p, buf, 1);
    CHECK(r.thp_faults == 1);
    const MemStats s = lab.vma_stats(p, buf);
    CHECK(s.rss == 2 * MiB);
    CHECK(s.anon_huge == 2 * MiB);
    CHECK(s.private_dirty == 2 * MiB);
}

TEST_CASE("THP: a read maps the huge zero page; a write after it splits and allocates 4 KiB") {
    MachineConfig cfg = small_config();
    cfg.thp = ThpMode::always;
    Lab lab(cfg);
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 4 * MiB);
    lab.read(p, buf, 4 * MiB);
    CHECK(lab.vma_stats(p, buf).rss == 0);
    AccessResult w = lab.write(p, buf, kPageSize);
    CHECK(w.thp_splits == 1);
    CHECK(w.zero_fills == 1);
    CHECK(lab.vma_stats(p, buf).rss == kPageSize);
}

TEST_CASE("THP after fork: Linux >= 5.8 splits the PMD and copies one 4 KiB page") {
    MachineConfig cfg = small_config();
    cfg.thp = ThpMode::madvise;
    Lab lab(cfg);
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 4 * MiB);
    lab.ok(lab.m.madvise(p, buf, 4 * MiB, Advice::hugepage));
    lab.write(p, buf, 4 * MiB);
    Pid c = lab.fork(p);
    const u64 used = lab.m.meminfo().used;
    AccessResult w = lab.write(c, buf, 1);
    CHECK(w.thp_splits == 1);
    CHECK(w.cow_copies == 1);
    CHECK(lab.m.meminfo().used - used == kPageSize);
    const MemStats cs = lab.vma_stats(c, buf);
    CHECK(cs.private_dirty == kPageSize);
    CHECK(cs.anon_huge == 2 * MiB);                    // the second huge page is still PMD-mapped
    const MemStats ps = lab.vma_stats(p, buf);
    CHECK(ps.anon_huge == 4 * MiB);
    CHECK(ps.private_dirty == kPageSize);              // the subpage the child no longer maps
    // The child's next write in the split range copies 4 KiB again (subpages of a huge page are never reused).
    CHECK(lab.write(c, buf + kPageSize, 1).cow_copies == 1);
}

TEST_CASE("THP after fork: Linux <= 5.7 copies the whole 2 MiB page") {
    MachineConfig cfg = small_config();
    cfg.thp = ThpMode::always;
    cfg.thp_cow = ThpCow::copy_huge;
    Lab lab(cfg);
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 4 * MiB);
    lab.write(p, buf, 4 * MiB);
    Pid c = lab.fork(p);
    const u64 used = lab.m.meminfo().used;
    AccessResult w = lab.write(c, buf, 1);
    CHECK(w.thp_copies == 1);
    CHECK(lab.m.meminfo().used - used == 2 * MiB);
    CHECK(lab.vma_stats(c, buf).private_dirty == 2 * MiB);
    CHECK(lab.vma_stats(c, buf).anon_huge == 4 * MiB);
}

TEST_CASE("a write to a read-only mapping kills the process with SIGSEGV") {
    Lab lab;
    Pid p = lab.spawn();
    u64 ro = lab.ok(lab.m.mmap(p, {.len = kPageSize, .prot = prot::read}));
    Result<AccessResult> r = lab.m.access(p, ro, 1, Access::write);
    CHECK(r.code() == Errc::killed);
    CHECK(r.message().find("SIGSEGV") != std::string::npos);
    lab.check();
    CHECK(lab.m.process(p)->exit_status == 11);
}

TEST_CASE("an access outside every VMA kills the process; beyond user space too") {
    Lab lab;
    Pid p = lab.spawn();
    CHECK(lab.m.access(p, 0x1000, 1, Access::read).code() == Errc::killed);
    Pid q = lab.spawn();
    CHECK(lab.m.access(q, ~u64{0} - 10, 5, Access::read).code() == Errc::killed);
    lab.check();
    CHECK(lab.m.access(q, 0x1000, 1, Access::read).code() == Errc::no_such_process);   // no parent: reaped
}

TEST_CASE("mprotect read-only then writable again: the next write reuses the page") {
    Lab lab;
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 16 * KiB);
    lab.write(p, buf, 16 * KiB);
    lab.ok(lab.m.mprotect(p, buf, 16 * KiB, prot::read));
    CHECK(lab.m.access(p, buf, 1, Access::write).code() == Errc::killed);
    Pid q = lab.spawn();
    u64 b2 = lab.mmap(q, 16 * KiB);
    lab.write(q, b2, 16 * KiB);
    lab.ok(lab.m.mprotect(q, b2, 16 * KiB, prot::read));
    lab.ok(lab.m.mprotect(q, b2, 16 * KiB, prot::read | prot::write));
    AccessResult w = lab.write(q, b2, kPageSize);
    CHECK(w.cow_reuses == 1);
}

TEST_CASE("MADV_DONTNEED drops anonymous pages: they read back as zeros") {
    Lab lab;
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 64 * KiB);
    lab.write(p, buf, 64 * KiB);
    lab.ok(lab.m.madvise(p, buf, 64 * KiB, Advice::dontneed));
    CHECK(lab.vma_stats(p, buf).rss == 0);
    CHECK(lab.peek(p, buf) == 0);
}
