// ops_memory.cpp: the operations on memory: mmap, munmap, madvise,
// mprotect, and the reads and writes that touch it.
#include <cmath>
#include <unordered_map>

#include "ops.h"

namespace cow {

namespace {

Result<u8> parse_prot(const std::string& s) {
    if (s == "none") return u8{prot::none};
    u8 p = 0;
    for (char c : s) {
        if (c == 'r') p |= prot::read;
        else if (c == 'w') p |= prot::write;
        else if (c == 'x') p |= prot::exec;
        else if (c != '-') return fail(Errc::invalid_argument, "protection '" + s + "' must be made of r, w, x or be none");
    }
    return p;
}

Result<Advice> parse_advice(const std::string& s) {
    static const std::pair<const char*, Advice> names[] = {
        {"dontneed", Advice::dontneed}, {"dontfork", Advice::dontfork}, {"dofork", Advice::dofork},
        {"wipeonfork", Advice::wipeonfork}, {"keeponfork", Advice::keeponfork}, {"hugepage", Advice::hugepage},
        {"nohugepage", Advice::nohugepage}};
    for (auto& [n, a] : names)
        if (s == n) return a;
    return fail(Errc::invalid_argument, "unknown advice '" + s +
                                            "' (dontneed, dontfork, dofork, wipeonfork, keeponfork, hugepage, nohugepage)");
}

Status op_mmap(OpCall& c) {
    Result<Pid> pid = c.proc("pid");
    if (!pid) return pid.status();
    Result<double> size = c.num("size", 0, true);
    if (!size) return size.status();
    if (*size < 1) return c.error("size: must be at least 1 byte");
    if (*size > 9e18) return c.error("size: larger than any address space");
    MmapArgs a;
    a.len = u64(std::llround(*size));
    a.name = c.text("as");
    if (c.has("prot")) {
        Result<u8> pr = parse_prot(c.text("prot"));
        if (!pr) return c.error(pr.message());
        a.prot = *pr;
    }
    Result<bool> shared = c.flag("shared", false);
    if (!shared) return shared.status();
    a.shared = *shared;
    Result<u64> addr = c.run.m.mmap(*pid, a);
    if (!addr) return c.outcome(addr.status());
    c.run.regions[a.name] = Region{*addr, page_up(a.len)};
    if (c.has("advice")) {
        Result<Advice> ad = parse_advice(c.text("advice"));
        if (!ad) return c.error(ad.message());
        return c.outcome(c.run.m.madvise(*pid, *addr, a.len, *ad));
    }
    return {};
}

// The process and the region an operation names.
struct Target {
    Pid pid = kNoPid;
    Region region;
};

Result<Target> target(OpCall& c) {
    Result<Pid> pid = c.proc("pid");
    if (!pid) return pid.status();
    Result<Region> region = c.region(*pid, "region");
    if (!region) return region.status();
    return Target{*pid, *region};
}

Status op_munmap(OpCall& c) {
    Result<Target> t = target(c);
    if (!t) return t.status();
    return c.outcome(c.run.m.munmap(t->pid, t->region.start, t->region.len));
}

Status op_mprotect(OpCall& c) {
    Result<Target> t = target(c);
    if (!t) return t.status();
    Result<u8> pr = parse_prot(c.text("prot"));
    if (!pr) return c.error(pr.message());
    return c.outcome(c.run.m.mprotect(t->pid, t->region.start, t->region.len, *pr));
}

// An optional [offset, offset + size) inside the region: {start, len}.
Result<std::pair<u64, u64>> range(OpCall& c, const Region& region) {
    Result<double> off = c.num("offset", 0, false);
    if (!off) return off.status();
    Result<double> size = c.num("size", double(region.len) - *off, false);
    if (!size) return size.status();
    if (*off < 0 || *size < 1 || *off + *size > double(region.len))
        return c.error("offset and size must lie inside the region (" + format_bytes(region.len) + ")");
    return std::pair{region.start + u64(std::llround(*off)), u64(std::llround(*size))};
}

Status op_madvise(OpCall& c) {
    Result<Target> t = target(c);
    if (!t) return t.status();
    Result<std::pair<u64, u64>> r = range(c, t->region);
    if (!r) return r.status();
    Result<Advice> ad = parse_advice(c.text("advice"));
    if (!ad) return c.error(ad.message());
    const auto [start, len] = *r;
    const u64 a = page_down(start);
    return c.outcome(c.run.m.madvise(t->pid, a, start + len - a, *ad));
}

// The pages an access touches, made a batch at a time so that a write over
// millions of pages runs in chunks: the whole range, every Nth page, or
// distinct pages in a seeded random order (a partial Fisher-Yates shuffle of
// the region's page indices; only the positions it has swapped are stored,
// so a 64 TiB region costs what its picks cost).
struct AccessPlan {
    enum class Pick : u8 { range, every, random };
    Pick pick = Pick::range;
    Target t;
    Access kind = Access::read;
    u64 start = 0, end = 0;            // range: the bytes; the others: the pages from page_down(start)
    u64 npages = 0, stride = 1, want = 0;
    u64 done = 0;                      // range: bytes from start; every, random: pages picked
    std::unordered_map<u64, u64> swapped;
    AccessResult total;

