// The mapping view's query: several processes' entries over a range, side by
// side, in rows of pages, runs of alike pages, or parts of the range.
#include <algorithm>
#include <bit>

#include "lab.h"

using namespace test;

namespace {

Mapping rows(Lab& lab, std::vector<Pid> pids, u64 from, u64 to, u32 max_rows = 64) {
    return lab.ok(lab.m.mapping(MappingRequest{std::move(pids), from, to, max_rows}));
}

// The row's frames mapped by exactly these processes (bits in request order).
const MappingFrames* group(const MappingRow& r, u32 sharers) {
    for (const MappingFrames& f : r.frames)
        if (f.sharers == sharers) return &f;
    return nullptr;
}

}  // namespace

TEST_CASE("after fork both processes' entries map the same frames, read-only; a write re-points the writer's") {
    Lab lab;
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 8 * kPageSize);
    lab.write(p, buf, 8 * kPageSize);
    Mapping before = rows(lab, {p}, buf, buf + 8 * kPageSize);
    REQUIRE(before.rows == Mapping::Rows::pages);
    REQUIRE(before.row.size() == 8);
    CHECK((before.row[0].cells[0].first_entry & pte::writable));
    const FrameId f0 = before.row[0].cells[0].first_frame;

    Pid c = lab.fork(p);
    Mapping shared = rows(lab, {p, c}, buf, buf + 8 * kPageSize);
    REQUIRE(shared.row.size() == 8);
    for (const MappingRow& r : shared.row) {
        CHECK(r.pages() == 1);
        CHECK(r.cells[0].first_frame == r.cells[1].first_frame);        // one frame, two entries
        CHECK_FALSE((r.cells[0].first_entry & pte::writable));          // both write-protected
        CHECK_FALSE((r.cells[1].first_entry & pte::writable));
        CHECK(r.cells[0].table_frame != r.cells[1].table_frame);        // each has its own PTE table
        REQUIRE(r.frames.size() == 1);
        CHECK(r.frames[0].sharers == 0b11);
        CHECK(r.frames[0].mapcount == 2);
    }
    CHECK(shared.row[0].cells[0].first_frame == f0);

    lab.write(c, buf, 4);                                               // the child's first write
    Mapping after = rows(lab, {p, c}, buf, buf + 8 * kPageSize);
    const MappingRow& r0 = after.row[0];
    CHECK(r0.cells[0].first_frame == f0);                               // the parent keeps its frame
    CHECK(r0.cells[1].first_frame != f0);                               // the child maps a copy
    CHECK((r0.cells[1].first_entry & pte::writable));                   // ... writable
    CHECK_FALSE((r0.cells[0].first_entry & pte::writable));             // the parent's stays read-only until it writes
    REQUIRE(r0.frames.size() == 2);
    CHECK(group(r0, 0b01)->mapcount == 1);
    CHECK(group(r0, 0b10)->mapcount == 1);
    CHECK(group(r0, 0b10)->content != group(r0, 0b01)->content);       // the copy took the child's write
    CHECK(after.row[1].frames.size() == 1);                             // the other pages are still shared
    CHECK(after.row[1].cells[0].first_frame == after.row[1].cells[1].first_frame);

    lab.write(p, buf, 4);                                               // the parent alone maps it now: reused
    Mapping reused = rows(lab, {p, c}, buf, buf + kPageSize);
    CHECK(reused.row[0].cells[0].first_frame == f0);
    CHECK((reused.row[0].cells[0].first_entry & pte::writable));
}

TEST_CASE("a range of more pages than rows is shown as runs of alike pages") {
    Lab lab;
    Pid p = lab.spawn();
    const u64 pages = 1024;
    u64 buf = lab.mmap(p, pages * kPageSize);
    lab.write(p, buf, pages * kPageSize);
    Pid c = lab.fork(p);
    lab.write(c, buf + 10 * kPageSize, 4);
    Mapping m = rows(lab, {p, c}, buf, buf + pages * kPageSize);
    REQUIRE(m.rows == Mapping::Rows::runs);
    REQUIRE(m.row.size() == 3);
    CHECK(m.runs == 3);
    CHECK(m.row[0].pages() == 10);
    CHECK(m.row[1].pages() == 1);
    CHECK(m.row[2].pages() == pages - 11);
    CHECK(m.row[1].frames.size() == 2);
    const MappingFrames* rest = group(m.row[2], 0b11);
    REQUIRE(rest);
    CHECK(rest->pages == pages - 11);                                   // "1,013 entries -> 1,013 frames mapped by both"
    CHECK(rest->highest.v - rest->lowest.v + 1 >= rest->pages);
    for (const MappingRow& r : m.row) CHECK(r.alike);
}

