// fault.cpp: memory accesses and the page-fault handler.
//
// An access walks the page tables; an entry that is present (and writable, for
// a write) is a hit. Anything else is a fault, handled as mm/memory.c does, by
// one function per kind (fault_page dispatches):
//
//   not present, anonymous   fault_anon: a read maps the shared zero page
//                            (do_anonymous_page), a write allocates a zeroed page
//   2 MiB range of a THP-enabled VMA, empty
//                            fault_huge_anon: a huge page, or the huge zero
//                            page for a read (none free: fault_anon's 4 KiB page)
//   not present, file        fault_file: (a read: first fault_around, mapping the
//                            cached pages around it) map the page-cache page,
//                            reading it from disk first (a major fault); a write
//                            to a private mapping copies it into an anonymous
//                            page (fault_file_copy, counted apart from COW)
//   present, write-protected shared mapping: fault_write_notify marks it dirty;
//                            private: fault_cow (do_wp_page) reuses the page if
//                            the writer alone maps it, else copies it (COW); the
//                            zero page is replaced by a zeroed page
//   huge PMD, write-protected  fault_huge_wp: reuse if exclusive; else split the
//                            PMD and copy one 4 KiB page (Linux >= 5.8) or copy
//                            all 2 MiB
//
// Every frame comes from the fault's allocator, which may reclaim and then
// OOM-kill (oom.cpp); FaultOutcome::killed unwinds to access(), which kills
// the faulting process when it was the one chosen or nothing was left to free.
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
    Status result = touch(pid, addr, len, kind, r);
    count_access(pid, r);
    r.time_ns = now_ns_ - t0;
    if (!result) return result;
    return r;
}

// An access after its checks: the VMAs of [addr, addr + len) one by one, each
// touched by access_range. A segfault or an OOM kill ends it (the process is
// then dead). hint: a VMA of this process found before, looked at first (a
// fault never adds, removes or moves a VMA).
Status Machine::touch(Pid pid, u64 addr, u64 len, Access kind, AccessResult& r, Vma** hint) {
    if (addr >= kUserTop || len > kUserTop - addr) {
        const u64 at = addr >= kUserTop ? addr : kUserTop;
        segfault(pid, at);
        return fail(Errc::killed, "SIGSEGV: access at " + hex(at) + " is beyond the user address space; process " +
                                      std::to_string(pid.v) + " killed");
    }
    u64 a = page_down(addr);
    const u64 end = page_up(addr + len);
    while (a < end) {
        Mm& mm = mm_at(proc(pid).mm);
        Vma* v = hint && *hint && (*hint)->contains(a) ? *hint : find_vma(mm, a);
        if (hint) *hint = v;
        const char* why = nullptr;
        if (!v) why = "no mapping at this address";
        else if (kind == Access::write && !(v->prot & prot::write)) why = "write to a mapping without PROT_WRITE";
        else if (kind == Access::read && v->prot == prot::none) why = "read of a PROT_NONE mapping";
        if (why) {
            segfault(pid, a);
            return fail(Errc::killed, std::string("SIGSEGV: ") + (kind == Access::write ? "write" : "read") + " at " +
                                          hex(a) + ": " + why + "; process " + std::to_string(pid.v) + " killed");
        }
        const u64 seg_end = std::min(end, v->end);
        if (access_range(pid, mm, *v, a, seg_end, kind, r) == FaultOutcome::killed) {
            kill_process(pid, 9);
            return fail(Errc::killed, "out of memory: process " + std::to_string(pid.v) +
                                          " was chosen by the OOM killer while faulting at " + hex(a));
        }
        a = seg_end;
    }
    return {};
}

// An access's faults and copies, added to the process's counters.
void Machine::count_access(Pid pid, const AccessResult& r) {
    ProcCounters& c = proc(pid).counters;
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
}

// The PTE mapping addr in a 4 KiB page table, or nullptr (no table, or a
// huge PMD): access_pages's look-ahead.
const u64* Machine::pte_entry(const Mm& mm, u64 addr) const {
    const u64* pmd = pmd_entry(mm, addr);
    if (!pmd || !pte::is_present(*pmd) || (*pmd & pte::huge)) return nullptr;
    return &tables_[pte::table(*pmd)][pte_index(addr)];
}

