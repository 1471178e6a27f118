// fault.cpp: memory accesses and the page-fault handler.
//
// An access walks the page tables; an entry that is present (and writable, for
// a write) is a hit. Anything else is a fault, handled as mm/memory.c does:
//
//   not present, anonymous   read  -> map the shared zero page (do_anonymous_page)
//                            write -> allocate a zeroed page
//                            (THP-enabled, 2 MiB range inside the VMA: a huge
//                            page, or the huge zero page for a read)
//   not present, file        (a read: first map the cached pages around it,
//                            fault-around) map the page-cache page (reading it from disk
//                            first: a major fault); a write to a private
//                            mapping copies it into an anonymous page (a
//                            file copy, counted apart from COW after fork)
//   present, write-protected shared mapping: mark dirty (write notify)
//                            private: do_wp_page: reuse the page if the writer
//                            alone maps it, else copy it (COW); the zero page
//                            is replaced by a zeroed page
//   huge PMD, write-protected  reuse if exclusive; else split the PMD and copy
//                            one 4 KiB page (Linux >= 5.8) or copy all 2 MiB
#include <algorithm>
#include <cstdio>

#include "machine.h"

namespace cow {

namespace {
std::string hex(u64 v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}
}  // namespace

bool Machine::thp_enabled(const Vma& v) const {
    if (!v.is_anon() || v.is_shared() || (v.flags & vmf::nohugepage)) return false;
    switch (cfg_.thp) {
        case ThpMode::always: return true;
        case ThpMode::madvise: return v.flags & vmf::hugepage;
        case ThpMode::never: return false;
    }
    return false;
}

void Machine::segfault(Pid pid, u64 addr) {
    emit(EventKind::segfault, pid, addr);
    kill_process(pid, 11);
}

Result<AccessResult> Machine::access(Pid pid, u64 addr, u64 len, Access kind) {
    if (Status st = check_pid(pid, "access"); !st) return st;
    if (len == 0) return fail(Errc::invalid_argument, "access: length is 0");
    if (len > 64 * 1024 * GiB) return fail(Errc::limit, "access: length " + format_bytes(len) + " is above 64 TiB");
    if (u8(kind) > u8(Access::write)) return fail(Errc::invalid_argument, "access: unknown access kind");
    AccessResult r;
    const u64 t0 = now_ns_;
    if (addr >= kUserTop || len > kUserTop - addr) {
        const u64 at = addr >= kUserTop ? addr : kUserTop;
        segfault(pid, at);
        return fail(Errc::killed, "SIGSEGV: access at " + hex(at) + " is beyond the user address space; process " +
                                      std::to_string(pid) + " killed");
    }
    u64 a = addr & ~(kPageSize - 1);
    const u64 end = (addr + len + kPageSize - 1) & ~(kPageSize - 1);
    Status result;
    while (a < end) {
        Mm& mm = mms_[procs_[pid].mm];
        Vma* v = find_vma(mm, a);
        const char* why = nullptr;
        if (!v) why = "no mapping at this address";
        else if (kind == Access::write && !(v->prot & prot::write)) why = "write to a mapping without PROT_WRITE";
        else if (kind == Access::read && v->prot == prot::none) why = "read of a PROT_NONE mapping";
        if (why) {
            segfault(pid, a);
            result = fail(Errc::killed, std::string("SIGSEGV: ") + (kind == Access::write ? "write" : "read") +
                                            " at " + hex(a) + ": " + why + "; process " + std::to_string(pid) +
                                            " killed");
            break;
        }
        const u64 seg_end = std::min(end, v->end);
        FaultOutcome o = access_range(pid, mm, *v, a, seg_end, kind, r);
        if (o == FaultOutcome::killed) {
            kill_process(pid, 9);
            result = fail(Errc::killed, "out of memory: process " + std::to_string(pid) +
                                            " was chosen by the OOM killer while faulting at " + hex(a));
            break;
        }
        a = seg_end;
    }
    ProcCounters& c = procs_[pid].counters;
    c.min_flt += r.minor_faults;
    c.maj_flt += r.major_faults;
    c.zero_page_maps += r.zero_page_maps;
    c.zero_fills += r.zero_fills;
    c.cow_copies += r.cow_copies;
    c.cow_reuses += r.cow_reuses;
    c.thp_faults += r.thp_faults;
    c.thp_splits += r.thp_splits;
    c.thp_copies += r.thp_copies;
    c.file_faults += r.file_faults;
    c.file_copies += r.file_copies;
    r.time_ns = now_ns_ - t0;
    if (!result) return result;
    return r;
}

Result<AccessResult> Machine::access_pages(Pid pid, const std::vector<u64>& addrs, Access kind) {
    AccessResult total;
    for (u64 a : addrs) {
        Result<AccessResult> one = access(pid, a & ~(kPageSize - 1), kPageSize, kind);
        if (!one) return one;
        const AccessResult& r = *one;
        total.pages += r.pages;
        total.minor_faults += r.minor_faults;
        total.major_faults += r.major_faults;
        total.zero_page_maps += r.zero_page_maps;
        total.zero_fills += r.zero_fills;
        total.cow_copies += r.cow_copies;
        total.cow_reuses += r.cow_reuses;
        total.thp_faults += r.thp_faults;
        total.thp_splits += r.thp_splits;
        total.thp_copies += r.thp_copies;
        total.file_faults += r.file_faults;
        total.file_copies += r.file_copies;
        total.time_ns += r.time_ns;
    }
    return total;
}

// Touches [a, end) inside one VMA: hits are handled inline, misses go to the
// fault handler and are retried (the retry is then a hit).
Machine::FaultOutcome Machine::access_range(Pid pid, Mm& mm, Vma& vma, u64 a, u64 end, Access kind,
                                            AccessResult& r) {
    const bool write = kind == Access::write;
    u64 last_fault = ~u64{0};
    int repeats = 0;
    while (a < end) {
        const u64 chunk_end = std::min(end, (a & ~(kHugeSize - 1)) + kHugeSize);
        u64* pmd = pmd_entry(mm, a);
        if (pmd && pte::is_present(*pmd)) {
            if (*pmd & pte::huge) {
                if (!write || (*pmd & pte::writable)) {
                    *pmd |= pte::accessed;
                    u64 n = (chunk_end - a) >> kPageShift;
                    if (write) {
                        *pmd |= pte::dirty | pte::soft_dirty;
                        FrameId f = pte::pfn(*pmd) + pte_index(a);
                        for (u64 i = 0; i < n; ++i) frames_.content(f + FrameId(i)) = next_content();
                    }
                    r.pages += n;
                    a = chunk_end;
                    continue;
                }
            } else {
                u64* pt = tables_[pte::pfn(*pmd)].data();
                for (; a < chunk_end; a += kPageSize) {
                    u64& e = pt[pte_index(a)];
                    if (!pte::is_present(e) || (write && !(e & pte::writable))) break;
                    e |= pte::accessed;
                    if (write) {
                        e |= pte::dirty | pte::soft_dirty;
                        frames_.content(pte::pfn(e)) = next_content();
                    }
                    ++r.pages;
                }
                if (a >= chunk_end) continue;
            }
        }
        if (a == last_fault) {
            if (++repeats > 3) invariant_broken("Machine::access_range", "a fault made no progress at " + hex(a));
        } else {
            last_fault = a;
            repeats = 0;
        }
        FaultOutcome o = fault_page(pid, mm, vma, a, kind, r);
        if (o != FaultOutcome::done) return o;
    }
    return FaultOutcome::done;
}

// One fault at page address a. Maps something; the caller retries the access.
Machine::FaultOutcome Machine::fault_page(Pid pid, Mm& mm, Vma& vma, u64 a, Access kind, AccessResult& r) {
    const bool write = kind == Access::write;
    const CostModel& k = cfg_.cost;
    const Allocator alloc = fault_allocator(pid);
    u64* pmd = pmd_alloc(mm, a, alloc);
    if (!pmd) return FaultOutcome::killed;
    if (pte::is_present(*pmd) && (*pmd & pte::huge)) return fault_huge(pid, mm, a, pmd, kind, r);

    const u64 haddr = a & ~(kHugeSize - 1);
    if (!pte::is_present(*pmd) && thp_enabled(vma) && haddr >= vma.start && haddr + kHugeSize <= vma.end) {
        if (!write && cfg_.zero_page && cfg_.thp_use_zero_page) {
            if (huge_zero_ == kNoFrame) huge_zero_ = frames_.alloc_huge(FrameKind::huge_zero, FrameKind::huge_zero);
            if (huge_zero_ != kNoFrame) {
                FrameId dep = alloc_frame(FrameKind::page_table, alloc);
                if (dep == kNoFrame) return FaultOutcome::killed;
                mm.deposited[haddr] = dep;
                mm.pt_pages++;
                *pmd = pte::make(huge_zero_, pte::present | pte::user | pte::accessed | pte::huge | pte::special);
                vma.flags |= vmf::anon_vma;
                ++r.zero_page_maps;
                ++r.minor_faults;
                advance(k.fault_trap_ns);
                emit(EventKind::zero_page_map, pid, haddr, huge_zero_, kHugeSize);
                return FaultOutcome::done;
            }
        }
        FrameId head = frames_.alloc_huge();
        if (head != kNoFrame) {
            FrameId dep = alloc_frame(FrameKind::page_table, alloc);
            if (dep == kNoFrame) {
                frames_.free_huge(head);
                return FaultOutcome::killed;
            }
            mm.deposited[haddr] = dep;
            mm.pt_pages++;
            frames_.pmd_map(head);
            u64 flags = pte::present | pte::user | pte::accessed | pte::huge | pte::dirty | pte::soft_dirty;
            if (vma.prot & prot::write) flags |= pte::writable;
            *pmd = pte::make(head, flags);
            mm.rss_anon += kPagesPerHuge;
            vma.flags |= vmf::anon_vma;
            ++r.thp_faults;
            ++r.minor_faults;
            advance(k.fault_trap_ns + k.zero_ns(kHugeSize));
            emit(EventKind::thp_fault, pid, haddr, head, kHugeSize);
            return FaultOutcome::done;
        }
        // No free 2 MiB block: fall back to a 4 KiB page, as the kernel does.
    }

    u64* pte = pte_alloc(mm, a, alloc);
    if (!pte) return FaultOutcome::killed;
    const u64 e = *pte;
    advance(k.fault_trap_ns);

    if (!pte::is_present(e)) {
        if (vma.is_anon()) {
            if (!write && cfg_.zero_page) {
                *pte = pte::make(zero_frame_, pte::present | pte::user | pte::accessed | pte::special);
                ++r.zero_page_maps;
                ++r.minor_faults;
                emit(EventKind::zero_page_map, pid, a, zero_frame_);
                return FaultOutcome::done;
            }
            FrameId f = alloc_frame(FrameKind::anon, alloc);
            if (f == kNoFrame) return FaultOutcome::killed;
            frames_.map(f);
            u64 flags = pte::present | pte::user | pte::accessed | pte::soft_dirty;
            if (vma.prot & prot::write) flags |= pte::writable | pte::dirty;
            *pte = pte::make(f, flags);
            mm.rss_anon++;
            vma.flags |= vmf::anon_vma;
            ++r.zero_fills;
            ++r.minor_faults;
            advance(k.zero_ns(kPageSize));
            emit(EventKind::zero_fill, pid, a, f);
            return FaultOutcome::done;
        }
        // File or shmem: find the page in the page cache, or bring it in.
        File& file = files_[vma.file];
        const u64 index = vma.pgoff + ((a - vma.start) >> kPageShift);
        // do_read_fault(): first map what the page cache already holds around
        // the address (do_fault_around -> filemap_map_pages), within the
        // fault-around window, the VMA and this page table; no I/O.
        if (!write && cfg_.fault_around_bytes > kPageSize) {
            const u64 win = cfg_.fault_around_bytes;
            // As do_fault_around(): from the aligned window's start (or the VMA's), nr pages on,
            // clamped to the VMA and to the page table.
            const u64 lo = std::max(a & ~(win - 1), vma.start);
            const u64 hi = std::min({lo + win, vma.end, (a & ~(kHugeSize - 1)) + kHugeSize});
            u64* table = pte - ((a - lo) >> kPageShift);
            u64 around = 0;
            for (u64 b = lo; b < hi; b += kPageSize, ++table) {
                if (pte::is_present(*table)) continue;
                const FrameId g = file.cache[vma.pgoff + ((b - vma.start) >> kPageShift)];
                if (g == kNoFrame) continue;
                frames_.map(g);
                *table = pte::make(g, pte::present | pte::user | pte::accessed);
                if (file.shmem) mm.rss_shmem++;
                else mm.rss_file++;
                if (b != a) ++around;
                emit(EventKind::file_fault, pid, b, g);
            }
            advance(double(around) * k.per_pte_ns);
            if (pte::is_present(*pte)) {   // the page itself was cached: one minor fault mapped them all
                ++r.minor_faults;
                ++r.file_faults;
                return FaultOutcome::done;
            }
        }
        FrameId f = file.cache[index];
        bool major = false;
        if (f == kNoFrame) {
            f = alloc_frame(file.shmem ? FrameKind::shmem : FrameKind::file, alloc);
            if (f == kNoFrame) return FaultOutcome::killed;
            frames_.content(f) = file.shmem ? 0 : file_page_content(file, index);
            files_[vma.file].cache[index] = f;
            if (!file.shmem) {
                major = true;
                advance(k.major_fault_ns);
                emit(EventKind::major_fault, pid, a, f);
            } else {
                advance(k.zero_ns(kPageSize));
            }
        }
        if (major) ++r.major_faults;
        else ++r.minor_faults;
        if (!vma.is_shared() && write) {
            // do_cow_fault(): a private copy of the file page.
            FrameId nf = alloc_frame(FrameKind::anon, alloc);
            if (nf == kNoFrame) return FaultOutcome::killed;
            frames_.content(nf) = frames_.content(f);
            frames_.map(nf);
            *pte = pte::make(nf, pte::present | pte::user | pte::accessed | pte::writable | pte::dirty | pte::soft_dirty);
            mm.rss_anon++;
            vma.flags |= vmf::anon_vma;
            ++r.file_copies;
            advance(k.copy_ns(kPageSize));
            emit(EventKind::file_copy, pid, a, nf, f);
            return FaultOutcome::done;
        }
        frames_.map(f);
        u64 flags = pte::present | pte::user | pte::accessed;
        // Shared writable: shmem maps writable at once; a file page waits for
        // the first write (write notify, so that it is marked dirty).
        if (vma.is_shared() && (vma.prot & prot::write) && (file.shmem || write)) flags |= pte::writable;
        if (vma.is_shared() && write) {
            flags |= pte::dirty | pte::soft_dirty;
            frames_[f].set_dirty(true);
        }
        *pte = pte::make(f, flags);
        if (file.shmem) mm.rss_shmem++;
        else mm.rss_file++;
        ++r.file_faults;
        emit(EventKind::file_fault, pid, a, f);
        return FaultOutcome::done;
    }

    if (!write || (e & pte::writable)) invariant_broken("Machine::fault_page", "fault on a satisfiable entry at " + hex(a));
    ++r.minor_faults;
    if (vma.is_shared()) {
        *pte = e | pte::writable | pte::dirty | pte::soft_dirty | pte::accessed;
        frames_[pte::pfn(e)].set_dirty(true);
        emit(EventKind::write_notify, pid, a, pte::pfn(e));
        return FaultOutcome::done;
    }
    const FrameId old = pte::pfn(e);
    if (e & pte::special) {
        // wp_page_copy() from the zero page: a freshly zeroed page.
        FrameId f = alloc_frame(FrameKind::anon, alloc);
        if (f == kNoFrame) return FaultOutcome::killed;
        frames_.map(f);
        *pte = pte::make(f, pte::present | pte::user | pte::accessed | pte::writable | pte::dirty | pte::soft_dirty);
        mm.rss_anon++;
        vma.flags |= vmf::anon_vma;
        ++r.zero_fills;
        advance(k.zero_ns(kPageSize));
        emit(EventKind::zero_fill, pid, a, f);
        return FaultOutcome::done;
    }
    const FrameKind kind_old = frames_[old].kind();
    if (kind_old == FrameKind::anon && cfg_.cow_reuse == CowReuse::exclusive && frames_[old].mapcount() == 1) {
        // wp_can_reuse_anon_folio(): nobody else maps it: write in place.
        *pte = e | pte::writable | pte::dirty | pte::soft_dirty | pte::accessed;
        ++r.cow_reuses;
        emit(EventKind::cow_reuse, pid, a, old);
        return FaultOutcome::done;
    }
    // wp_page_copy(): copy into a new page, then drop the old mapping.
    FrameId f = alloc_frame(FrameKind::anon, alloc);
    if (f == kNoFrame) return FaultOutcome::killed;
    frames_.content(f) = frames_.content(old);
    frames_.map(f);
    *pte = pte::make(f, (e & ~pte::pfn_mask) | pte::writable | pte::dirty | pte::soft_dirty | pte::accessed);
    const bool from_file = kind_old == FrameKind::file;
    if (from_file) {
        mm.rss_file--;
        mm.rss_anon++;
        vma.flags |= vmf::anon_vma;
    }
    put_frame(old);
    ++(from_file ? r.file_copies : r.cow_copies);
    advance(k.copy_ns(kPageSize));
    emit(from_file ? EventKind::file_copy : EventKind::cow_copy, pid, a, f, old);
    return FaultOutcome::done;
}

// A write to a write-protected huge PMD (after fork), or to the huge zero page.
Machine::FaultOutcome Machine::fault_huge(Pid pid, Mm& mm, u64 a, u64* pmd, Access kind, AccessResult& r) {
    const CostModel& k = cfg_.cost;
    const u64 haddr = a & ~(kHugeSize - 1);
    if (kind != Access::write || (*pmd & pte::writable))
        invariant_broken("Machine::fault_huge", "fault on a satisfiable huge entry at " + hex(a));
    if (*pmd & pte::special) {
        // The huge zero page: split into 512 zero-page PTEs; the retry then
        // allocates one 4 KiB page (do_huge_pmd_wp_page -> fallback).
        split_pmd(mm, a, pid);
        ++r.thp_splits;
        return FaultOutcome::done;
    }
    const FrameId head = pte::pfn(*pmd);
    if (cfg_.cow_reuse == CowReuse::exclusive && frames_.pmd_mapcount(head) == 1 && frames_.huge_pte_maps(head) == 0) {
        *pmd |= pte::writable | pte::dirty | pte::soft_dirty | pte::accessed;
        ++r.cow_reuses;
        ++r.minor_faults;
        advance(k.fault_trap_ns);
        emit(EventKind::cow_reuse, pid, haddr, head, kHugeSize);
        return FaultOutcome::done;
    }
    if (cfg_.thp_cow == ThpCow::copy_huge) {
        FrameId nh = frames_.alloc_huge();
        if (nh != kNoFrame) {
            for (u32 i = 0; i < kPagesPerHuge; ++i) frames_.content(nh + i) = frames_.content(head + i);
            frames_.pmd_map(nh);
            *pmd = pte::make(nh, (*pmd & ~pte::pfn_mask) | pte::writable | pte::dirty | pte::soft_dirty | pte::accessed);
            frames_.pmd_unmap(head);
            if (frames_.pmd_mapcount(head) == 0 && frames_.huge_pte_maps(head) == 0) {
                frames_.free_huge(head);
                emit(EventKind::frame_free, kNoPid, 0, head, kHugeSize);
            }
            ++r.thp_copies;
            ++r.minor_faults;
            advance(k.fault_trap_ns + k.copy_ns(kHugeSize));
            emit(EventKind::thp_copy, pid, haddr, nh, head);
            return FaultOutcome::done;
        }
    }
    // Linux >= 5.8: split the writer's PMD; the retry copies one 4 KiB page.
    split_pmd(mm, a, pid);
    ++r.thp_splits;
    return FaultOutcome::done;
}

}  // namespace cow