TEST_CASE("a range of more runs than rows is shown in equal parts, each counted") {
    Lab lab;
    Pid p = lab.spawn();
    const u64 pages = 4096;
    u64 buf = lab.mmap(p, pages * kPageSize);
    lab.write(p, buf, pages * kPageSize);
    Pid c = lab.fork(p);
    for (u64 i = 0; i < pages; i += 8) lab.write(c, buf + i * kPageSize, 4);   // every 8th page copied
    Mapping m = rows(lab, {p, c}, buf, buf + pages * kPageSize, 16);
    REQUIRE(m.rows == Mapping::Rows::parts);
    CHECK(m.runs == 2 * pages / 8);
    REQUIRE(m.row.size() <= 16);
    u64 pages_seen = 0, copied = 0, shared = 0;
    for (const MappingRow& r : m.row) {
        pages_seen += r.pages();
        CHECK_FALSE(r.alike);
        CHECK(r.cells[1].present == r.pages());
        CHECK(r.cells[1].writable == r.pages() / 8);                   // the copies
        if (const MappingFrames* g = group(r, 0b10)) copied += g->pages;
        if (const MappingFrames* g = group(r, 0b11)) shared += g->pages;
    }
    CHECK(pages_seen == pages);
    CHECK(copied == pages / 8);
    CHECK(shared == pages - pages / 8);
    CHECK(m.row[0].from == buf);
    CHECK(m.row.back().to == buf + pages * kPageSize);
}

TEST_CASE("the zero page, huge pages and unmapped holes are told apart") {
    Lab lab(thp_config());
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 4 * MiB);
    lab.write(p, buf, 4);                                              // one huge page
    lab.ok(lab.m.madvise(p, buf + 2 * MiB, 2 * MiB, Advice::nohugepage));
    lab.read(p, buf + 2 * MiB, kPageSize);                             // the zero page
    Mapping m = rows(lab, {p}, buf, buf + 4 * MiB);
    REQUIRE(m.rows == Mapping::Rows::runs);
    REQUIRE(m.row.size() == 3);
    CHECK(m.row[0].pages() == 512);
    CHECK(m.row[0].cells[0].huge == 512);
    CHECK(m.row[0].frames[0].kind == FrameKind::huge_head);           // its first subpage is the head
    CHECK(m.row[0].frames[0].highest.v - m.row[0].frames[0].lowest.v == 511);
    CHECK(m.row[1].cells[0].zero == 1);
    CHECK(m.row[1].frames[0].kind == FrameKind::zero);
    CHECK(m.row[2].cells[0].present == 0);
    CHECK(m.row[2].cells[0].in_vma == 511);

    Mapping hole = rows(lab, {p}, buf + 4 * MiB, buf + 4 * MiB + 4 * kPageSize);
    for (const MappingRow& r : hole.row) CHECK(r.cells[0].in_vma == 0);
}

TEST_CASE("the mapping taken a part at a time equals the whole, at every part size") {
    Lab lab;
    Pid p = lab.spawn();
    const u64 pages = 3000;
    u64 buf = lab.mmap(p, pages * kPageSize);
    lab.write(p, buf, pages * kPageSize);
    Pid c = lab.fork(p);
    Pid g = lab.fork(c);
    for (u64 i = 0; i < pages; i += 37) lab.write(i % 2 ? c : g, buf + i * kPageSize, 4);
    const MappingRequest q{{p, c, g}, buf - 8 * kPageSize, buf + pages * kPageSize, 32};
    Mapping whole = lab.ok(lab.m.mapping(q));
    for (u64 part : {u64{1}, u64{300}, u64{512}, u64{2048}}) {
        MappingScan s = lab.ok(lab.m.mapping_begin(q));
        int calls = 0;
        while (!s.done) {
            lab.m.mapping_step(s, part);
            ++calls;
        }
        CHECK(calls > 1);
        REQUIRE(s.result.row.size() == whole.row.size());
        CHECK(s.result.runs == whole.runs);
        for (size_t i = 0; i < whole.row.size(); ++i) {
            CHECK(s.result.row[i].from == whole.row[i].from);
            CHECK(s.result.row[i].frames.size() == whole.row[i].frames.size());
            CHECK(s.result.row[i].cells[2].present == whole.row[i].cells[2].present);
        }
    }
}

TEST_CASE("a mapping request out of range or of no process is an error") {
    Lab lab;
    Pid p = lab.spawn();
    CHECK(lab.m.mapping({{}, 0, kPageSize}).code() == Errc::invalid_argument);
    CHECK(lab.m.mapping({{p}, 4096, 4096}).code() == Errc::bad_address);
    CHECK(lab.m.mapping({{p}, 100, 8192}).code() == Errc::bad_address);
    CHECK(lab.m.mapping({{p}, 0, kUserTop + kPageSize}).code() == Errc::bad_address);
    CHECK_FALSE(lab.m.mapping({{Pid(99)}, 0, kPageSize}).ok());
    CHECK(lab.m.mapping({{p, p, p, p, p, p, p, p, p}, 0, kPageSize}).code() == Errc::invalid_argument);
    CHECK(lab.m.mapping({{p}, 0, kPageSize, 0}).code() == Errc::invalid_argument);
}