// One access of a page at each address, in order: what access() of each would
// do, checked once. Pages in random order miss the host's caches at each
// level (the PTE, then the frame it maps): the PTE of the page kAhead ahead
// is fetched, and the frame mapped by the PTE fetched kAhead / 2 pages ago,
// while this one is touched. The look-ahead is a hint only: a fault that
// changes a table on the way makes it fetch the wrong line, nothing more.
Result<AccessResult> Machine::access_pages(Pid pid, const std::vector<u64>& addrs, Access kind) {
    constexpr size_t kAhead = 16;   // a power of two: the ring of PTEs found ahead
    AccessResult r;
    if (addrs.empty()) return r;
    if (Status st = check_pid(pid, "access"); !st) return st;
    if (u8(kind) > u8(Access::write)) return fail(Errc::invalid_argument, "access: unknown access kind");
    const u64 t0 = now_ns_;
    const Mm& mm = mm_at(proc(pid).mm);
    const u64* ahead[kAhead] = {};
    const auto look = [&](size_t j) {
        const u64* e = j < addrs.size() && addrs[j] < kUserTop ? pte_entry(mm, addrs[j]) : nullptr;
        if (e) __builtin_prefetch(e);
        ahead[j % kAhead] = e;
    };
    for (size_t j = 0; j < kAhead; ++j) look(j);
    Status result;
    Vma* vma = nullptr;
    for (size_t i = 0; i < addrs.size() && result; ++i) {
        if (const u64* e = ahead[(i + kAhead / 2) % kAhead]; e && pte::is_present(*e) && !(*e & pte::special))
            frames_.prefetch(pte::pfn(*e));
        look(i + kAhead);   // takes slot i % kAhead: page i's entry is no longer needed
        result = touch(pid, page_down(addrs[i]), kPageSize, kind, r, &vma);
    }
    count_access(pid, r);
    r.time_ns = now_ns_ - t0;
    if (!result) return result;
    return r;
}

