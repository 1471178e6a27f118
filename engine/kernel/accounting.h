// accounting.h: the kernel's own memory figures, defined as /proc defines them.
//
// smaps (Documentation/filesystems/proc.rst, fs/proc/task_mmu.c):
//   Rss            resident pages mapped here (the zero pages are not counted)
//   Pss            each page's size divided by the number of processes mapping
//                  it, kept in fixed point: (4096 << PSS_SHIFT) / mapcount with
//                  PSS_SHIFT = 12, printed as pss >> 12 >> 10 kB
//   Shared_*       pages mapped by two or more (mapcount >= 2)
//   Private_*      pages mapped once (mapcount < 2, or folio refcount 1)
//   *_Dirty        the PTE's dirty bit or the page's PG_dirty
//   Anonymous      anonymous pages (not file, not shmem)
//   AnonHugePages  anonymous huge pages mapped by a PMD
//   Referenced     pages whose accessed bit is set
// USS is Private_Clean + Private_Dirty (smem's definition).
// /proc/<pid>/status: VmRSS = RssAnon + RssFile + RssShmem (mm counters),
// VmPTE = page-table pages (PTE, PMD, PUD levels; not the PGD) in kB.
//
// The machine fills these (Machine::smaps, smaps_rollup, status, meminfo in
// accounting.cpp); its invariants, which these figures rely on, are checked in
// invariants.cpp.
#pragma once

#include <string>

#include "types.h"

namespace cow {

constexpr u32 kPssShift = 12;

struct MemStats {
    u64 size = 0;             // bytes of virtual range
    u64 rss = 0;
    u64 pss_fp = 0;           // Pss in bytes << kPssShift (the kernel's fixed point)
    u64 pss_dirty_fp = 0;
    u64 pss_anon_fp = 0, pss_file_fp = 0, pss_shmem_fp = 0;
    u64 shared_clean = 0, shared_dirty = 0;
    u64 private_clean = 0, private_dirty = 0;
    u64 referenced = 0;
    u64 anonymous = 0;
    u64 anon_huge = 0;

    u64 pss() const { return pss_fp >> kPssShift; }            // bytes, truncated
    u64 pss_kb() const { return pss_fp >> kPssShift >> 10; }   // as /proc prints it
    u64 pss_dirty() const { return pss_dirty_fp >> kPssShift; }
    u64 uss() const { return private_clean + private_dirty; }
    u64 shared() const { return shared_clean + shared_dirty; }
    MemStats& operator+=(const MemStats& o);
};

struct VmaStats {
    u64 start = 0, end = 0;
    std::string perms;        // "rw-p", "r-xp", "rw-s"
    std::string name;
    std::string kind;
    MemStats mem;
};

struct ProcStatus {
    u64 vm_size = 0;          // VmSize
    u64 vm_rss = 0;           // VmRSS
    u64 rss_anon = 0, rss_file = 0, rss_shmem = 0;
    u64 vm_pte = 0;           // VmPTE in bytes
    u64 committed = 0;        // bytes this mm charges to Committed_AS
    u64 min_flt = 0, maj_flt = 0;
    long oom_badness = 0;     // oom_badness(): rss + page tables + adj * totalpages / 1000
};

struct MemInfo {
    u64 total = 0;            // MemTotal (RAM less the kernel's reserved frames)
    u64 free = 0;             // MemFree
    u64 used = 0;             // total - free
    u64 anon_pages = 0;       // AnonPages: anonymous pages mapped by processes
    u64 cached = 0;           // page cache (files and shmem)
    u64 shmem = 0;
    u64 page_tables = 0;      // PageTables
    u64 anon_huge = 0;        // AnonHugePages
    u64 committed_as = 0;     // Committed_AS
    u64 commit_limit = 0;     // CommitLimit
};

}  // namespace cow