TEST_CASE("a process's frames are marked, its huge pages' every subpage, the zero page not") {
    Lab lab(thp_config());
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 4 * MiB);
    lab.write(p, buf, 4);                                              // a huge page
    lab.ok(lab.m.madvise(p, buf + 2 * MiB, 2 * MiB, Advice::nohugepage));
    lab.read(p, buf + 2 * MiB, kPageSize);                             // the zero page
    lab.write(p, buf + 3 * MiB, kPageSize);                            // one small page
    Pid q = lab.spawn();
    lab.write(q, lab.mmap(q, 64 * KiB), 64 * KiB);
    std::vector<u8> mark(lab.m.frames().total(), 0);
    lab.m.mark_frames(p, mark, 7);
    u64 marked = 0;
    for (u64 f = 0; f < mark.size(); ++f) {
        if (!mark[f]) continue;
        ++marked;
        CHECK(mark[f] == 7);
        CHECK(f != lab.m.zero_frame().v);
    }
    const u64 rss_pages = lab.ok(lab.m.status(p)).vm_rss / kPageSize;
    CHECK(marked == rss_pages);                                        // every resident page, once
    std::vector<u8> small(16, 0);
    lab.m.mark_frames(q, small, 1);                                    // frames past the end are left out
}

TEST_CASE("every row's counts and frame ranges equal a page-by-page walk of the same range") {
    Lab lab(thp_config());
    Pid p = lab.spawn();
    const u64 len = 24 * MiB;
    u64 buf = lab.mmap(p, len);
    lab.write(p, buf, len / 2);                                        // huge pages in the first half
    lab.ok(lab.m.madvise(p, buf + len / 2, len / 2, Advice::nohugepage));
    lab.read(p, buf + len / 2, len / 4);                               // the zero page
    lab.write(p, buf + 3 * len / 4, len / 8);                          // small pages
    Pid c = lab.fork(p);
    Pid g = lab.fork(c);
    for (u64 i = 0; i < len / kPageSize; i += 13) lab.write(i % 3 ? c : g, buf + i * kPageSize, 4);
    const std::vector<Pid> pids{p, c, g};
    for (u32 max_rows : {1u, 7u, 64u, 100000u}) {
        Mapping m = rows(lab, pids, buf - 16 * kPageSize, buf + len + 16 * kPageSize, max_rows);
        REQUIRE(m.row.size() <= max_rows);
        for (const MappingRow& r : m.row) {
            std::vector<MappingCell> cells(3);
            std::vector<MappingFrames> groups;
            for (u64 a = r.from; a < r.to; a += kPageSize) {
                FrameId f[3];
                u64 e[3];
                for (size_t i = 0; i < 3; ++i) {
                    e[i] = lab.m.translate(pids[i], a);
                    f[i] = pte::is_present(e[i]) ? pte::pfn(e[i]) + ((e[i] & pte::huge) ? u32(pte_index(a)) : 0u) : kNoFrame;
                    if (!pte::is_present(e[i])) continue;
                    ++cells[i].present;
                    cells[i].writable += (e[i] & pte::writable) != 0;
                }
                for (size_t i = 0; i < 3; ++i) {
                    if (f[i] == kNoFrame) continue;
                    u32 sharers = 0;
                    for (size_t j = 0; j < 3; ++j) sharers |= u32(f[j] == f[i]) << j;
                    if (std::countr_zero(sharers) != int(i)) continue;   // counted by its first mapper
                    auto it = std::find_if(groups.begin(), groups.end(), [&](const MappingFrames& x) { return x.sharers == sharers; });
                    if (it == groups.end()) {
                        groups.push_back(MappingFrames{.sharers = sharers, .lowest = f[i], .highest = f[i]});
                        it = groups.end() - 1;
                    }
                    ++it->pages;
                    it->lowest = std::min(it->lowest, f[i]);
                    it->highest = std::max(it->highest, f[i]);
                }
            }
            for (size_t i = 0; i < 3; ++i) {
                CHECK(r.cells[i].present == cells[i].present);
                CHECK(r.cells[i].writable == cells[i].writable);
            }
            REQUIRE(r.frames.size() == groups.size());
            for (const MappingFrames& want : groups) {
                const MappingFrames* got = group(r, want.sharers);
                REQUIRE(got);
                CHECK(got->pages == want.pages);
                CHECK(got->lowest == want.lowest);
                CHECK(got->highest == want.highest);
            }
        }
    }
}
