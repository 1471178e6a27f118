// A randomized differential test: the engine against a deliberately simple
// reference model that copies every page by value on fork.
//
// The reference keeps, per process, a map page -> {content, token}. A token
// names a physical page: fork copies tokens, a write gives the page a new
// token (COW), MAP_SHARED pages keep theirs. A page is "shared" when two or
// more live processes hold its token: exactly what the engine's mapcount says.
// Contents follow the engine's rule: each page written gets the next number.
#include <map>
#include <random>
#include <set>

#include "lab.h"

using namespace test;

namespace {

struct RefPage {
    u32 content = 0;   // the engine's rule: 1 .. 65535, then around again
    u64 token = 0;
};

struct RefVma {
    u64 start = 0, end = 0;
    bool shared = false;
    bool dontfork = false, wipe = false;
    int shm = -1;                    // shared object index
    u64 shm_base = 0;                // page index of start inside the object
};

struct RefProc {
    Pid pid = kNoPid;
    bool alive = false;
    std::vector<RefVma> vmas;
    std::map<u64, RefPage> priv;     // private anonymous pages present (not the zero page)
    std::set<u64> touched;           // shared pages this process maps (PTE present)
};

struct RefShm {
    std::map<u64, RefPage> pages;    // object page index -> page
};

struct Reference {
    std::vector<RefProc> procs;
    std::vector<RefShm> shms;
    u32 next_content = 0;
    u64 next_token = 0;

    u32 new_content() {
        next_content = next_content == 0xffff ? 1 : next_content + 1;
        return next_content;
    }

    RefProc* find(Pid pid) {
        for (RefProc& p : procs)
            if (p.pid == pid && p.alive) return &p;
        return nullptr;
    }
    static const RefVma& vma_at(const RefProc& p, u64 a) {
        for (const RefVma& v : p.vmas)
            if (a >= v.start && a < v.end) return v;
        FAIL("reference: no VMA at ", a);
        static const RefVma none;
        return none;
    }
    RefPage* shm_page(const RefVma& v, u64 a) {
        u64 idx = v.shm_base + ((a - v.start) >> kPageShift);
        return &shms[size_t(v.shm)].pages[idx];
    }
    u32 read_content(RefProc& p, u64 a) {
        const RefVma& v = vma_at(p, a);
        if (v.shared) {
            u64 idx = v.shm_base + ((a - v.start) >> kPageShift);
            auto& pages = shms[size_t(v.shm)].pages;
            auto it = pages.find(idx);
            return it == pages.end() ? 0 : it->second.content;
        }
        auto it = p.priv.find(a);
        return it == p.priv.end() ? 0 : it->second.content;
    }
    void access(RefProc& p, u64 a, u64 n, bool write) {
        for (u64 i = 0; i < n; ++i, a += kPageSize) {
            const RefVma& v = vma_at(p, a);
            if (v.shared) {
                p.touched.insert(a);
                RefPage* pg = shm_page(v, a);
                if (pg->token == 0) pg->token = ++next_token;
                if (write) pg->content = new_content();
            } else if (write) {
                RefPage& pg = p.priv[a];
                pg.content = new_content();
                pg.token = ++next_token;
            }
        }
    }
    void unmap(RefProc& p, u64 a, u64 end) {
        for (auto it = p.priv.lower_bound(a); it != p.priv.end() && it->first < end;) it = p.priv.erase(it);
        for (auto it = p.touched.lower_bound(a); it != p.touched.end() && *it < end;) it = p.touched.erase(it);
    }
    // Rss, private and shared bytes of one process, from token holder counts.
    void stats(const RefProc& p, u64& rss, u64& priv, u64& shared) {
        std::map<u64, int> holders;
        for (const RefProc& q : procs) {
            if (!q.alive) continue;
            for (auto& [a, pg] : q.priv) holders[pg.token]++;
            for (u64 a : q.touched) holders[shm_page(vma_at(q, a), a)->token]++;
        }
        rss = priv = shared = 0;
        auto add = [&](u64 tok) {
            rss += kPageSize;
            (holders[tok] >= 2 ? shared : priv) += kPageSize;
        };
        for (auto& [a, pg] : p.priv) add(pg.token);
        for (u64 a : p.touched) add(shm_page(vma_at(p, a), a)->token);
    }
};

}  // namespace

