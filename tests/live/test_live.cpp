// Live mode: parsing /proc (fixtures), its error paths, and sampling a real
// forked child whose writes must show in Private_Dirty to the page.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>

#include "live_feed.h"
#include "procfs.h"
#include "recorder.h"

using namespace cowlab::live;

namespace {
const std::string kFixtures = std::string(COWLAB_SOURCE_DIR) + "/tests/fixtures/proc";
constexpr cow::u64 kPage = 4096;
}  // namespace

TEST_CASE("a sample reads smaps_rollup, status and stat, in bytes") {
    ProcFs fs(kFixtures);
    cow::Result<ProcSample> s = fs.sample(100);
    REQUIRE_MESSAGE(s.ok(), s.message());
    CHECK(s->name == "redis-server (x)");   // parentheses inside the name
    CHECK(s->ppid == 1);
    CHECK(s->rss == 102400 * 1024ull);
    CHECK(s->pss == 51200 * 1024ull);
    CHECK(s->private_dirty == 4096 * 1024ull);
    CHECK(s->shared_dirty == 94208 * 1024ull);
    CHECK(s->uss() == 4096 * 1024ull);
    CHECK(s->vm_pte == 240 * 1024ull);
    CHECK(s->min_flt == 5120);
    CHECK(s->maj_flt == 7);
    CHECK(s->from_rollup);
}

TEST_CASE("without smaps_rollup the sample sums smaps over the VMAs") {
    cow::Result<ProcSample> s = ProcFs(kFixtures).sample(101);
    REQUIRE_MESSAGE(s.ok(), s.message());
    CHECK(!s->from_rollup);
    CHECK(s->rss == (8 + 1024) * 1024ull);
    CHECK(s->pss == (4 + 1024) * 1024ull);
    CHECK(s->private_dirty == 1024 * 1024ull);
    CHECK(s->shared_clean == 8 * 1024ull);
}

TEST_CASE("malformed /proc content, a missing process and one that exits mid-sample are told apart") {
    ProcFs fs(kFixtures);
    cow::Result<ProcSample> bad = fs.sample(102);
    CHECK(ProcFs::problem_of(bad.status()) == Problem::malformed);
    CHECK(bad.message().find("102/status: line 2") != std::string::npos);
    cow::Result<ProcSample> none = fs.sample(999);
    CHECK(ProcFs::problem_of(none.status()) == Problem::no_such_process);
    cow::Result<ProcSample> exited = fs.sample(103);   // stat answered, status was gone
    CHECK(ProcFs::problem_of(exited.status()) == Problem::exited);
    CHECK(exited.message().find("exited while sampled") != std::string::npos);
}

