// ops_memory.cpp: the operations on memory: mmap, munmap, madvise,
// mprotect, and the reads and writes that touch it.
#include <cmath>

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

// The pages of [first, first + npages pages) that every/fraction/pages pick:
// every Nth, or distinct pages in a seeded random order.
Result<std::vector<u64>> chosen_pages(OpCall& c, u64 first, u64 npages) {
    std::vector<u64> addrs;
    if (c.has("every")) {
        Result<double> n = c.num("every", 1, true);
        if (!n) return n.status();
        if (*n < 1) return c.error("every: must be at least 1 (page)");
        const u64 stride = u64(std::llround(*n));
        for (u64 i = 0; i < npages; i += stride) addrs.push_back(first + i * kPageSize);
        return addrs;
    }
    u64 want;
    if (c.has("fraction")) {
        Result<double> f = c.num("fraction", 0, true);
        if (!f) return f.status();
        if (*f < 0 || *f > 1) return c.error("fraction: must be between 0 and 1");
        want = u64(std::llround(*f * double(npages)));
    } else {
        Result<double> n = c.num("pages", 0, true);
        if (!n) return n.status();
        if (*n < 0 || *n > double(npages)) return c.error("pages: must be between 0 and the region's " + std::to_string(npages));
        want = u64(std::llround(*n));
    }
    // A seeded partial Fisher-Yates shuffle: distinct pages, in a random order.
    std::vector<u32> idx(npages);
    for (u64 i = 0; i < npages; ++i) idx[i] = u32(i);
    Rng& rng = c.run.m.rng();
    for (u64 i = 0; i < want; ++i) {
        const u64 j = i + rng.below(npages - i);
        std::swap(idx[i], idx[j]);
        addrs.push_back(first + u64(idx[i]) * kPageSize);
    }
    return addrs;
}

Status access(OpCall& c, Access kind) {
    Result<Target> t = target(c);
    if (!t) return t.status();
    Result<std::pair<u64, u64>> r = range(c, t->region);
    if (!r) return r.status();
    const auto [start, len] = *r;
    const int picks = int(c.has("every")) + int(c.has("fraction")) + int(c.has("pages"));
    if (picks > 1) return c.error("use one of every, fraction and pages");
    Result<AccessResult> done = Status{};
    if (picks == 0) {
        done = c.run.m.access(t->pid, start, len, kind);
    } else {
        const u64 first = page_down(start);
        Result<std::vector<u64>> addrs = chosen_pages(c, first, pages_in(start + len - first));
        if (!addrs) return addrs.status();
        if (addrs->empty()) return {};
        done = c.run.m.access_pages(t->pid, *addrs, kind);
    }
    if (done) c.run.last_access = *done;
    return c.outcome(done.status());
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
