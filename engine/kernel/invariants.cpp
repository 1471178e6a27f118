// invariants.cpp: every invariant of the machine, checked family by family.
//
//   address spaces  each mm's users are the processes using it; its VMAs are
//                   sorted, page aligned and apart; its RSS and VmPTE counters
//                   equal what its page tables hold
//   page tables     every entry lies in a VMA; writable only where the VMA is;
//                   a huge PMD has a deposited table; a special entry is the
//                   zero page; a writable private page is mapped once
//   frames          each frame's mapcount equals the entries that map it; no
//                   anonymous page, huge page or table outlives its last
//                   mapping; a cached page is in exactly one page cache; free
//                   frames are the allocator's count
//   totals          Committed_AS is what the mappings charge; Pss summed over
//                   address spaces is the mapped frames; the live-process
//                   counter; nothing is left once every process has exited
//
// One walk of every page table fills a Census (mappings found per frame), which
// the frame checks then compare with the frames' own counts.
#include <cstdarg>
#include <cstdio>

#include "machine.h"

namespace cow {

namespace {
unsigned long long ull(u64 v) { return v; }

[[gnu::format(printf, 1, 2)]] Status broken(const char* fmt, ...) {
    char buf[256];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, args);
    va_end(args);
    return fail(Errc::invalid_argument, std::string("invariant: ") + buf);
}
}  // namespace

// What the walk of the page tables found, against which the frames are checked.
struct Machine::Census {
    explicit Census(u64 n) : maps(n, 0), pmd_maps(n / kPagesPerHuge + 1, 0), is_table(n, 0), in_cache(n, 0) {}
    std::vector<u32> maps;        // PTE mappings found per frame
    std::vector<u32> pmd_maps;    // PMD mappings found per 2 MiB block
    std::vector<u8> is_table;     // frame holds a live or deposited table
    std::vector<u8> in_cache;     // frame is in a page cache
    u64 committed = 0;            // pages the mappings and shmem objects charge
    u64 pss = 0;                  // Pss (fixed point) summed over address spaces
    u64 mappings = 0;             // leaf entries mapping a frame
    u64 free_frames = 0, mapped = 0;
    // The address space being walked, and what its tables hold.
    MmId mm;
    u64 rss_anon = 0, rss_file = 0, rss_shmem = 0, pt_pages = 0;
};

Status Machine::check_invariants() const {
    Census c(frames_.total());
    for (MmId id; id.v < mms_.size(); ++id.v)
        if (mm_at(id).live)
            if (Status st = check_mm(id, c); !st) return st;
    if (Status st = check_frames(c); !st) return st;
    return check_totals(c);
}

// ---------------------------------------------------------------- address spaces

Status Machine::check_mm(MmId id, Census& c) const {
    const Mm& mm = mm_at(id);
    u32 users = 0;
    for (Pid p{1}; p.v < procs_.size(); ++p.v)
        if (proc(p).alive() && proc(p).mm == id) ++users;
    if (users != mm.users) return broken("mm %u has %u users but %u processes use it", id.v, mm.users, users);
    c.committed += mm.committed;
    for (size_t i = 0; i < mm.vmas.size(); ++i) {
        const Vma& v = mm.vmas[i];
        if (v.start >= v.end || v.start % kPageSize || v.end % kPageSize || v.end > kUserTop)
            return broken("mm %u: VMA %zu [%llx, %llx) is malformed", id.v, i, ull(v.start), ull(v.end));
        if (i && mm.vmas[i - 1].end > v.start) return broken("mm %u: VMAs %zu and %zu overlap", id.v, i - 1, i);
    }
    c.mm = id;
    c.rss_anon = c.rss_file = c.rss_shmem = c.pt_pages = 0;
    if (mm.pgd != kNoTable)
        if (Status st = check_tables(mm, c); !st) return st;
    for (auto& [addr, f] : mm.deposited) {
        c.is_table[f.v] = 1;
        ++c.pt_pages;
    }
    if (c.rss_anon != mm.rss_anon || c.rss_file != mm.rss_file || c.rss_shmem != mm.rss_shmem)
        return broken("mm %u: RSS counters anon/file/shmem %llu/%llu/%llu, page tables say %llu/%llu/%llu", id.v,
                      ull(mm.rss_anon), ull(mm.rss_file), ull(mm.rss_shmem),
                      ull(c.rss_anon), ull(c.rss_file), ull(c.rss_shmem));
    if (c.pt_pages != mm.pt_pages)
        return broken("mm %u: VmPTE counts %llu table pages, the tables hold %llu", id.v, ull(mm.pt_pages), ull(c.pt_pages));
    for (const Vma& v : mm.vmas) {
        MemStats s;
        account_range(mm, v, s);
        c.pss += s.pss_fp;
    }
    return {};
}

