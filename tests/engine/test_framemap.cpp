// The frame map (framemap.h): the code each physical frame is drawn with.
#include <array>
#include <set>
#include <string>

#include "lab.h"

using namespace test;

namespace {

using Census = std::array<u64, kFrameCodeCount>;

// How many frames the map shows with each code.
Census census(const Machine& m) {
    std::vector<u8> map;
    fill_frame_map(m, map);
    REQUIRE(map.size() == m.frames().total());
    Census c{};
    for (u8 code : map) {
        REQUIRE(code < kFrameCodeCount);
        ++c[code];
    }
    return c;
}

u64 count(const Census& c, FrameCode code) { return c[u8(code)]; }

// The frame mapped at addr (a subpage, under a huge PMD).
FrameId frame_at(const Lab& lab, Pid p, u64 addr) {
    const u64 e = lab.m.translate(p, addr);
    REQUIRE(pte::is_present(e));
    return pte::pfn(e) + ((e & pte::huge) ? pte_index(addr) : 0);
}

FrameCode code_at(const Lab& lab, Pid p, u64 addr) { return frame_code(lab.m.frames(), frame_at(lab, p, addr)); }

// Every page in [addr, addr + len) has this code.
void check_range(const Lab& lab, Pid p, u64 addr, u64 len, FrameCode code) {
    for (u64 a = addr; a < addr + len; a += kPageSize) {
        INFO("page at +" << (a - addr) / kPageSize);
        CHECK(code_at(lab, p, a) == code);
    }
}

}  // namespace

TEST_CASE("a fresh machine's map is free frames, the kernel's reserved frames and the zero page") {
    MachineConfig cfg = small_config();
    cfg.kernel_reserved_bytes = 4 * MiB;
    Lab lab(cfg);
    const Census c = census(lab.m);
    CHECK(count(c, FrameCode::reserved) == 1024);
    CHECK(count(c, FrameCode::zero) == 1);
    CHECK(count(c, FrameCode::free) == lab.m.frames().total() - 1025);
    CHECK(frame_code(lab.m.frames(), lab.m.zero_frame()) == FrameCode::zero);
    lab.check();
}

TEST_CASE("the map holds one byte per frame, the code frame_code gives that frame") {
    Lab lab;
    Pid p = lab.spawn(default_image("prog"));
    u64 buf = lab.mmap(p, 64 * KiB);
    lab.write(p, buf, 64 * KiB);
    lab.fork(p);
    std::vector<u8> map(3, 0xff);   // resized to fit, whatever it held
    fill_frame_map(lab.m, map);
    REQUIRE(map.size() == lab.m.frames().total());
    for (FrameId f; f.v < map.size(); ++f.v) {
        INFO("frame " << f.v);
        REQUIRE(map[f.v] == u8(frame_code(lab.m.frames(), f)));
    }
    lab.check();
}

TEST_CASE("pages a process writes are private, and its page tables are shown as page tables") {
    Lab lab;
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 64 * KiB);
    lab.write(p, buf, 64 * KiB);
    check_range(lab, p, buf, 64 * KiB, FrameCode::private_page);
    const Census c = census(lab.m);
    CHECK(count(c, FrameCode::private_page) == 16);
    CHECK(count(c, FrameCode::page_table) * kPageSize == lab.m.meminfo().page_tables);
    CHECK(count(c, FrameCode::page_table) == 4);   // PGD, PUD, PMD and one PTE table
    lab.check();
}

TEST_CASE("a spawned program's text is its mapped page cache, its written data a private copy beside the cached file page") {
    Lab lab;
    Image im = bare_image("prog");
    im.warm = true;                 // reads the 16 KiB text, writes the data page and the stack's top page
    Pid p = lab.spawn(im);
    const Census c = census(lab.m);
    CHECK(count(c, FrameCode::private_page) == 4 + 1 + 1);
    CHECK(count(c, FrameCode::cache) == 1);   // the data page's file copy, which nobody maps
    CHECK(lab.counters(p).file_copies == 1);
    lab.check();
}