TEST_CASE("another user's process is reported as not permitted, never as zero") {
    if (geteuid() != 0) {
        MESSAGE("skipped: needs root to sample as another user");
        return;
    }
    // The parent becomes non-dumpable; a child that drops to nobody samples it.
    REQUIRE(prctl(PR_SET_DUMPABLE, 0) == 0);
    const pid_t target = getpid();
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
        cow::Result<ProcSample> s = ProcFs().sample(int(target));
        _exit(!s.ok() && ProcFs::problem_of(s.status()) == Problem::not_permitted ? 0 : 1);
    }
    int status = 0;
    waitpid(child, &status, 0);
    REQUIRE(prctl(PR_SET_DUMPABLE, 1) == 0);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("a forked child that writes K pages shows exactly K pages more Private_Dirty, and so does its parent") {
    constexpr cow::u64 kPages = 1000, kWrites = 321;
    char* buf = static_cast<char*>(mmap(nullptr, kPages * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    REQUIRE(buf != MAP_FAILED);
    madvise(buf, kPages * kPage, MADV_NOHUGEPAGE);
    std::memset(buf, 1, kPages * kPage);
    int go[2], done[2];
    REQUIRE(pipe(go) == 0);
    REQUIRE(pipe(done) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        close(go[1]);
        close(done[0]);
        // Run the whole path once without writing the buffer, so its stack and code are warm.
        for (int round = 0; round < 2; ++round) {
            char c = 0;
            if (read(go[0], &c, 1) != 1) _exit(1);
            if (round == 1)
                for (cow::u64 i = 0; i < kWrites; ++i) buf[i * kPage] = 2;
            if (write(done[1], &c, 1) != 1) _exit(1);
        }
        char c = 0;
        (void)!read(go[0], &c, 1);   // stay until the parent has sampled (it closes the pipe)
        _exit(0);
    }
    ProcFs fs;
    char c = 'x';
    REQUIRE(write(go[1], &c, 1) == 1);
    REQUIRE(read(done[0], &c, 1) == 1);
    cow::Result<ProcSample> child_before = fs.sample(int(child));
    cow::Result<ProcSample> parent_before = fs.sample(int(getpid()));
    REQUIRE_MESSAGE(child_before.ok(), child_before.message());
    REQUIRE(parent_before.ok());
    cow::Result<PageShare> shared_before = fs.pages(int(child), reinterpret_cast<cow::u64>(buf), kPages * kPage);
    const cow::u64 a = reinterpret_cast<cow::u64>(buf);
    cow::Result<ProcSample> vma_child_before = fs.sample_range(int(child), a, kPages * kPage);
    cow::Result<ProcSample> vma_parent_before = fs.sample_range(int(getpid()), a, kPages * kPage);
    REQUIRE(write(go[1], &c, 1) == 1);
    REQUIRE(read(done[0], &c, 1) == 1);
    cow::Result<ProcSample> child_after = fs.sample(int(child));
    cow::Result<ProcSample> parent_after = fs.sample(int(getpid()));
    REQUIRE(child_after.ok());
    REQUIRE(parent_after.ok());
    cow::Result<PageShare> shared_after = fs.pages(int(child), reinterpret_cast<cow::u64>(buf), kPages * kPage);
    cow::Result<ProcSample> vma_child_after = fs.sample_range(int(child), a, kPages * kPage);
    cow::Result<ProcSample> vma_parent_after = fs.sample_range(int(getpid()), a, kPages * kPage);
    close(go[1]);
    int status = 0;
    waitpid(child, &status, 0);
    munmap(buf, kPages * kPage);

    // The buffer's VMA, to the page: the child's copies are its own...
    REQUIRE(vma_child_before.ok());
    REQUIRE(vma_child_after.ok());
    CHECK(vma_child_before->private_dirty == 0);
    CHECK(vma_child_after->private_dirty == kWrites * kPage);
    CHECK(vma_child_after->shared_dirty == (kPages - kWrites) * kPage);
    // ...and the parent's originals of those pages are now its alone: shared -> private.
    REQUIRE(vma_parent_before.ok());
    REQUIRE(vma_parent_after.ok());
    CHECK(vma_parent_after->private_dirty - vma_parent_before->private_dirty == kWrites * kPage);
    CHECK(vma_parent_before->shared_dirty - vma_parent_after->shared_dirty == kWrites * kPage);
    // The whole process: the same, give or take the few stack and libc pages the
    // processes themselves touch between the two samples (measured: at most a few).
    const cow::u64 child_growth = child_after->private_dirty - child_before->private_dirty;
    CHECK(child_growth >= kWrites * kPage);
    CHECK(child_growth <= (kWrites + 8) * kPage);
    CHECK(child_after->min_flt - child_before->min_flt >= kWrites);
    // pagemap's exclusive bit (readable without privileges) sees the same pages.
    REQUIRE_MESSAGE(shared_after.ok(), shared_after.message());
    CHECK(shared_after->present == kPages);
    CHECK(shared_after->exclusive - shared_before->exclusive == kWrites);
}

TEST_CASE("what a recording writes, the lab reads back: samples, problems and page states") {
    char path[] = "/tmp/cowlab-recording-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    {
        Result<Recorder> rec = Recorder::open(path, "live", "cowlab live -p 1");
        REQUIRE_MESSAGE(rec.ok(), rec.message());
        ProcFs fs;
        std::vector<std::pair<int, Result<ProcSample>>> rows;
        rows.push_back({int(getpid()), fs.sample(int(getpid()))});
        rows.push_back({999999999, fs.sample(999999999)});
        REQUIRE(rec->sample(rec_sample(0.25, rows)).ok());
        REQUIRE(rec->pages({0.25, int(getpid()), 4096, "xxs..w"}).ok());
        REQUIRE(rec->close().ok());
    }
    std::FILE* f = std::fopen(path, "r");
    REQUIRE(f);
    std::string text;
    char buf[4096];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
    std::fclose(f);
    unlink(path);
    Result<cow::Recording> r = cow::Recording::parse(text, path);
    REQUIRE_MESSAGE(r.ok(), r.message());
    CHECK(r->ended);
    CHECK(r->warnings.empty());
    REQUIRE(r->samples.size() == 1);
    const cow::RecProc* me = r->samples[0].find(int(getpid()));
    REQUIRE(me);
    CHECK(me->rss > 0);
    CHECK(me->name == "cowlab-live-tes");   // the kernel's comm: 15 characters
    CHECK(r->samples[0].find(999999999)->problem == "no such process");
    REQUIRE(r->pages.size() == 1);
    CHECK(r->pages[0].states == "xxs..w");
}

TEST_CASE("maps: the anonymous private regions are where copy-on-write happens") {
    void* p = mmap(nullptr, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    std::memset(p, 1, 1 << 20);
    ProcFs fs;
    Result<std::vector<Region>> maps = read_maps(fs, int(getpid()));
    REQUIRE_MESSAGE(maps.ok(), maps.message());
    bool found = false;
    for (const Region& r : *maps)
        if (r.start <= reinterpret_cast<u64>(p) && r.end > reinterpret_cast<u64>(p)) found = r.anonymous_private();
    CHECK(found);
    CHECK_FALSE(Region{0, 4096, "r-xp", "/usr/bin/true"}.anonymous_private());
    CHECK_FALSE(Region{0, 4096, "rw-s", ""}.anonymous_private());
    CHECK(Region{0, 4096, "rw-p", "[heap]"}.anonymous_private());
    CHECK(read_maps(fs, 999999999).status().err == cow::Errc::no_such_process);
    // The feed samples this process and the page states of its anonymous memory.
    LiveFeed feed({.pids = {int(getpid())}}, "/proc");
    cow::Recording rec;
    REQUIRE(feed.sample(rec, 0, int(getpid())).ok());
    REQUIRE(rec.samples.size() == 1);
    u64 exclusive = 0;
    for (const cow::RecPages& pg : rec.pages)
        for (char c : pg.states) exclusive += c == 'x';
    CHECK(exclusive >= 256);   // the megabyte just written, at least
    REQUIRE(feed.sample(rec, 1, int(getpid())).ok());
    CHECK(rec.samples.size() == 2);
    for (const cow::RecPages& pg : rec.pages) CHECK(pg.t_s == 1);   // live mode keeps the newest states only
    munmap(p, 1 << 20);
}
