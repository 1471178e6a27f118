// pagetable.cpp: walking, filling, splitting, copying and tearing down page tables.
#include <utility>

#include "machine.h"

namespace cow {

TableId PageTables::create(FrameId frame) {
    TableId id;
    if (!free_.empty()) {
        id = free_.back();
        free_.pop_back();
        tables_.mut(id).fill(0);
        frames_[id] = frame;
    } else {
        id = TableId(tables_.size());
        tables_.push_back(Table{});   // zeros
        frames_.push_back(frame);
    }
    return id;
}

void PageTables::destroy(TableId id) {
    frames_[id] = kNoFrame;
    free_.push_back(id);
}

// A page-table page from the caller's allocator; counted: in VmPTE (all but the PGD).
TableId Machine::alloc_table(Mm& mm, bool counted, const Allocator& alloc) {
    FrameId f = alloc_frame(FrameKind::page_table, alloc);
    if (f == kNoFrame) return kNoTable;
    if (counted) ++mm.pt_pages;
    emit(EventKind::pt_alloc, alloc.pid, 0, f);
    return tables_.create(f);
}

// The PMD table for addr; kNoTable if the PGD or PUD table is missing.
TableId Machine::pmd_table(const Mm& mm, u64 addr) const {
    if (mm.pgd == kNoTable) return kNoTable;
    const u64 g = tables_[mm.pgd][pgd_index(addr)];
    if (!pte::is_present(g)) return kNoTable;
    const u64 u = tables_[pte::table(g)][pud_index(addr)];
    return pte::is_present(u) ? pte::table(u) : kNoTable;
}

// The PMD entry for addr; nullptr if the PGD, PUD or PMD table is missing.
// The mutable one is in a table this machine may write (a table shared with a
// copy of the machine is copied first).
const u64* Machine::pmd_entry(const Mm& mm, u64 addr) const {
    const TableId t = pmd_table(mm, addr);
    return t == kNoTable ? nullptr : &tables_[t][pmd_index(addr)];
}

u64* Machine::pmd_entry(Mm& mm, u64 addr) {
    const TableId t = pmd_table(mm, addr);
    return t == kNoTable ? nullptr : &tables_[t][pmd_index(addr)];
}

// xv6's walk(pagetable, va, alloc): the PMD entry for addr, the missing PGD,
// PUD and PMD tables taken from alloc on the way; nullptr when it has none.
u64* Machine::pmd_alloc(Mm& mm, u64 addr, const Allocator& alloc) {
    if (mm.pgd == kNoTable) {
        mm.pgd = alloc_table(mm, false, alloc);                    // the PGD is not in VmPTE
        if (mm.pgd == kNoTable) return nullptr;
    }
    u64* e = &tables_[mm.pgd][pgd_index(addr)];
    for (int level = 0; level < 2; ++level) {                      // PGD -> PUD -> PMD
        if (!pte::is_present(*e)) {
            TableId t = alloc_table(mm, true, alloc);
            if (t == kNoTable) return nullptr;
            *e = pte::make_table(t, pte::present | pte::writable | pte::user);
        }
        e = &tables_[pte::table(*e)][level == 0 ? pud_index(addr) : pmd_index(addr)];
    }
    return e;
}

// The PTE for addr, its PTE table too taken from alloc; nullptr when alloc has
// none, or the range is mapped by a huge PMD.
u64* Machine::pte_alloc(Mm& mm, u64 addr, const Allocator& alloc) {
    u64* pmd = pmd_alloc(mm, addr, alloc);
    if (!pmd) return nullptr;
    if (!pte::is_present(*pmd)) {
        TableId t = alloc_table(mm, true, alloc);
        if (t == kNoTable) return nullptr;
        *pmd = pte::make_table(t, pte::present | pte::writable | pte::user);
    }
    if (*pmd & pte::huge) return nullptr;
    return &tables_[pte::table(*pmd)][pte_index(addr)];
}

// Drops one leaf mapping (a PTE, or a huge PMD) and its counters.
void Machine::unmap_leaf(Mm& mm, u64 e, bool huge) {
    if (e & pte::special) return;                  // zero page / huge zero page: nothing to count
    FrameId f = pte::pfn(e);
    if (huge) {
        mm.rss_anon -= kPagesPerHuge;
        frames_.pmd_unmap(f);
        if (frames_.pmd_mapcount(f) == 0 && frames_.huge_pte_maps(f) == 0) {
            frames_.free_huge(f);
            emit(EventKind::frame_free, kNoPid, 0, f, kHugeSize);
        }
        advance(cfg_.cost.per_page_free_ns * double(kPagesPerHuge));
        return;
    }
    switch (frames_[f].kind()) {
        case FrameKind::file: mm.rss_file--; break;
        case FrameKind::shmem: mm.rss_shmem--; break;
        default: mm.rss_anon--; break;
    }
    // zap_pte_range(): a dirty PTE of a file page leaves the page dirty.
    FrameKind k = frames_[f].kind();
    if ((e & pte::dirty) && (k == FrameKind::file || k == FrameKind::shmem)) frames_[f].set_dirty(true);
    put_frame(f);
    advance(cfg_.cost.per_page_free_ns);
}

// Frees the page-table page deposited for the huge PMD at haddr.
static void take_deposit(Mm& mm, u64 haddr, FrameId& out) {
    auto it = mm.deposited.find(haddr);
    if (it == mm.deposited.end()) invariant_broken("take_deposit", "huge PMD without a deposited table");
    out = it->second;
    mm.deposited.erase(it);
}

// __split_huge_pmd(): the huge PMD at addr becomes a PTE table (the deposited
// one) of 512 entries mapping the same frames, read-only if the PMD was.
void Machine::split_pmd(Mm& mm, u64 addr, Pid pid) {
    u64* pmd = pmd_entry(mm, addr);
    if (!pmd || !(*pmd & pte::huge)) invariant_broken("Machine::split_pmd", "no huge PMD to split");
    u64 haddr = huge_down(addr);
    u64 e = *pmd;
    FrameId table_frame;
    take_deposit(mm, haddr, table_frame);
    TableId t = tables_.create(table_frame);
    PageTables::Table& pt = tables_[t];
    u64 keep = e & (pte::present | pte::writable | pte::user | pte::accessed | pte::dirty | pte::soft_dirty);
    if (e & pte::special) {
        for (u64 i = 0; i < kEntriesPerTable; ++i)
            pt[i] = pte::make(zero_frame_, (keep & ~(pte::writable | pte::dirty)) | pte::special);
    } else {
        FrameId head = pte::pfn(e);
        for (u32 i = 0; i < kEntriesPerTable; ++i) {
            pt[i] = pte::make(head + i, keep);
            frames_.map(head + i);
        }
        frames_.pmd_unmap(head);
    }
    *pmd = pte::make_table(t, pte::present | pte::writable | pte::user);
    emit(EventKind::thp_split, pid, haddr, pte::pfn(e));
}

// Unmaps every page in [start, end) (both page aligned). Page tables stay;
// munmap frees the ones no VMA needs any more.
void Machine::zap_range(Mm& mm, u64 start, u64 end, Pid pid) {
    for (u64 a = start; a < end;) {
        u64 chunk_end = std::min(end, huge_down(a) + kHugeSize);
        u64* pmd = pmd_entry(mm, a);
        if (!pmd || !pte::is_present(*pmd)) {
            a = chunk_end;
            continue;
        }
        if (*pmd & pte::huge) {
            u64 haddr = huge_down(a);
            if (a == haddr && chunk_end == haddr + kHugeSize) {
                unmap_leaf(mm, *pmd, true);
                FrameId dep;
                take_deposit(mm, haddr, dep);
                mm.pt_pages--;
                frames_.free(dep);
                emit(EventKind::pt_free, pid, haddr, dep);
                *pmd = 0;
                a = chunk_end;
                continue;
            }
            split_pmd(mm, a, pid);
        }
        u64* pt = tables_[pte::table(*pmd)].data();
        for (; a < chunk_end; a += kPageSize) {
            u64& e = pt[pte_index(a)];
            if (!pte::is_present(e)) continue;
            unmap_leaf(mm, e, false);
            e = 0;
        }
    }
}

// Frees every page-table page of an address space (after zapping all VMAs).
void Machine::free_tables(Mm& mm) {
    if (mm.pgd == kNoTable) return;
    auto free_one = [&](TableId t, bool counted) {
        FrameId f = tables_.frame(t);
        tables_.destroy(t);
        frames_.free(f);
        if (counted) mm.pt_pages--;
        emit(EventKind::pt_free, kNoPid, 0, f);
    };
    for (u64 i = 0; i < kEntriesPerTable; ++i) {
        u64 e1 = tables_[mm.pgd][i];
        if (!pte::is_present(e1)) continue;
        TableId pud = pte::table(e1);
        for (u64 j = 0; j < kEntriesPerTable; ++j) {
            u64 e2 = tables_[pud][j];
            if (!pte::is_present(e2)) continue;
            TableId pmdt = pte::table(e2);
            for (u64 k = 0; k < kEntriesPerTable; ++k) {
                u64 e3 = tables_[pmdt][k];
                if (!pte::is_present(e3)) continue;
                if (e3 & pte::huge) invariant_broken("Machine::free_tables", "huge PMD left after zap");
                free_one(pte::table(e3), true);
            }
            free_one(pmdt, true);
        }
        free_one(pud, true);
    }
    free_one(mm.pgd, false);
    mm.pgd = kNoTable;
}

// copy_page_range() for one VMA: the child's tables get the parent's entries,
// private writable ones write-protected in both (COW); shared ones clean in the
// child. Eager: private anonymous pages are copied into new frames instead.
// From a on, a 2 MiB range at a time, stopping (a where it stopped) once
// max_entries entries are copied, after at least one range. Returns the
// present entries copied; st is set on failure (no memory).
u64 Machine::copy_range(Mm& dst, Mm& src, const Vma& vma, bool eager, ForkResult& r, Pid child, Status& st, u64& a,
                        u64 max_entries) {
    ForkCopy c{dst, vma, eager, r, fork_allocator(child), st};
    u64 copied = 0;
    for (const u64 from = a; a < vma.end;) {
        if (copied >= max_entries && a != from) break;
        const u64 chunk_end = std::min(vma.end, huge_down(a) + kHugeSize);
        u64* sp = pmd_entry(src, a);
        if (!sp || !pte::is_present(*sp)) {
            a = chunk_end;
            continue;
        }
        const u64 before = dst.pt_pages;
        u64* dpmd = pmd_alloc(dst, a, c.alloc);
        if (!dpmd) {
            st = fail(Errc::no_memory, "fork: no memory for the child's page tables");
            return copied;
        }
        if (*sp & pte::huge) {
            if (!copy_huge_pmd(c, sp, dpmd, huge_down(a))) return copied;
            ++copied;
            ++r.huge_pmds;
            r.pt_pages += dst.pt_pages - before;
            a = chunk_end;
            continue;
        }
        if (!pte::is_present(*dpmd)) {
            TableId t = alloc_table(dst, true, c.alloc);
            if (t == kNoTable) {
                st = fail(Errc::no_memory, "fork: no memory for the child's page tables");
                return copied;
            }
            *dpmd = pte::make_table(t, pte::present | pte::writable | pte::user);
        }
        r.pt_pages += dst.pt_pages - before;
        copied += copy_ptes(c, tables_[pte::table(*sp)].data(), tables_[pte::table(*dpmd)].data(), pte_index(a),
                            pte_index(chunk_end - kPageSize));
        if (!st) return copied;
        a = chunk_end;
    }
    return copied;
}

// copy_huge_pmd(): the child's PMD maps the same huge page (write-protected in
// both if private), with a page table deposited beside it; eager: a copy of the
// huge page. false: no memory (c.st says why).
bool Machine::copy_huge_pmd(ForkCopy& c, u64* sp, u64* dpmd, u64 haddr) {
    FrameId dep = alloc_frame(FrameKind::page_table, c.alloc);
    if (dep == kNoFrame) {
        c.st = fail(Errc::no_memory, "fork: no memory for a deposited page table");
        return false;
    }
    c.dst.deposited[haddr] = dep;
    c.dst.pt_pages++;
    if (*sp & pte::special) {
        *dpmd = *sp & ~pte::accessed;
    } else if (c.eager) {
        FrameId nh = frames_.alloc_huge();
        if (nh == kNoFrame) {
            c.st = fail(Errc::no_memory, "fork without COW: no free 2 MiB block to copy a huge page into");
            return false;
        }
        FrameId oh = pte::pfn(*sp);
        for (u32 i = 0; i < kPagesPerHuge; ++i) frames_.content(nh + i) = frames_.content(oh + i);
        frames_.pmd_map(nh);
        *dpmd = pte::make(nh, (*sp & ~pte::pfn_mask) | pte::dirty);
        c.dst.rss_anon += kPagesPerHuge;
        c.r.pages_copied += kPagesPerHuge;
        advance(cfg_.cost.copy_ns(kHugeSize));
    } else {
        if (!c.vma.is_shared()) *sp &= ~pte::writable;
        *dpmd = *sp & ~pte::accessed;
        frames_.pmd_map(pte::pfn(*sp));
        c.dst.rss_anon += kPagesPerHuge;
    }
    return true;
}

// copy_pte_range(): entries first..last of the PTE table s into d. The zero
// page is copied as it is; a private page is write-protected in both (COW), or
// with eager copied now; a shared one is mapped clean in the child. Returns
// the present entries seen; c.st is set on failure (no memory).
u64 Machine::copy_ptes(ForkCopy& c, u64* s, u64* d, u32 first, u32 last) {
    const bool cow = !c.vma.is_shared();
    u64 copied = 0;
    for (u32 i = first; i <= last; ++i) {
        u64 e = s[i];
        if (!pte::is_present(e)) continue;
        ++copied;
        if (e & pte::special) {                  // the zero page: copy the entry as it is
            d[i] = e & ~pte::accessed;
            continue;
        }
        FrameId f = pte::pfn(e);
        FrameKind k = frames_[f].kind();
        if (c.eager && cow && (k == FrameKind::anon || k == FrameKind::huge_head || k == FrameKind::huge_tail)) {
            FrameId nf = alloc_frame(FrameKind::anon, c.alloc);
            if (nf == kNoFrame) {
                c.st = fail(Errc::no_memory, "fork without COW: out of memory copying pages");
                return copied;
            }
            frames_.content(nf) = frames_.content(f);
            frames_.map(nf);
            u64 flags = (e & ~pte::pfn_mask & ~pte::accessed) | pte::dirty;
            if (c.vma.prot & prot::write) flags |= pte::writable;
            d[i] = pte::make(nf, flags);
            c.dst.rss_anon++;
            c.r.pages_copied++;
            advance(cfg_.cost.copy_ns(kPageSize));
            continue;
        }
        if (cow && (e & pte::writable)) {
            s[i] = e & ~pte::writable;
            e = s[i];
        }
        if (c.vma.is_shared()) e &= ~pte::dirty;
        d[i] = e & ~pte::accessed;
        frames_.map(f);
        if (k == FrameKind::file) c.dst.rss_file++;
        else if (k == FrameKind::shmem) c.dst.rss_shmem++;
        else c.dst.rss_anon++;
    }
    return copied;
}

}  // namespace cow
