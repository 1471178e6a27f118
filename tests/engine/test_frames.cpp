// Physical frames: the allocator, counts, huge blocks.
#include <algorithm>

#include "lab.h"

using namespace test;

TEST_CASE("the frame allocator hands out every frame once and takes them back") {
    FrameTable t(4 * kPagesPerHuge);
    CHECK(t.free_count() == 2048);
    std::vector<FrameId> got;
    for (;;) {
        FrameId f = t.alloc(FrameKind::anon);
        if (f == kNoFrame) break;
        got.push_back(f);
    }
    CHECK(got.size() == 2048);
    std::sort(got.begin(), got.end());
    CHECK(std::adjacent_find(got.begin(), got.end()) == got.end());
    CHECK(t.alloc_huge() == kNoFrame);
    for (FrameId f : got) t.free(f);
    CHECK(t.free_count() == 2048);
    CHECK(t.free_huge_blocks() == 4);
}

TEST_CASE("small allocations fill partly used blocks first, keeping whole blocks for huge pages") {
    FrameTable t(4 * kPagesPerHuge);
    FrameId a = t.alloc(FrameKind::anon);
    FrameId b = t.alloc(FrameKind::anon);
    CHECK(a.v / kPagesPerHuge == b.v / kPagesPerHuge);
    CHECK(t.free_huge_blocks() == 3);
    FrameId h = t.alloc_huge();
    CHECK(h.v % kPagesPerHuge == 0);
    CHECK(t[h].kind() == FrameKind::huge_head);
    CHECK(t[h + 1].kind() == FrameKind::huge_tail);
    CHECK(t.free_count() == 2048 - 2 - 512);
    t.free_huge(h);
    CHECK(t.free_huge_blocks() == 3);
}

TEST_CASE("a RAM size that is not a whole number of 2 MiB blocks still serves every frame") {
    FrameTable t(kPagesPerHuge + 100);
    u64 n = 0;
    while (t.alloc(FrameKind::anon) != kNoFrame) ++n;
    CHECK(n == kPagesPerHuge + 100);
}

TEST_CASE("refcount is mapcount plus the page cache's reference for file pages") {
    Lab lab;
    Pid p = lab.spawn(default_image("a"));
    Pid q = lab.spawn(default_image("a"));          // same program: shares its text through the page cache
    const u64 e = lab.m.translate(p, lab.m.address_space(p)->vmas.front().start);
    REQUIRE(pte::is_present(e));
    const FrameId f = pte::pfn(e);
    CHECK(lab.m.frames()[f].kind() == FrameKind::file);
    CHECK(lab.m.frames()[f].mapcount() == 2);
    CHECK(lab.m.frames().refcount(f) == 3);
    (void)q;
}
