// cost.h: the cost model: what each kernel action costs in simulated time.
//
// Every constant that turns work into nanoseconds lives here, so that a lesson
// can show "fork of 1 GiB: 4 ms with COW, 300 ms without" and calibration can
// replace the defaults with figures measured on a real machine
// (tools/bench_engine prints the real kernel's fork and COW-fault times beside
// the engine's; `cowlab calibrate` will fit all of them).
//
//   fork   = fork_base + vma * per_vma + pt_pages * per_pt_page + ptes * per_pte
//   fault  = fault_trap + (copy ? 4 KiB / copy_bw : 0) + (zero ? 4 KiB / zero_bw : 0)
//   huge   = fault_trap + 2 MiB / copy_bw (copy) or 2 MiB / zero_bw (zero fill)
#pragma once

#include "types.h"

namespace cow {

struct CostModel {
    double fork_base_ns = 40'000;       // task_struct, mm_struct, files, signals, scheduler
    double per_vma_ns = 150;            // vm_area_dup + anon_vma_fork per VMA
    double per_pt_page_ns = 200;        // allocate and zero one page-table page
    double per_pte_ns = 1.5;            // copy_present_pte: read, write-protect, copy one PTE
    double fault_trap_ns = 600;         // exception entry, handle_mm_fault, return
    double copy_bytes_per_ns = 8.0;     // copy_mc_user_highpage bandwidth (8 GB/s)
    double zero_bytes_per_ns = 16.0;    // clear_page bandwidth (16 GB/s)
    double major_fault_ns = 80'000;     // reading a file page that is not cached
    double exec_ns = 250'000;           // exec: load the image, set up the new mm
    double exit_base_ns = 20'000;       // exit: release the task
    double per_page_free_ns = 25;       // exit/munmap: unmap and free one page
    double vfork_ns = 25'000;           // vfork: a task that borrows the mm
    double spawn_ns = 30'000;           // posix_spawn (CLONE_VM|CLONE_VFORK path)

    double copy_ns(u64 bytes) const { return double(bytes) / copy_bytes_per_ns; }
    double zero_ns(u64 bytes) const { return double(bytes) / zero_bytes_per_ns; }
};

}  // namespace cow