TEST_CASE("after fork the pages both processes map are shared by 2, and a second fork makes them shared by 3+") {
    Lab lab;
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 64 * KiB);
    lab.write(p, buf, 64 * KiB);
    Pid c1 = lab.fork(p);
    check_range(lab, p, buf, 64 * KiB, FrameCode::shared2);
    check_range(lab, c1, buf, 64 * KiB, FrameCode::shared2);
    Census c = census(lab.m);
    CHECK(count(c, FrameCode::shared2) == 16);
    CHECK(count(c, FrameCode::private_page) == 0);
    lab.fork(p);
    check_range(lab, p, buf, 64 * KiB, FrameCode::shared3);
    c = census(lab.m);
    CHECK(count(c, FrameCode::shared3) == 16);
    CHECK(count(c, FrameCode::shared2) == 0);
    lab.check();
}

TEST_CASE("a write to a shared page gives the writer a private copy and leaves the original private to the other") {
    Lab lab;
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 64 * KiB);
    lab.write(p, buf, 64 * KiB);
    Pid c = lab.fork(p);
    const FrameId before = frame_at(lab, c, buf);
    CHECK(lab.write(c, buf, kPageSize).cow_copies == 1);
    CHECK(frame_at(lab, c, buf) != before);
    CHECK(frame_at(lab, p, buf) == before);
    CHECK(code_at(lab, c, buf) == FrameCode::private_page);
    CHECK(code_at(lab, p, buf) == FrameCode::private_page);
    check_range(lab, c, buf + kPageSize, 60 * KiB, FrameCode::shared2);
    const Census n = census(lab.m);
    CHECK(count(n, FrameCode::private_page) == 2);
    CHECK(count(n, FrameCode::shared2) == 15);
    lab.check();
}

TEST_CASE("a read of untouched anonymous memory shows the zero page and takes no frame of its own") {
    Lab lab;
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 64 * KiB);
    lab.read(p, buf, 64 * KiB);
    check_range(lab, p, buf, 64 * KiB, FrameCode::zero);
    const Census c = census(lab.m);
    CHECK(count(c, FrameCode::zero) == 1);
    CHECK(count(c, FrameCode::private_page) == 0);
    lab.write(p, buf, kPageSize);
    CHECK(code_at(lab, p, buf) == FrameCode::private_page);
    CHECK(code_at(lab, p, buf + kPageSize) == FrameCode::zero);
    lab.check();
}

TEST_CASE("a huge page is shown as huge, shared after fork, and a write that splits it leaves the rest shared") {
    Lab lab(thp_config());
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 2 * MiB);
    REQUIRE(lab.write(p, buf, 2 * MiB).thp_faults == 1);
    check_range(lab, p, buf, 2 * MiB, FrameCode::huge);
    CHECK(count(census(lab.m), FrameCode::huge) == 512);
    Pid c = lab.fork(p);
    check_range(lab, c, buf, 2 * MiB, FrameCode::huge_shared);
    CHECK(count(census(lab.m), FrameCode::huge_shared) == 512);
    REQUIRE(lab.write(c, buf, kPageSize).thp_splits == 1);
    CHECK(code_at(lab, c, buf) == FrameCode::private_page);          // the child's copy
    CHECK(code_at(lab, p, buf) == FrameCode::huge);                  // the parent alone maps that subpage now
    check_range(lab, c, buf + kPageSize, 2 * MiB - kPageSize, FrameCode::huge_shared);
    const Census n = census(lab.m);
    CHECK(count(n, FrameCode::huge_shared) == 511);
    CHECK(count(n, FrameCode::huge) == 1);
    lab.check();
}

TEST_CASE("a read of an untouched huge range shows the huge zero page") {
    Lab lab(thp_config());
    Pid p = lab.spawn();
    u64 buf = lab.mmap(p, 2 * MiB);
    REQUIRE(lab.read(p, buf, 2 * MiB).zero_page_maps == 1);
    check_range(lab, p, buf, 2 * MiB, FrameCode::zero);
    const Census c = census(lab.m);
    CHECK(count(c, FrameCode::zero) == 1 + 512);
    CHECK(count(c, FrameCode::huge) == 0);
    lab.check();
}