TEST_CASE("100,000 random operations agree with a copy-by-value reference model") {
    MachineConfig cfg = small_config(64 * MiB);
    cfg.event_capacity = 1024;
    // The reference maps exactly the pages touched; fault-around (which maps cached
    // neighbours of a read) has its own tests in test_fault.cpp.
    cfg.fault_around_bytes = kPageSize;
    Lab lab(cfg);
    Reference ref;
    std::mt19937_64 rng(20261122);
    auto pick = [&](u64 n) { return u64(rng() % n); };

    auto spawn = [&] {
        Pid pid = lab.spawn(bare_image("p"));
        RefProc rp;
        rp.pid = pid;
        rp.alive = true;
        ref.procs.push_back(rp);
    };
    spawn();

    auto live = [&] {
        std::vector<RefProc*> out;
        for (RefProc& p : ref.procs)
            if (p.alive) out.push_back(&p);
        return out;
    };

    u64 ops = 0, compared_pages = 0;
    std::map<std::string, u64> op_counts;
    while (ops < 100000) {
        std::vector<RefProc*> procs = live();
        if (procs.empty()) {
            spawn();
            continue;
        }
        RefProc& p = *procs[size_t(pick(procs.size()))];
        const Pid pid = p.pid;
        const u64 choice = pick(100);
        std::string op;
        std::vector<u64> check_addrs;

        if (choice < 10 && p.vmas.size() < 8) {                     // mmap
            const u64 pages = 1 + pick(48);
            const bool shared = pick(4) == 0;
            Result<u64> r = lab.m.mmap(pid, {.len = pages * kPageSize, .shared = shared});
            REQUIRE_MESSAGE(r.ok(), r.message());
            RefVma v;
            v.start = *r;
            v.end = *r + pages * kPageSize;
            v.shared = shared;
            if (shared) {
                v.shm = int(ref.shms.size());
                ref.shms.emplace_back();
            }
            p.vmas.push_back(v);
            op = shared ? "mmap shared" : "mmap";
        } else if (choice < 14 && !p.vmas.empty()) {                // munmap a part
            RefVma& v = p.vmas[size_t(pick(p.vmas.size()))];
            const u64 pages = (v.end - v.start) >> kPageShift;
            const u64 first = pick(pages), n = 1 + pick(pages - first);
            const u64 a = v.start + first * kPageSize, end = a + n * kPageSize;
            lab.ok(lab.m.munmap(pid, a, n * kPageSize));
            ref.unmap(p, a, end);
            std::vector<RefVma> next;
            for (const RefVma& w : p.vmas) {
                if (w.end <= a || w.start >= end) { next.push_back(w); continue; }
                if (w.start < a) { RefVma l = w; l.end = a; next.push_back(l); }
                if (w.end > end) {
                    RefVma r = w;
                    r.start = end;
                    r.shm_base = w.shm_base + ((end - w.start) >> kPageShift);
                    next.push_back(r);
                }
            }
            p.vmas = next;
            op = "munmap";
        } else if (choice < 55 && !p.vmas.empty()) {                // write or read a range
            const RefVma& v = p.vmas[size_t(pick(p.vmas.size()))];
            const u64 pages = (v.end - v.start) >> kPageShift;
            const u64 first = pick(pages), n = 1 + pick(std::min<u64>(pages - first, 16));
            const u64 a = v.start + first * kPageSize;
            const bool write = choice < 40;
            lab.ok(lab.m.access(pid, a, n * kPageSize, write ? Access::write : Access::read));
            ref.access(p, a, n, write);
            for (u64 i = 0; i < n; ++i) check_addrs.push_back(a + i * kPageSize);
            op = write ? "write" : "read";
        } else if (choice < 68 && procs.size() < 7) {               // fork
            Pid child = lab.fork(pid);
            RefProc c;
            c.pid = child;
            c.alive = true;
            for (const RefVma& v : p.vmas) {
                if (v.dontfork) continue;
                c.vmas.push_back(v);
                for (auto& [a, pg] : p.priv)
                    if (a >= v.start && a < v.end && !v.wipe) c.priv[a] = pg;
            }
            ref.procs.push_back(c);                                 // p may move: do not use it below
            op = "fork";
        } else if (choice < 76 && procs.size() > 1) {               // exit
            lab.exit(pid);
            p.alive = false;
            op = "exit";
        } else if (choice < 84 && !p.vmas.empty()) {                // MADV_DONTNEED
            const RefVma& v = p.vmas[size_t(pick(p.vmas.size()))];
            lab.ok(lab.m.madvise(pid, v.start, v.end - v.start, Advice::dontneed));
            ref.unmap(p, v.start, v.end);
            op = "dontneed";
        } else if (choice < 90 && !p.vmas.empty()) {                // MADV_DONTFORK / WIPEONFORK on a whole VMA
            RefVma& v = p.vmas[size_t(pick(p.vmas.size()))];
            if (pick(2) == 0) {
                lab.ok(lab.m.madvise(pid, v.start, v.end - v.start, Advice::dontfork));
                v.dontfork = true;
                op = "dontfork";
            } else if (!v.shared) {
                lab.ok(lab.m.madvise(pid, v.start, v.end - v.start, Advice::wipeonfork));
                v.wipe = true;
                op = "wipeonfork";
            } else {
                continue;
            }
        } else {
            continue;
        }
        ++ops;
        op_counts[op]++;

        // After every operation: Rss, private and shared of every live process, and
        // the contents of the pages this operation touched.
        for (RefProc* q : live()) {
            u64 rss, priv, shared;
            ref.stats(*q, rss, priv, shared);
            const MemStats s = lab.rollup(q->pid);
            INFO("op ", ops, " (", op, ") pid ", q->pid);
            REQUIRE(s.rss == rss);
            REQUIRE(s.uss() == priv);
            REQUIRE(s.shared() == shared);
        }
        if (RefProc* q = ref.find(pid)) {
            for (u64 a : check_addrs) {
                INFO("op ", ops, " (", op, ") content at ", a);
                REQUIRE(lab.peek(pid, a) == ref.read_content(*q, a));
                ++compared_pages;
            }
        }
        if (ops % 5000 == 0) {                                       // every page of every process
            for (RefProc* q : live())
                for (const RefVma& v : q->vmas)
                    for (u64 a = v.start; a < v.end; a += kPageSize) {
                        REQUIRE(lab.peek(q->pid, a) == ref.read_content(*q, a));
                        ++compared_pages;
                    }
        }
    }
    MESSAGE("differential: ", ops, " operations, ", compared_pages, " page contents compared, ",
            lab.m.events().total(), " engine events");
    for (auto& [name, n] : op_counts) CHECK(n > 100);
}
