// Page tables: entries and their bits through fault, fork and write.
#include "lab.h"

using namespace test;

TEST_CASE("fork write-protects private pages in both processes and keeps them dirty; the child's are old") {
    Lab lab;
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, kPageSize);
    lab.write(p, buf, kPageSize);
    const u64 before = lab.m.translate(p, buf);
    CHECK((before & pte::writable));
    CHECK((before & pte::dirty));
    CHECK((before & pte::accessed));
    Pid c = lab.fork(p);
    const u64 pe = lab.m.translate(p, buf), ce = lab.m.translate(c, buf);
    CHECK(pte::pfn(pe) == pte::pfn(ce));             // the same frame
    CHECK(!(pe & pte::writable));
    CHECK(!(ce & pte::writable));
    CHECK((ce & pte::dirty));
    CHECK(!(ce & pte::accessed));
    CHECK(lab.m.frames()[pte::pfn(pe)].mapcount() == 2);
    lab.write(c, buf, 1);
    const u64 after = lab.m.translate(c, buf);
    CHECK(pte::pfn(after) != pte::pfn(pe));
    CHECK((after & pte::writable));
    CHECK(lab.m.frames()[pte::pfn(pe)].mapcount() == 1);
}

TEST_CASE("a shared mapping stays writable in the parent and is clean in the child's entry") {
    Lab lab;
    Pid p = lab.spawn();
    FileId f = lab.ok(lab.m.create_file("/shared.db", 8 * KiB));
    u64 m = lab.ok(lab.m.mmap(p, {.len = 8 * KiB, .shared = true, .file = f}));
    lab.write(p, m, kPageSize);
    lab.ok(lab.m.madvise(p, m, 8 * KiB, Advice::dofork));
    Pid c = lab.fork(p);
    CHECK((lab.m.translate(p, m) & pte::writable));
    CHECK(lab.m.translate(c, m) == 0);               // no anonymous pages: the child faults it in
    lab.read(c, m, kPageSize);
    const u64 ce = lab.m.translate(c, m);
    CHECK(pte::pfn(ce) == pte::pfn(lab.m.translate(p, m)));
    CHECK(!(ce & pte::dirty));
    CHECK(lab.m.frames()[pte::pfn(ce)].dirty());     // the page cache knows it is dirty
}

TEST_CASE("the zero page is mapped read-only and special, and never counted") {
    Lab lab;
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, kPageSize);
    lab.read(p, buf, 1);
    const u64 e = lab.m.translate(p, buf);
    CHECK(pte::pfn(e) == lab.m.zero_frame());
    CHECK((e & pte::special));
    CHECK(!(e & pte::writable));
    CHECK(lab.m.frames()[lab.m.zero_frame()].mapcount() == 0);
}

TEST_CASE("a huge page is one PMD entry with the PS bit; splitting gives 512 PTEs of the same frames") {
    MachineConfig cfg = small_config();
    cfg.thp = ThpMode::always;
    Lab lab(cfg);
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 2 * MiB);
    lab.write(p, buf, 2 * MiB);
    const u64 pmd = lab.m.translate(p, buf + 5 * kPageSize);
    CHECK((pmd & pte::huge));
    const FrameId head = pte::pfn(pmd);
    CHECK(lab.m.frames()[head].kind() == FrameKind::huge_head);
    const u32 before = lab.peek(p, buf + 5 * kPageSize);
    Pid c = lab.fork(p);
    lab.write(c, buf, 1);                            // splits the child's PMD
    const u64 e5 = lab.m.translate(c, buf + 5 * kPageSize);
    CHECK(!(e5 & pte::huge));
    CHECK(pte::pfn(e5) == head + 5);
    CHECK(lab.peek(c, buf + 5 * kPageSize) == before);
    CHECK(lab.m.frames().total_mapcount(head + 5) == 2);
}

TEST_CASE("VmPTE of a fresh process counts its tables; a fork's child gets its own") {
    Lab lab;
    Pid p = lab.spawn(default_image("server"));
    const ProcStatus s = lab.ok(lab.m.status(p));
    CHECK(s.vm_pte >= 3 * kPageSize);                // at least a PUD, a PMD and a PTE table
    Pid c = lab.fork(p);
    CHECK(lab.ok(lab.m.status(c)).vm_pte > 0);
}