TEST_CASE("a file page stays in the page cache after its last mapping goes, shown as cache") {
    Lab lab;
    Pid p = lab.spawn();
    FileId f = lab.ok(lab.m.create_file("/var/lib/data.bin", 64 * KiB));
    u64 a = lab.ok(lab.m.mmap(p, {.len = 64 * KiB, .prot = prot::read, .file = f}));
    lab.read(p, a, 64 * KiB);
    check_range(lab, p, a, 64 * KiB, FrameCode::private_page);
    CHECK(count(census(lab.m), FrameCode::cache) == 0);
    lab.ok(lab.m.munmap(p, a, 64 * KiB));
    const Census c = census(lab.m);
    CHECK(count(c, FrameCode::cache) == 16);
    CHECK(count(c, FrameCode::private_page) == 0);
    lab.check();
}

TEST_CASE("when every process has exited the map shows only free frames, the zero page and the page cache") {
    Lab lab(thp_config());
    const u64 total = lab.m.frames().total();
    Pid p = lab.spawn(default_image("prog"));
    u64 buf = lab.mmap(p, 4 * MiB);
    lab.write(p, buf, 4 * MiB);
    Pid c = lab.fork(p);
    lab.write(c, buf, 64 * KiB);
    lab.exit(c);
    lab.exit(p);
    const Census n = census(lab.m);
    const u64 cache = count(n, FrameCode::cache);
    CHECK(cache > 0);                                          // libc's and the program's pages stay cached
    CHECK(count(n, FrameCode::zero) == 1);
    CHECK(count(n, FrameCode::free) == total - 1 - cache);
    CHECK(lab.m.frames().free_count() == total - 1 - cache);
    lab.check();
}

TEST_CASE("every frame code has a name of its own") {
    std::set<std::string> names;
    for (int c = 0; c < kFrameCodeCount; ++c) {
        const std::string name = to_string(FrameCode(c));
        CHECK(!name.empty());
        CHECK(name != "?");
        names.insert(name);
    }
    CHECK(names.size() == size_t(kFrameCodeCount));
}

TEST_CASE("a follower of the map recodes only the chunks that changed, and ends as the whole map") {
    for (bool thp : {false, true}) {
        CAPTURE(thp);
        Lab lab(thp ? thp_config() : small_config());
        FrameMapFollower follow;
        std::vector<u8> whole;
        // Refreshes, checks the follower's map against the whole map, and says how many frames it recoded.
        auto refresh = [&] {
            u64 recoded = 0;
            for (auto [a, b] : follow.refresh(lab.m)) {
                REQUIRE(a < b);
                recoded += b - a;
            }
            fill_frame_map(lab.m, whole);
            REQUIRE(follow.codes() == whole);
            return recoded;
        };
        CHECK(refresh() == lab.m.frames().total());   // the first time: every frame
        CHECK(refresh() == 0);                        // nothing changed
        const Pid p = lab.spawn();
        const u64 buf = lab.mmap(p, 8 * MiB);
        lab.write(p, buf, 8 * MiB);
        CHECK(refresh() > 0);
        CHECK(refresh() == 0);
        // After a fork, every frame both map reads shared (huge: its PMD mapcount, kept apart, is compared too).
        const Pid c = lab.fork(p);
        const u64 after_fork = refresh();
        CHECK(after_fork > 0);
        CHECK(follow.codes()[frame_at(lab, c, buf).v] == u8(thp ? FrameCode::huge_shared : FrameCode::shared2));
        // One page written: a chunk or two (the copy, a page table), not the machine.
        lab.write(c, buf, kPageSize);
        const u64 one = refresh();
        CHECK(one > 0);
        CHECK(one <= 3 * ChunkedArray<Frame, 14>::kChunk);
        lab.check();
        // Another machine of the same size: every frame again.
        lab = Lab(thp ? thp_config() : small_config());
        CHECK(refresh() == lab.m.frames().total());
    }
}