// ---------------------------------------------------------------- page tables

// Every table of mm, from its PGD: the tables counted, each leaf checked.
Status Machine::check_tables(const Mm& mm, Census& c) const {
    c.is_table[tables_.frame(mm.pgd).v] = 1;
    for (u64 i = 0; i < kEntriesPerTable; ++i) {
        const u64 e1 = tables_[mm.pgd][i];
        if (!pte::is_present(e1)) continue;
        ++c.pt_pages;
        c.is_table[tables_.frame(pte::table(e1)).v] = 1;
        for (u64 j = 0; j < kEntriesPerTable; ++j) {
            const u64 e2 = tables_[pte::table(e1)][j];
            if (!pte::is_present(e2)) continue;
            ++c.pt_pages;
            c.is_table[tables_.frame(pte::table(e2)).v] = 1;
            for (u64 k = 0; k < kEntriesPerTable; ++k) {
                const u64 e3 = tables_[pte::table(e2)][k];
                if (!pte::is_present(e3)) continue;
                const u64 base = (i << 39) | (j << 30) | (k << 21);
                Status st = (e3 & pte::huge) ? check_huge_pmd(mm, base, e3, c) : check_pte_table(mm, base, pte::table(e3), c);
                if (!st) return st;
            }
        }
    }
    return {};
}

Status Machine::check_huge_pmd(const Mm& mm, u64 base, u64 e, Census& c) const {
    const size_t id = c.mm.v;
    if (!mm.deposited.count(base)) return broken("mm %zu: huge PMD at %llx has no deposited table", id, ull(base));
    const Vma* v = find_vma(mm, base);
    if (!v || base + kHugeSize > v->end) return broken("mm %zu: huge PMD at %llx outside a VMA", id, ull(base));
    if (e & pte::special) return {};
    const FrameId head = pte::pfn(e);
    if (frames_[head].kind() != FrameKind::huge_head)
        return broken("mm %zu: huge PMD maps frame %u of kind %s", id, head.v, to_string(frames_[head].kind()));
    c.pmd_maps[head.v / kPagesPerHuge]++;
    c.rss_anon += kPagesPerHuge;
    ++c.mappings;
    return {};
}

// The PTE table t mapping the 2 MiB from base.
Status Machine::check_pte_table(const Mm& mm, u64 base, TableId t, Census& c) const {
    const size_t id = c.mm.v;
    ++c.pt_pages;
    c.is_table[tables_.frame(t).v] = 1;
    for (u64 l = 0; l < kEntriesPerTable; ++l) {
        const u64 e = tables_[t][l];
        if (!pte::is_present(e)) continue;
        const u64 va = base | (l << 12);
        const Vma* v = find_vma(mm, va);
        if (!v) return broken("mm %zu: PTE at %llx outside every VMA", id, ull(va));
        if ((e & pte::writable) && !(v->prot & prot::write))
            return broken("mm %zu: writable PTE at %llx in a read-only VMA", id, ull(va));
        const FrameId f = pte::pfn(e);
        if (e & pte::special) {
            if (f != zero_frame_) return broken("mm %zu: special PTE at %llx is not the zero page", id, ull(va));
            continue;
        }
        if (f.v >= frames_.total()) return broken("mm %zu: PTE at %llx maps frame %u beyond RAM", id, ull(va), f.v);
        const FrameKind kind = frames_[f].kind();
        ++c.maps[f.v];
        ++c.mappings;
        if (kind == FrameKind::file) ++c.rss_file;
        else if (kind == FrameKind::shmem) ++c.rss_shmem;
        else if (kind == FrameKind::anon || kind == FrameKind::huge_head || kind == FrameKind::huge_tail) ++c.rss_anon;
        else return broken("mm %zu: PTE at %llx maps a frame of kind %s", id, ull(va), to_string(kind));
        // A private writable PTE must be exclusively owned (COW write-protects shared ones).
        if ((e & pte::writable) && !v->is_shared() && frames_.total_mapcount(f) != 1)
            return broken("mm %zu: writable private PTE at %llx maps frame %u that %u PTEs map", id, ull(va), f.v,
                          frames_.total_mapcount(f));
    }
    return {};
}

