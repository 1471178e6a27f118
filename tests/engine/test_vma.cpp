// Address spaces: mmap placement, splitting VMAs, mprotect, madvise, bad ranges.
#include "lab.h"

using namespace test;

TEST_CASE("mmap places mappings top-down, page aligned, 2 MiB aligned when large and anonymous") {
    Lab lab;
    Pid p = lab.spawn();
    u64 a = lab.mmap(p, 10 * KiB);
    u64 b = lab.mmap(p, 10 * KiB);
    CHECK(a % kPageSize == 0);
    CHECK(b < a);
    CHECK(b + 12 * KiB <= a);
    u64 big = lab.mmap(p, 3 * MiB);
    CHECK(big % kHugeSize == 0);
    MachineConfig cfg = small_config();
    cfg.align_anon_mmap_to_thp = false;              // kernels before 6.7
    Lab old(cfg);
    Pid q = old.spawn();
    old.mmap(q, 10 * KiB);
    CHECK(old.mmap(q, 3 * MiB) % kHugeSize != 0);
}

TEST_CASE("a munmap in the middle splits a VMA in two and the halves keep their pages") {
    Lab lab;
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 12 * kPageSize);
    lab.write(p, buf, 12 * kPageSize);
    const size_t vmas = lab.m.address_space(p)->vmas.size();
    lab.ok(lab.m.munmap(p, buf + 4 * kPageSize, 4 * kPageSize));
    CHECK(lab.m.address_space(p)->vmas.size() == vmas + 1);
    CHECK(lab.vma_stats(p, buf).rss == 4 * kPageSize);
    CHECK(lab.vma_stats(p, buf + 8 * kPageSize).rss == 4 * kPageSize);
    CHECK(lab.m.access(p, buf + 5 * kPageSize, 1, Access::read).code() == Errc::killed);
}

TEST_CASE("mprotect and madvise refuse ranges with holes (ENOMEM) and change nothing") {
    Lab lab;
    Pid p = lab.spawn();
    u64 a = lab.mmap(p, 4 * kPageSize);
    Status st = lab.m.mprotect(p, a, 8 * kPageSize, prot::read);
    CHECK(st.code() == Errc::no_memory);
    CHECK(lab.m.madvise(p, a - 4 * kPageSize, 8 * kPageSize, Advice::dontfork).code() == Errc::no_memory);
    lab.check();
    lab.write(p, a, 4 * kPageSize);                  // still writable
    CHECK(lab.m.madvise(p, a, kPageSize, static_cast<Advice>(99)).code() == Errc::invalid_argument);
}

TEST_CASE("bad mmap arguments are errors with reasons, never clamped") {
    Lab lab;
    Pid p = lab.spawn();
    CHECK(lab.m.mmap(p, {.len = 0}).code() == Errc::invalid_argument);
    CHECK(lab.m.mmap(p, {.len = 1ull << 50}).code() == Errc::limit);
    CHECK(lab.m.mmap(p, {.len = kPageSize, .prot = 0x80}).code() == Errc::invalid_argument);
    CHECK(lab.m.mmap(p, {.len = kPageSize, .file = FileId{12345}}).code() == Errc::invalid_argument);
    FileId f = lab.ok(lab.m.create_file("/f", 8 * KiB));
    CHECK(lab.m.mmap(p, {.len = 16 * KiB, .file = f}).message().find("past the end") != std::string::npos);
    CHECK(lab.m.mmap(p, {.len = 4 * KiB, .file = f, .offset = 100}).code() == Errc::invalid_argument);
    CHECK(lab.m.create_file("", 10).code() == Errc::invalid_argument);
    CHECK(lab.m.munmap(p, ~u64{0} - kPageSize + 1, 2 * kPageSize).code() == Errc::bad_address);
    lab.check();
}

TEST_CASE("the address space can fill up: mmap then fails with ENOMEM") {
    MachineConfig cfg = small_config();
    cfg.overcommit = Overcommit::always;
    Lab lab(cfg);
    Pid p = lab.spawn();
    Result<u64> r = lab.m.mmap(p, {.len = 60 * 1024 * GiB});
    REQUIRE(r.ok());
    Result<u64> r2 = lab.m.mmap(p, {.len = 60 * 1024 * GiB});
    CHECK(r2.code() == Errc::no_memory);
    lab.check();
}
