// mapping.cpp: the mapping view's query (mapping.h): the entries of a few
// processes over a range, page by page, grouped into rows of pages, runs or
// parts. The walk reads each process's tables once per 2 MiB, as smaps does.
#include "mapping.h"

#include <algorithm>
#include <array>
#include <bit>

#include "machine.h"

namespace cow {

namespace {

// One process's view of one page.
struct PageSeen {
    u64 entry = 0;
    FrameId frame = kNoFrame;
    FrameId table = kNoFrame;
    bool in_vma = false;
    u32 sharers = 0;      // bits of the processes whose entry maps the same frame here
    u32 mapcount = 0;
};

// What must agree for two pages to be alike in a process (mapping.h).
u64 signature(const PageSeen& p, const FrameTable& frames) {
    FrameKind k = p.frame == kNoFrame ? FrameKind::free : frames[p.frame].kind();
    if (k == FrameKind::huge_tail) k = FrameKind::huge_head;   // the subpages of one huge page are alike
    const u64 kind = p.frame == kNoFrame ? 0xf : u64(k);
    return (p.entry & 0xfff) | u64(p.in_vma) << 12 | u64(p.sharers) << 13 | kind << 21 |
           u64(std::min<u32>(p.mapcount, 0xffffff)) << 25;
}

// Pages alike in every process, one after another inside one part, added to
// their part and their run at once: only their frames differ (mapping.h).
struct Batch {
    u64 addr = 0, count = 0;
    bool first_same = false;     // its first page is alike the page before it
    u64 run = 0;                 // the run it belongs to, counted from 1
    u64 part = 0;                // where its part begins
    std::array<PageSeen, kMaxMappingPids> seen{};   // its first page
    std::array<FrameId, kMaxMappingPids> lo{}, hi{};
};

void add_pages(MappingRow& row, const Batch& b, size_t n, const FrameTable& frames) {
    const bool first = row.to == row.from;
    const u64 k = b.count;
    if (first) {
        row.from = b.addr;
        row.cells.assign(n, MappingCell{});
    }
    row.to = b.addr + k * kPageSize;
    for (size_t i = 0; i < n; ++i) {
        const PageSeen& p = b.seen[i];
        MappingCell& c = row.cells[i];
        if (first) {
            c.first_entry = p.entry;
            c.first_frame = p.frame;
            c.table_frame = p.table;
            c.first_in_vma = p.in_vma;
        }
        c.in_vma += k * p.in_vma;
        if (!pte::is_present(p.entry)) continue;
        c.present += k;
        c.writable += k * ((p.entry & pte::writable) != 0);
        c.dirty += k * ((p.entry & pte::dirty) != 0);
        c.huge += k * ((p.entry & pte::huge) != 0);
        c.zero += k * ((p.entry & pte::special) != 0);
        c.alone += k * (p.mapcount == 1);
        // A group's frames are counted once, by the first process that maps them here.
        const bool owner = (p.sharers & ((1u << i) - 1)) == 0;
        auto g = std::find_if(row.frames.begin(), row.frames.end(), [&](const MappingFrames& f) { return f.sharers == p.sharers; });
        if (g == row.frames.end()) {
            MappingFrames f;
            f.sharers = p.sharers;
            f.first = p.frame;
            f.lowest = b.lo[i];
            f.highest = b.hi[i];
            f.kind = frames[p.frame].kind();
            f.mapcount = p.mapcount;
            f.content = frames.content(p.frame);
            row.frames.push_back(f);
            g = row.frames.end() - 1;
        } else if (owner) {
            g->lowest = std::min(g->lowest, b.lo[i]);
            g->highest = std::max(g->highest, b.hi[i]);
        }
        if (owner) g->pages += k;
        if (first) c.group = int(g - row.frames.begin());
    }
}

// A batch into its run (while there are at most max_rows runs) and its part.
void flush(MappingScan& s, const Batch& b, size_t n, const FrameTable& frames) {
    if (!b.count) return;
    if (b.run <= s.request.max_rows) {
        if (!b.first_same || s.runs.empty()) s.runs.emplace_back();
        add_pages(s.runs.back(), b, n, frames);
    }
    if (s.parts.empty() || s.parts.back().from != b.part) s.parts.emplace_back();
    else s.parts.back().alike = s.parts.back().alike && b.first_same;
    add_pages(s.parts.back(), b, n, frames);
}

}  // namespace

Result<MappingScan> Machine::mapping_begin(const MappingRequest& q) const {
    if (q.pids.empty() || q.pids.size() > kMaxMappingPids)
        return fail(Errc::invalid_argument, "mapping: between 1 and " + std::to_string(kMaxMappingPids) + " processes");
    for (Pid p : q.pids)
        if (Status st = check_pid(p, "mapping", false); !st) return st;
    if ((q.from | q.to) & (kPageSize - 1) || q.from >= q.to || q.to > kUserTop)
        return fail(Errc::bad_address, "mapping: the range must be whole pages of user space, and not empty");
    if (q.max_rows == 0) return fail(Errc::invalid_argument, "mapping: max_rows must be at least 1");
    MappingScan s;
    s.request = q;
    s.addr = q.from;
    s.result.request = q;
    const u64 pages = (q.to - q.from) >> kPageShift;
    s.result.rows = pages <= q.max_rows ? Mapping::Rows::pages : Mapping::Rows::runs;
    // Parts of a power of two pages, on multiples of their size: at most max_rows of them.
    u64 part = 1;
    auto parts_of = [&](u64 p) {
        const u64 bytes = p << kPageShift;
        return ((q.to + bytes - 1) / bytes) - q.from / bytes;
    };
    while (parts_of(part) > q.max_rows && part < (u64{1} << 40)) part <<= 1;
    s.part_pages = part;
    s.last_sig.assign(q.pids.size(), 0);
    s.vma_at.assign(q.pids.size(), 0);
    s.done = false;
    return s;
}

void Machine::mapping_step(MappingScan& s, u64 max_pages) const {
    const MappingRequest& q = s.request;
    const size_t n = q.pids.size();
    u64 left = std::max<u64>(max_pages, 1);
    std::array<PageSeen, kMaxMappingPids> seen{};
    std::array<u64, kMaxMappingPids> sig{};
    const u64 part_bytes = s.part_pages << kPageShift;
    Batch batch;
    while (!s.done && left > 0) {
        const u64 end = std::min(q.to, huge_down(s.addr) + kHugeSize);
        // Each process's tables for this 2 MiB: a huge PMD, a PTE table, or nothing.
        struct Block {
            const Mm* mm = nullptr;
            u64 pmd = 0;
            const PageTables::Table* ptes = nullptr;
            FrameId table = kNoFrame;
        };
        std::array<Block, kMaxMappingPids> blk{};
        for (size_t i = 0; i < n; ++i) {
            Block& b = blk[i];
            b.mm = address_space(q.pids[i]);
            if (!b.mm) continue;
            const TableId pmd_t = pmd_table(*b.mm, s.addr);
            if (pmd_t == kNoTable) continue;
            const u64 e = tables_[pmd_t][pmd_index(s.addr)];
            if (!pte::is_present(e)) continue;
            if (e & pte::huge) {
                b.pmd = e;
                b.table = tables_.frame(pmd_t);
            } else {
                b.ptes = &tables_[pte::table(e)];
                b.table = tables_.frame(pte::table(e));
            }
        }
        for (u64 a = s.addr; a < end; a += kPageSize) {
            for (size_t i = 0; i < n; ++i) {
                PageSeen& p = seen[i];
                const Block& b = blk[i];
                p = PageSeen{};
                if (!b.mm) continue;
                size_t& v = s.vma_at[i];
                while (v < b.mm->vmas.size() && b.mm->vmas[v].end <= a) ++v;
                p.in_vma = v < b.mm->vmas.size() && b.mm->vmas[v].start <= a;
                p.entry = b.pmd ? b.pmd : b.ptes ? (*b.ptes)[pte_index(a)] : 0;
                if (!pte::is_present(p.entry)) continue;
                p.table = b.table;
                p.frame = pte::pfn(p.entry) + ((p.entry & pte::huge) ? u32(pte_index(a)) : 0u);
            }
            for (size_t i = 0; i < n; ++i) {
                PageSeen& p = seen[i];
                if (p.frame == kNoFrame) continue;
                for (size_t j = 0; j < n; ++j) p.sharers |= u32(seen[j].frame == p.frame) << j;
                const size_t owner = size_t(std::countr_zero(p.sharers));   // read once per frame
                p.mapcount = owner < i ? seen[owner].mapcount : frames_.total_mapcount(p.frame);
            }
            bool same = a != q.from;
            for (size_t i = 0; i < n; ++i) {
                sig[i] = signature(seen[i], frames_);
                same = same && sig[i] == s.last_sig[i];
                s.last_sig[i] = sig[i];
            }
            // A run goes on while pages look alike (one page a row while the range fits in max_rows).
            const bool by_page = s.result.rows == Mapping::Rows::pages;
            if (!same || by_page) ++s.result.runs;
            const u64 part = std::max(q.from, a & ~(part_bytes - 1));   // part_bytes is a power of two
            if (batch.count && same && !by_page && part == batch.part) {
                ++batch.count;
                for (size_t i = 0; i < n; ++i) {
                    batch.lo[i] = std::min(batch.lo[i], seen[i].frame);
                    batch.hi[i] = std::max(batch.hi[i], seen[i].frame);
                }
                continue;
            }
            flush(s, batch, n, frames_);
            batch = Batch{a, 1, same && !by_page, s.result.runs, part, seen, {}, {}};
            for (size_t i = 0; i < n; ++i) batch.lo[i] = batch.hi[i] = seen[i].frame;
        }
        left -= std::min(left, (end - s.addr) >> kPageShift);
        s.addr = end;
        s.done = s.addr >= q.to;
    }
    flush(s, batch, n, frames_);
    if (!s.done) return;
    if (s.result.runs <= q.max_rows) {
        s.result.row = std::move(s.runs);
    } else {
        s.result.rows = Mapping::Rows::parts;
        s.result.row = std::move(s.parts);
    }
    s.runs.clear();
    s.parts.clear();
}

void Machine::mark_frames(Pid pid, std::vector<u8>& mark, u8 value) const {
    const Mm* mm = address_space(pid);
    if (!mm) return;
    auto put = [&](FrameId f) {
        if (f.v < mark.size()) mark[f.v] = value;
    };
    for (const Vma& v : mm->vmas)
        for (u64 a = v.start; a < v.end; a = std::min(v.end, huge_down(a) + kHugeSize)) {
            const TableId t = pmd_table(*mm, a);
            const u64 e = t == kNoTable ? 0 : tables_[t][pmd_index(a)];
            if (!pte::is_present(e)) continue;
            const u64 end = std::min(v.end, huge_down(a) + kHugeSize);
            if (e & pte::huge) {
                if (e & pte::special) continue;
                for (u64 p = a; p < end; p += kPageSize) put(pte::pfn(e) + u32(pte_index(p)));
                continue;
            }
            const PageTables::Table& ptes = tables_[pte::table(e)];
            for (u64 p = a; p < end; p += kPageSize) {
                const u64 x = ptes[pte_index(p)];
                if (pte::is_present(x) && !(x & pte::special)) put(pte::pfn(x));
            }
        }
}

Result<Mapping> Machine::mapping(const MappingRequest& q) const {
    Result<MappingScan> s = mapping_begin(q);
    if (!s) return s.status();
    while (!s->done) mapping_step(*s, ~u64{0});
    return std::move(s->result);
}

}  // namespace cow