// ---------------------------------------------------------------- frames

// Every frame: counts match the tables, nothing outlives its last mapping.
Status Machine::check_frames(Census& c) const {
    for (const File& f : files_) {
        for (FrameId fr : f.cache) {
            if (fr == kNoFrame) continue;
            if (c.in_cache[fr.v]) return broken("frame %u is in two page caches", fr.v);
            c.in_cache[fr.v] = 1;
        }
        c.committed += f.committed;
    }
    for (FrameId f; f.v < frames_.total(); ++f.v)
        if (Status st = check_frame(f, c); !st) return st;
    if (c.free_frames != frames_.free_count())
        return broken("%llu frames are free but the allocator counts %llu", ull(c.free_frames), ull(frames_.free_count()));
    return {};
}

Status Machine::check_frame(FrameId f, Census& c) const {
    const Frame& fr = frames_[f];
    const FrameKind k = fr.kind();
    if (fr.mapcount() != c.maps[f.v])
        return broken("frame %u (%s): mapcount %u but %u PTEs map it", f.v, to_string(k), fr.mapcount(), c.maps[f.v]);
    switch (k) {
        case FrameKind::free: ++c.free_frames; break;
        case FrameKind::anon:
            if (!c.maps[f.v]) return broken("anonymous frame %u is mapped by nobody (leaked)", f.v);
            ++c.mapped;
            break;
        case FrameKind::file:
        case FrameKind::shmem:
            if (!c.in_cache[f.v]) return broken("%s frame %u is in no page cache", to_string(k), f.v);
            if (c.maps[f.v]) ++c.mapped;
            break;
        case FrameKind::page_table:
            if (!c.is_table[f.v]) return broken("page-table frame %u belongs to no table (leaked)", f.v);
            break;
        case FrameKind::huge_head: {
            const u32 b = f.v / kPagesPerHuge;
            if (frames_.pmd_mapcount(f) != c.pmd_maps[b])
                return broken("huge page %u: %u PMD mappings counted, %u found", f.v, frames_.pmd_mapcount(f), c.pmd_maps[b]);
            u32 pte_maps = 0;
            for (u32 i = 0; i < kPagesPerHuge; ++i) {
                pte_maps += c.maps[f.v + i];
                if (c.pmd_maps[b] || c.maps[f.v + i]) ++c.mapped;
            }
            if (frames_.huge_pte_maps(f) != pte_maps)
                return broken("huge page %u: %u PTE mappings counted, %u found", f.v, frames_.huge_pte_maps(f), pte_maps);
            if (!c.pmd_maps[b] && !pte_maps) return broken("huge page %u is mapped by nobody (leaked)", f.v);
            break;
        }
        default: break;
    }
    return {};
}

// ---------------------------------------------------------------- totals

Status Machine::check_totals(const Census& c) const {
    if (c.committed != committed_)
        return broken("Committed_AS is %llu pages, the mappings charge %llu", ull(committed_), ull(c.committed));
    // Pss summed over address spaces is the number of mapped frames, less the
    // truncation of each share (under one byte per mapping).
    const u64 expect = c.mapped * (kPageSize << kPssShift);
    if (c.pss > expect || expect - c.pss > c.mappings * kPagesPerHuge)
        return broken("Pss sums to %llu (<<12) over address spaces, %llu frames are mapped", ull(c.pss), ull(c.mapped));
    if (used_bytes() != meminfo().used)
        return broken("used_bytes() says %llu, meminfo() %llu", ull(used_bytes()), ull(meminfo().used));
    u32 live = 0;
    for (Pid p{1}; p.v < procs_.size(); ++p.v) live += proc(p).alive();
    if (live != live_procs_) return broken("%u processes alive, counter says %u", live, live_procs_);
    if (live == 0) {
        for (FrameId f; f.v < frames_.total(); ++f.v) {
            const FrameKind k = frames_[f].kind();
            if (k == FrameKind::anon || k == FrameKind::huge_head || k == FrameKind::page_table || k == FrameKind::shmem)
                return broken("frame %u (%s) is left after every process exited", f.v, to_string(k));
        }
    }
    return {};
}

}  // namespace cow
