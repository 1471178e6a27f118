// cost.h: the cost model: what each kernel action costs in simulated time.
//
// Every constant that turns work into nanoseconds lives here, so that a lesson
// can show how long a fork of 1 GiB takes with COW and without, and calibration
// can replace the defaults with figures measured on a real machine
// (tools/bench_engine prints the real kernel's fork and COW-fault times beside
// the engine's; `cowlab calibrate` fits all of them).
//
// The defaults were measured with `cowlab calibrate` (host/calibrate/calibrate.cpp,
// 75 s here) on a 2-vCPU x86_64 virtual machine, Linux 6.18.44-fc-v769,
// THP madvise, otherwise idle (load average 1.3 at the start). Faults and
// page-table writes are slow in this VM (a minor fault costs about 15 us and
// copying one PTE at fork about 140 ns, many times a bare-metal machine's), so
// every figure here is this machine's, not a typical server's. major_fault_ns
// was not measured. Rerun `cowlab calibrate` to get another machine's figures.
//
//   fork   = fork_base + vma * per_vma + pt_pages * per_pt_page + ptes * per_pte
//            + huge_pmds * per_huge_pmd (a huge PMD counts apart from the tables and PTEs)
//   fault  = fault_trap + (copy ? 4 KiB / copy_bw : 0) + (zero ? 4 KiB / zero_bw : 0)
//   huge   = fault_trap + 2 MiB / copy_bw (copy) or 2 MiB / zero_bw (zero fill)
//
// The machine charges these as it works (Machine::advance); nothing else moves
// the simulated clock.
#pragma once

#include "types.h"

namespace cow {

struct CostModel {
    double fork_base_ns = 148'000;      // task_struct, mm_struct, files, signals, scheduler
    double per_vma_ns = 730;            // vm_area_dup + anon_vma_fork per VMA
    double per_pt_page_ns = 9'600;      // allocate and zero one page-table page
    double per_pte_ns = 142;            // copy_present_pte: read, write-protect, copy one PTE
    double per_huge_pmd_ns = 1'680;     // copy_huge_pmd: one PMD entry and its deposited page table
    double fault_trap_ns = 14'700;      // exception entry, handle_mm_fault, return
    double copy_bytes_per_ns = 16.6;    // copy_mc_user_highpage bandwidth (16.6 GB/s)
    double zero_bytes_per_ns = 25.7;    // clear_page bandwidth (25.7 GB/s)
    double major_fault_ns = 80'000;     // reading a file page that is not cached (not measured)
    double exec_ns = 758'000;           // exec: load the image, set up the new mm
    double exit_base_ns = 405'000;      // exit: release the task
    double per_page_free_ns = 610;      // exit/munmap: unmap and free one page
    double vfork_ns = 25'600;           // vfork: a task that borrows the mm
    double spawn_ns = 267'000;          // posix_spawn (CLONE_VM|CLONE_VFORK path)

    double copy_ns(u64 bytes) const { return double(bytes) / copy_bytes_per_ns; }
    double zero_ns(u64 bytes) const { return double(bytes) / zero_bytes_per_ns; }
};

}  // namespace cow
