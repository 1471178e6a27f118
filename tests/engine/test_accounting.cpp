// Accounting: smaps fields, Pss fixed point, USS, VmPTE, meminfo.
#include <cstring>

#include "lab.h"

using namespace test;

TEST_CASE("Pss divides a shared page by the number of processes mapping it, in the kernel's fixed point") {
    Lab lab;
    Pid a = lab.spawn();
    u64 buf = lab.mmap(a, kPageSize);
    lab.write(a, buf, kPageSize);
    Pid b = lab.fork(a);
    Pid c = lab.fork(a);
    const MemStats s = lab.vma_stats(c, buf);
    CHECK(s.pss_fp == (kPageSize << kPssShift) / 3);
    CHECK(s.pss_kb() == (((kPageSize << kPssShift) / 3) >> kPssShift) >> 10);
    CHECK(s.shared_dirty == kPageSize);
    CHECK(s.uss() == 0);
    (void)b;
}

TEST_CASE("summing Rss over workers overstates memory; Pss sums to what is really used") {
    Lab lab(small_config(1 * GiB));
    Pid master = lab.spawn(default_image("server"));
    u64 heap = lab.mmap(master, 64 * MiB);
    lab.write(master, heap, 64 * MiB);
    std::vector<Pid> workers;
    for (int i = 0; i < 4; ++i) workers.push_back(lab.fork(master));
    u64 rss_sum = lab.rollup(master).rss, pss_sum = lab.rollup(master).pss_fp;
    for (Pid w : workers) {
        rss_sum += lab.rollup(w).rss;
        pss_sum += lab.rollup(w).pss_fp;
    }
    CHECK(rss_sum >= 5 * 64 * MiB);
    const u64 pss_bytes = pss_sum >> kPssShift;
    CHECK(pss_bytes < rss_sum / 4);
    CHECK(pss_bytes >= 64 * MiB);
}

TEST_CASE("USS is Private_Clean + Private_Dirty; the file pages of one process are private and clean") {
    Lab lab;
    Pid p = lab.spawn(default_image("solo"));
    const MemStats s = lab.rollup(p);
    CHECK(s.uss() == s.private_clean + s.private_dirty);
    CHECK(s.private_clean > 0);                        // text read from the page cache, mapped once
    CHECK(s.shared() == 0);
    CHECK(s.rss == s.uss());
}

TEST_CASE("VmPTE counts PTE, PMD and PUD table pages, not the PGD") {
    Lab lab;
    Pid p = lab.spawn(bare_image("tiny"));
    const u64 before = lab.ok(lab.m.status(p)).vm_pte;
    u64 buf = lab.mmap(p, 8 * MiB);
    lab.write(p, buf, 8 * MiB);
    const u64 after = lab.ok(lab.m.status(p)).vm_pte;
    CHECK(after - before >= 4 * kPageSize);            // 8 MiB needs four PTE tables
    CHECK(after - before <= 6 * kPageSize);            // and perhaps a new PMD and PUD table
    CHECK(lab.m.meminfo().page_tables >= after + kPageSize);   // + the PGD
}

TEST_CASE("Committed_AS charges private writable mappings once per process") {
    Lab lab;
    Pid p = lab.spawn(bare_image("tiny"));
    const u64 c0 = lab.m.meminfo().committed_as;
    u64 buf = lab.mmap(p, 16 * MiB);
    CHECK(lab.m.meminfo().committed_as - c0 == 16 * MiB);
    lab.ok(lab.m.mmap(p, {.len = 16 * MiB, .prot = prot::read}));
    CHECK(lab.m.meminfo().committed_as - c0 == 16 * MiB);      // read-only: not charged
    const u64 c1 = lab.m.meminfo().committed_as;
    Pid c = lab.fork(p);
    CHECK(lab.m.meminfo().committed_as == 2 * c1);             // the child is charged its copy
    lab.ok(lab.m.munmap(c, buf, 16 * MiB));
    CHECK(lab.m.meminfo().committed_as == 2 * c1 - 16 * MiB);
}

TEST_CASE("Referenced follows the accessed bits; a fork makes the child's entries old") {
    Lab lab;
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 64 * KiB);
    lab.write(p, buf, 64 * KiB);
    CHECK(lab.vma_stats(p, buf).referenced == 64 * KiB);
    Pid c = lab.fork(p);
    CHECK(lab.vma_stats(c, buf).referenced == 0);
    lab.read(c, buf, kPageSize);
    CHECK(lab.vma_stats(c, buf).referenced == kPageSize);
}

TEST_CASE("munmap returns pages and frees page tables that no VMA needs") {
    Lab lab;
    Pid p = lab.spawn(bare_image("tiny"));
    const MemInfo m0 = lab.m.meminfo();
    u64 buf = lab.mmap(p, 16 * MiB);
    lab.write(p, buf, 16 * MiB);
    lab.ok(lab.m.munmap(p, buf, 16 * MiB));
    const MemInfo m1 = lab.m.meminfo();
    CHECK(m1.anon_pages == m0.anon_pages);
    CHECK(m1.page_tables - m0.page_tables <= 3 * kPageSize);   // the PGD, PUD and PMD tables may stay
    CHECK(lab.m.munmap(p, buf + 1, kPageSize).code() == Errc::invalid_argument);
    CHECK(lab.m.munmap(p, buf, 0).code() == Errc::invalid_argument);
}

TEST_CASE("smaps lists VMAs with kernel-style permissions and names") {
    Lab lab;
    Pid p = lab.spawn(default_image("server"));
    lab.mmap(p, 1 * MiB, "cache");
    std::vector<VmaStats> v = lab.ok(lab.m.smaps(p));
    bool heap = false, stack = false, anon = false, libc = false;
    for (const VmaStats& s : v) {
        heap |= s.name == "[heap]" && s.perms == "rw-p";
        stack |= s.name == "[stack]";
        anon |= s.name == "[anon:cache]";
        libc |= s.name.find("libc.so.6") != std::string::npos && s.perms == "r-xp";
    }
    CHECK(heap);
    CHECK(stack);
    CHECK(anon);
    CHECK(libc);
}

TEST_CASE("smaps_rollup taken a part at a time adds up to the rollup taken at once") {
    for (bool thp : {false, true}) {
        CAPTURE(thp);
        Lab lab(thp ? thp_config() : small_config());
        const Pid a = lab.spawn();
        const u64 big = lab.mmap(a, 9 * MiB + 3 * kPageSize);   // huge pages and a tail of 4 KiB ones
        lab.write(a, big, 9 * MiB + 3 * kPageSize);
        const u64 small = lab.mmap(a, 5 * kPageSize);
        lab.write(a, small + kPageSize, 2 * kPageSize);
        const Pid b = lab.fork(a);
        lab.write(b, big + 3 * kPageSize, kPageSize);   // splits one huge page (THP), copies one page
        const MemStats whole = lab.ok(lab.m.smaps_rollup(b));
        for (u64 part : {1ull, 100ull, 511ull, 512ull, 1000ull, 1ull << 20}) {
            CAPTURE(part);
            RollupJob j = lab.ok(lab.m.rollup_begin(b));
            int parts = 0;
            while (!j.done) {
                lab.m.rollup_step(j, part);
                ++parts;
            }
            CHECK(std::memcmp(&j.s, &whole, sizeof whole) == 0);
            if (part <= 512) CHECK(parts >= 5);   // 9 MiB in 2 MiB ranges: it did stop on the way
        }
        // A zombie's rollup is empty and done at once.
        lab.ok(lab.m.exit(b, 0));
        CHECK(lab.ok(lab.m.rollup_begin(b)).done);
        lab.check();
    }
}