    u64 count() const {
        if (pick == Pick::range) return end - start;
        return pick == Pick::every ? (npages + stride - 1) / stride : want;
    }
    // The next batch of page addresses (every, random).
    std::vector<u64> batch(Rng& rng, u64 max) {
        std::vector<u64> out;
        const u64 first = page_down(start);
        for (; done < count() && out.size() < max; ++done) {
            if (pick == Pick::every) {
                out.push_back(first + done * stride * kPageSize);
                continue;
            }
            const u64 j = done + rng.below(npages - done);
            const u64 at_j = slot(j);
            set_slot(j, slot(done));   // position `done` is never visited again
            out.push_back(first + at_j * kPageSize);
        }
        return out;
    }
    // Position i of the shuffled indices: a table when that is the smaller
    // (small regions, or most of a region picked), else the swapped ones.
    u64 slot(u64 i) const {
        if (!dense.empty()) return dense[i];
        auto it = swapped.find(i);
        return it == swapped.end() ? i : it->second;
    }
    void set_slot(u64 i, u64 v) {
        if (dense.empty() && npages <= (u64{1} << 26) && (npages <= (u64{1} << 20) || want * 12 > npages)) {
            std::vector<u32> table(npages);
            for (u64 k = 0; k < npages; ++k) table[k] = u32(slot(k));
            dense = std::move(table);
            swapped.clear();
        }
        if (!dense.empty()) dense[i] = u32(v);
        else swapped[i] = v;
    }
    std::vector<u32> dense;
};

void add(AccessResult& to, const AccessResult& r) {
    for (auto [a, b] : {std::pair{&to.pages, r.pages}, {&to.minor_faults, r.minor_faults}, {&to.major_faults, r.major_faults},
                        {&to.zero_page_maps, r.zero_page_maps}, {&to.zero_fills, r.zero_fills}, {&to.cow_copies, r.cow_copies},
                        {&to.cow_reuses, r.cow_reuses}, {&to.thp_faults, r.thp_faults}, {&to.thp_splits, r.thp_splits},
                        {&to.thp_copies, r.thp_copies}, {&to.file_faults, r.file_faults}, {&to.file_copies, r.file_copies},
                        {&to.time_ns, r.time_ns}})
        *a += b;
}

// Reads the arguments into a plan (the first call of an access).
Status plan_access(OpCall& c, Access kind, AccessPlan& p) {
    Result<Target> t = target(c);
    if (!t) return t.status();
    Result<std::pair<u64, u64>> r = range(c, t->region);
    if (!r) return r.status();
    const auto [start, len] = *r;
    const int picks = int(c.has("every")) + int(c.has("fraction")) + int(c.has("pages"));
    if (picks > 1) return c.error("use one of every, fraction and pages");
    p.t = *t;
    p.kind = kind;
    p.start = start;
    p.end = start + len;
    p.npages = pages_in(start + len - page_down(start));
    if (picks == 0) return {};
    if (c.has("every")) {
        Result<double> n = c.num("every", 1, true);
        if (!n) return n.status();
        if (*n < 1) return c.error("every: must be at least 1 (page)");
        p.pick = AccessPlan::Pick::every;
        p.stride = u64(std::llround(*n));
        return {};
    }
    if (c.has("fraction")) {
        Result<double> f = c.num("fraction", 0, true);
        if (!f) return f.status();
        if (*f < 0 || *f > 1) return c.error("fraction: must be between 0 and 1");
        p.want = u64(std::llround(*f * double(p.npages)));
    } else {
        Result<double> n = c.num("pages", 0, true);
        if (!n) return n.status();
        if (*n < 0 || *n > double(p.npages)) return c.error("pages: must be between 0 and the region's " + std::to_string(p.npages));
        p.want = u64(std::llround(*n));
    }
    p.pick = AccessPlan::Pick::random;
    return {};
}

// A chunk: 4,096 pages, ending on a huge-page boundary where the range runs on.
constexpr u64 kChunkPages = 4096;

Status access(OpCall& c, Access kind) {
    if (!c.cur.state.has_value()) {
        AccessPlan p;
        if (Status st = plan_access(c, kind, p); !st) return st;
        const u64 pages = p.pick == AccessPlan::Pick::range ? p.npages : p.count();
        if (Status st = c.admit(pages, kind == Access::write ? "pages to write" : "pages to read"); !st) return st;
        c.cur.state = std::move(p);
    }
    AccessPlan& p = std::any_cast<AccessPlan&>(c.cur.state);
    if (p.count() == 0) return {};   // nothing picked: nothing touched
    Machine& m = c.run.m;
    while (p.done < p.count()) {
        Result<AccessResult> r = Status{};
        if (p.pick == AccessPlan::Pick::range) {
            const u64 a = p.start + p.done;
            // An access the engine refuses whole (beyond 64 TiB, or the user address space) is made whole.
            const bool whole = p.done == 0 && (p.end - p.start > 64 * 1024 * GiB || p.end > kUserTop);
            const u64 to = whole ? p.end : std::min(p.end, huge_down(a) + kChunkPages * kPageSize);
            r = m.access(p.t.pid, a, to - a, kind);
            p.done = to - p.start;
        } else {
            r = m.access_pages(p.t.pid, p.batch(m.rng(), kChunkPages), kind);
        }
        if (!r) return c.outcome(r.status());
        add(p.total, *r);
        if (p.done < p.count() && c.pause(p.done, p.count())) return {};
    }
    c.run.last_access = p.total;
    return {};
}

Status op_write(OpCall& c) { return access(c, Access::write); }
Status op_read(OpCall& c) { return access(c, Access::read); }

const std::vector<OpArg> kAccessArgs = {{"pid"}, {"region"}, {"offset", false}, {"size", false},
                                        {"every", false}, {"fraction", false}, {"pages", false}};
const char* kAccessDoc =
    "touch the range, or with one of `every: 10` every 10th page, `fraction: 0.1` 10% of the pages at random, "
    "`pages: 5` 5 random pages";

}  // namespace

std::vector<OpSpec> memory_ops() {
    return {
        {"mmap", {{"pid"}, {"as"}, {"size"}, {"prot", false}, {"shared", false}, {"advice", false}},
         "map anonymous memory, named region `as`; `prot` defaults to `rw`", op_mmap},
        {"munmap", {{"pid"}, {"region"}}, "unmap a region", op_munmap},
        {"madvise", {{"pid"}, {"region"}, {"advice"}, {"offset", false}, {"size", false}},
         "dontneed, dontfork, dofork, wipeonfork, keeponfork, hugepage, nohugepage", op_madvise},
        {"mprotect", {{"pid"}, {"region"}, {"prot"}}, "e.g. `r`, `rw`, `none`", op_mprotect},
        {"write", kAccessArgs, kAccessDoc, op_write},
        {"read", kAccessArgs, kAccessDoc, op_read},
    };
}

}  // namespace cow
