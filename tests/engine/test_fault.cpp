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