// Touches [a, end) inside one VMA: hits are handled inline, misses go to the
// fault handler and are retried (the retry is then a hit).
Machine::FaultOutcome Machine::access_range(Pid pid, Mm& mm, Vma& vma, u64 a, u64 end, Access kind,
                                            AccessResult& r) {
    const bool write = kind == Access::write;
    u64 last_fault = ~u64{0};
    int repeats = 0;
    while (a < end) {
        const u64 chunk_end = std::min(end, huge_down(a) + kHugeSize);
        u64* pmd = pmd_entry(mm, a);
        if (pmd && pte::is_present(*pmd)) {
            if (*pmd & pte::huge) {
                if (!write || (*pmd & pte::writable)) {
                    *pmd |= pte::accessed;
                    u64 n = (chunk_end - a) >> kPageShift;
                    if (write) {
                        *pmd |= pte::dirty | pte::soft_dirty;
                        FrameId f = pte::pfn(*pmd) + pte_index(a);
                        for (u64 i = 0; i < n; ++i) frames_.content(f + u32(i)) = next_content();
                    }
                    r.pages += n;
                    a = chunk_end;
                    continue;
                }
            } else {
                u64* pt = tables_[pte::table(*pmd)].data();
                for (; a < chunk_end; a += kPageSize) {
                    u64& e = pt[pte_index(a)];
                    if (!pte::is_present(e) || (write && !(e & pte::writable))) {
                        // The table is there: the fault handles this entry, and
                        // the retry is made here unless the entry still faults.
                        Fault f{pid, mm, vma, a, write, r, fault_allocator(pid)};
                        const FaultOutcome o = fault_pte(f, &e);
                        if (o != FaultOutcome::done) return o;
                        if (!pte::is_present(e) || (write && !(e & pte::writable))) break;
                    }
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
// Dispatched by kind: a write to a huge PMD; a new huge page; then, on a 4 KiB
// entry, a missing page (anonymous or file) or a write-protected one (a shared
// mapping's write notify, or copy-on-write).
Machine::FaultOutcome Machine::fault_page(Pid pid, Mm& mm, Vma& vma, u64 a, Access kind, AccessResult& r) {
    Fault f{pid, mm, vma, a, kind == Access::write, r, fault_allocator(pid)};
    u64* pmd = pmd_alloc(mm, a, f.alloc);
    if (!pmd) return FaultOutcome::killed;
    if (pte::is_present(*pmd) && (*pmd & pte::huge)) return fault_huge_wp(f, pmd);
    const u64 haddr = huge_down(a);
    if (!pte::is_present(*pmd) && thp_enabled(vma) && haddr >= vma.start && haddr + kHugeSize <= vma.end) {
        const FaultOutcome o = fault_huge_anon(f, pmd);
        if (o != FaultOutcome::fallback) return o;
    }
    u64* pte = pte_alloc(mm, a, f.alloc);
    if (!pte) return FaultOutcome::killed;
    return fault_pte(f, pte);
}

// A fault on a 4 KiB entry: a missing page, or a write-protected one.
Machine::FaultOutcome Machine::fault_pte(Fault& f, u64* pte) {
    const u64 e = *pte;
    advance(cfg_.cost.fault_trap_ns);
    if (!pte::is_present(e)) return f.vma.is_anon() ? fault_anon(f, pte) : fault_file(f, pte);
    if (!f.write || (e & pte::writable))
        invariant_broken("Machine::fault_pte", "fault on a satisfiable entry at " + hex(f.addr));
    ++f.r.minor_faults;
    return f.vma.is_shared() ? fault_write_notify(f, pte) : fault_cow(f, pte);
}

// ---------------------------------------------------------------- anonymous

// do_anonymous_page(): a read maps the shared zero page; a write (or any
// access without a zero page) allocates a zeroed page.
Machine::FaultOutcome Machine::fault_anon(Fault& f, u64* pte) {
    if (!f.write && cfg_.zero_page) {
        *pte = pte::make(zero_frame_, pte::present | pte::user | pte::accessed | pte::special);
        ++f.r.zero_page_maps;
        ++f.r.minor_faults;
        emit(EventKind::zero_page_map, f.pid, f.addr, zero_frame_);
        return FaultOutcome::done;
    }
    const FrameId page = alloc_frame(FrameKind::anon, f.alloc);
    if (page == kNoFrame) return FaultOutcome::killed;
    frames_.map(page);
    u64 flags = pte::present | pte::user | pte::accessed | pte::soft_dirty;
    if (f.vma.prot & prot::write) flags |= pte::writable | pte::dirty;
    *pte = pte::make(page, flags);
    f.mm.rss_anon++;
    f.vma.flags |= vmf::anon_vma;
    ++f.r.zero_fills;
    ++f.r.minor_faults;
    advance(cfg_.cost.zero_ns(kPageSize));
    emit(EventKind::zero_fill, f.pid, f.addr, page);
    return FaultOutcome::done;
}

// ---------------------------------------------------------------- huge (THP)

// The page table a huge PMD keeps beside it (pgtable_trans_huge_deposit), for
// the day it is split. false: no memory.
bool Machine::deposit_table(Fault& f, u64 haddr) {
    const FrameId dep = alloc_frame(FrameKind::page_table, f.alloc);
    if (dep == kNoFrame) return false;
    f.mm.deposited[haddr] = dep;
    f.mm.pt_pages++;
    return true;
}

// do_huge_pmd_anonymous_page(): an empty 2 MiB range of a THP-enabled VMA. A
// read maps the huge zero page, anything else a zeroed huge page. fallback: no
// free 2 MiB block, so a 4 KiB page, as the kernel does.
Machine::FaultOutcome Machine::fault_huge_anon(Fault& f, u64* pmd) {
    const CostModel& k = cfg_.cost;
    const u64 haddr = huge_down(f.addr);
    if (!f.write && cfg_.zero_page && cfg_.thp_use_zero_page) {
        if (huge_zero_ == kNoFrame) huge_zero_ = frames_.alloc_huge(FrameKind::huge_zero, FrameKind::huge_zero);
        if (huge_zero_ != kNoFrame) {
            if (!deposit_table(f, haddr)) return FaultOutcome::killed;
            *pmd = pte::make(huge_zero_, pte::present | pte::user | pte::accessed | pte::huge | pte::special);
            f.vma.flags |= vmf::anon_vma;
            ++f.r.zero_page_maps;
            ++f.r.minor_faults;
            advance(k.fault_trap_ns);
            emit(EventKind::zero_page_map, f.pid, haddr, huge_zero_, kHugeSize);
            return FaultOutcome::done;
        }
    }
    const FrameId head = frames_.alloc_huge();
    if (head == kNoFrame) return FaultOutcome::fallback;
    if (!deposit_table(f, haddr)) {
        frames_.free_huge(head);
        return FaultOutcome::killed;
    }
    frames_.pmd_map(head);
    u64 flags = pte::present | pte::user | pte::accessed | pte::huge | pte::dirty | pte::soft_dirty;
    if (f.vma.prot & prot::write) flags |= pte::writable;
    *pmd = pte::make(head, flags);
    f.mm.rss_anon += kPagesPerHuge;
    f.vma.flags |= vmf::anon_vma;
    ++f.r.thp_faults;
    ++f.r.minor_faults;
    advance(k.fault_trap_ns + k.zero_ns(kHugeSize));
    emit(EventKind::thp_fault, f.pid, haddr, head, kHugeSize);
    return FaultOutcome::done;
}

// A write to a write-protected huge PMD (after fork), or to the huge zero page.
Machine::FaultOutcome Machine::fault_huge_wp(Fault& f, u64* pmd) {
    const CostModel& k = cfg_.cost;
    const u64 haddr = huge_down(f.addr);
    if (!f.write || (*pmd & pte::writable))
        invariant_broken("Machine::fault_huge_wp", "fault on a satisfiable huge entry at " + hex(f.addr));
    if (*pmd & pte::special) {
        // The huge zero page: split into 512 zero-page PTEs; the retry then
        // allocates one 4 KiB page (do_huge_pmd_wp_page -> fallback).
        split_pmd(f.mm, f.addr, f.pid);
        ++f.r.thp_splits;
        return FaultOutcome::done;
    }
    const FrameId head = pte::pfn(*pmd);
    if (cfg_.cow_reuse == CowReuse::exclusive && frames_.pmd_mapcount(head) == 1 && frames_.huge_pte_maps(head) == 0) {
        *pmd |= pte::writable | pte::dirty | pte::soft_dirty | pte::accessed;
        ++f.r.cow_reuses;
        ++f.r.minor_faults;
        advance(k.fault_trap_ns);
        emit(EventKind::cow_reuse, f.pid, haddr, head, kHugeSize);
        return FaultOutcome::done;
    }
    if (cfg_.thp_cow == ThpCow::copy_huge) {
        const FrameId nh = frames_.alloc_huge();
        if (nh != kNoFrame) {
            for (u32 i = 0; i < kPagesPerHuge; ++i) frames_.content(nh + i) = frames_.content(head + i);
            frames_.pmd_map(nh);
            *pmd = pte::make(nh, (*pmd & ~pte::pfn_mask) | pte::writable | pte::dirty | pte::soft_dirty | pte::accessed);
            frames_.pmd_unmap(head);
            if (frames_.pmd_mapcount(head) == 0 && frames_.huge_pte_maps(head) == 0) {
                frames_.free_huge(head);
                emit(EventKind::frame_free, kNoPid, 0, head, kHugeSize);
            }
            ++f.r.thp_copies;
            ++f.r.minor_faults;
            advance(k.fault_trap_ns + k.copy_ns(kHugeSize));
            emit(EventKind::thp_copy, f.pid, haddr, nh, head.v);
            return FaultOutcome::done;
        }
    }
    // Linux >= 5.8: split the writer's PMD; the retry copies one 4 KiB page.
    split_pmd(f.mm, f.addr, f.pid);
    ++f.r.thp_splits;
    return FaultOutcome::done;
}

// ---------------------------------------------------------------- file and shmem

// A missing file or shmem page (do_read_fault / do_cow_fault / do_shared_fault):
// a read first maps what the page cache holds around it (fault-around); then
// the page itself, read in if it is not cached; a write to a private mapping
// gets a copy of it.
Machine::FaultOutcome Machine::fault_file(Fault& f, u64* pte) {
    File& file = files_[f.vma.file.v];
    if (!f.write && cfg_.fault_around_bytes > kPageSize && fault_around(f, pte, file)) {
        // The page itself was cached: one minor fault mapped them all.
        ++f.r.minor_faults;
        ++f.r.file_faults;
        return FaultOutcome::done;
    }
    const FrameId page = file_page(f, file);
    if (page == kNoFrame) return FaultOutcome::killed;
    if (!f.vma.is_shared() && f.write) return fault_file_copy(f, pte, page);
    frames_.map(page);
    u64 flags = pte::present | pte::user | pte::accessed;
    // Shared writable: shmem maps writable at once; a file page waits for
    // the first write (write notify, so that it is marked dirty).
    if (f.vma.is_shared() && (f.vma.prot & prot::write) && (file.shmem || f.write)) flags |= pte::writable;
    if (f.vma.is_shared() && f.write) {
        flags |= pte::dirty | pte::soft_dirty;
        frames_[page].set_dirty(true);
    }
    *pte = pte::make(page, flags);
    if (file.shmem) f.mm.rss_shmem++;
    else f.mm.rss_file++;
    ++f.r.file_faults;
    emit(EventKind::file_fault, f.pid, f.addr, page);
    return FaultOutcome::done;
}

// do_fault_around() -> filemap_map_pages(): maps the pages the page cache
// already holds within the fault-around window, clamped to the VMA and to this
// page table (the window from its aligned start, or the VMA's); no I/O. true:
// the faulting page itself was among them.
bool Machine::fault_around(Fault& f, u64* pte, const File& file) {
    const u64 a = f.addr;
    const u64 win = cfg_.fault_around_bytes;
    const u64 lo = std::max(a & ~(win - 1), f.vma.start);
    const u64 hi = std::min({lo + win, f.vma.end, huge_down(a) + kHugeSize});
    u64* table = pte - ((a - lo) >> kPageShift);
    u64 around = 0;
    for (u64 b = lo; b < hi; b += kPageSize, ++table) {
        if (pte::is_present(*table)) continue;
        const FrameId g = file.cache[f.vma.pgoff + ((b - f.vma.start) >> kPageShift)];
        if (g == kNoFrame) continue;
        frames_.map(g);
        *table = pte::make(g, pte::present | pte::user | pte::accessed);
        if (file.shmem) f.mm.rss_shmem++;
        else f.mm.rss_file++;
        if (b != a) ++around;
        emit(EventKind::file_fault, f.pid, b, g);
    }
    advance(double(around) * cfg_.cost.per_pte_ns);
    return pte::is_present(*pte);
}

// The page-cache page behind the fault, brought in if it is not cached: read
// from disk (a major fault), or for shmem a zeroed page. Counts the fault.
// kNoFrame: no memory.
FrameId Machine::file_page(Fault& f, File& file) {
    const CostModel& k = cfg_.cost;
    const u64 index = f.vma.pgoff + ((f.addr - f.vma.start) >> kPageShift);
    FrameId page = file.cache[index];
    bool major = false;
    if (page == kNoFrame) {
        page = alloc_frame(file.shmem ? FrameKind::shmem : FrameKind::file, f.alloc);
        if (page == kNoFrame) return kNoFrame;
        frames_.content(page) = file.shmem ? 0 : file_page_content(file, index);
        file.cache[index] = page;
        if (!file.shmem) {
            major = true;
            advance(k.major_fault_ns);
            emit(EventKind::major_fault, f.pid, f.addr, page);
        } else {
            advance(k.zero_ns(kPageSize));
        }
    }
    if (major) ++f.r.major_faults;
    else ++f.r.minor_faults;
    return page;
}

// do_cow_fault(): the first write to a private file mapping maps a private
// copy of the page-cache page (a file copy, counted apart from COW after fork).
Machine::FaultOutcome Machine::fault_file_copy(Fault& f, u64* pte, FrameId page) {
    const FrameId copy = alloc_frame(FrameKind::anon, f.alloc);
    if (copy == kNoFrame) return FaultOutcome::killed;
    frames_.content(copy) = frames_.content(page);
    frames_.map(copy);
    *pte = pte::make(copy, pte::present | pte::user | pte::accessed | pte::writable | pte::dirty | pte::soft_dirty);
    f.mm.rss_anon++;
    f.vma.flags |= vmf::anon_vma;
    ++f.r.file_copies;
    advance(cfg_.cost.copy_ns(kPageSize));
    emit(EventKind::file_copy, f.pid, f.addr, copy, page.v);
    return FaultOutcome::done;
}

// ---------------------------------------------------------------- write-protected

// wp_page_shared(): the first write to a page of a shared writable mapping
// makes the entry writable and the page dirty (it must be written back).
Machine::FaultOutcome Machine::fault_write_notify(Fault& f, u64* pte) {
    const u64 e = *pte;
    *pte = e | pte::writable | pte::dirty | pte::soft_dirty | pte::accessed;
    frames_[pte::pfn(e)].set_dirty(true);
    emit(EventKind::write_notify, f.pid, f.addr, pte::pfn(e));
    return FaultOutcome::done;
}

// do_wp_page() on a private mapping: the zero page is replaced by a zeroed
// page; an anonymous page the writer alone maps is reused in place (with
// cow_reuse = exclusive); anything else is copied (COW, or a file copy for a
// page-cache page), and the old mapping dropped.
Machine::FaultOutcome Machine::fault_cow(Fault& f, u64* pte) {
    const CostModel& k = cfg_.cost;
    const u64 e = *pte;
    const FrameId old = pte::pfn(e);
    if (e & pte::special) return fault_cow_zero(f, pte);
    const Frame& fr_old = frames()[old];   // read only: the frame's chunk stays shared with snapshots
    const FrameKind kind_old = fr_old.kind();
    if (kind_old == FrameKind::anon && cfg_.cow_reuse == CowReuse::exclusive && fr_old.mapcount() == 1) {
        // wp_can_reuse_anon_folio(): nobody else maps it: write in place.
        *pte = e | pte::writable | pte::dirty | pte::soft_dirty | pte::accessed;
        ++f.r.cow_reuses;
        emit(EventKind::cow_reuse, f.pid, f.addr, old);
        return FaultOutcome::done;
    }
    // wp_page_copy(): copy into a new page, then drop the old mapping.
    const FrameId copy = alloc_frame(FrameKind::anon, f.alloc);
    if (copy == kNoFrame) return FaultOutcome::killed;
    frames_.content(copy) = frames().content(old);
    frames_.map(copy);
    *pte = pte::make(copy, (e & ~pte::pfn_mask) | pte::writable | pte::dirty | pte::soft_dirty | pte::accessed);
    const bool from_file = kind_old == FrameKind::file;
    if (from_file) {
        f.mm.rss_file--;
        f.mm.rss_anon++;
        f.vma.flags |= vmf::anon_vma;
    }
    put_frame(old);
    ++(from_file ? f.r.file_copies : f.r.cow_copies);
    advance(k.copy_ns(kPageSize));
    emit(from_file ? EventKind::file_copy : EventKind::cow_copy, f.pid, f.addr, copy, old.v);
    return FaultOutcome::done;
}

// wp_page_copy() from the zero page: a freshly zeroed page.
Machine::FaultOutcome Machine::fault_cow_zero(Fault& f, u64* pte) {
    const FrameId page = alloc_frame(FrameKind::anon, f.alloc);
    if (page == kNoFrame) return FaultOutcome::killed;
    frames_.map(page);
    *pte = pte::make(page, pte::present | pte::user | pte::accessed | pte::writable | pte::dirty | pte::soft_dirty);
    f.mm.rss_anon++;
    f.vma.flags |= vmf::anon_vma;
    ++f.r.zero_fills;
    advance(cfg_.cost.zero_ns(kPageSize));
    emit(EventKind::zero_fill, f.pid, f.addr, page);
    return FaultOutcome::done;
}

}  // namespace cow
