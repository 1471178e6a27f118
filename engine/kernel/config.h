// config.h: what machine and which kernel the engine simulates.
//
// Kernel behaviours that changed over the years are settings here, never forks
// of the code, so a lesson can put two kernels side by side:
//
//   cow_reuse       exclusive: a write to a COW page that only the writer maps
//                   reuses it in place (Linux do_wp_page; page_count()==1 since
//                   5.9, PageAnonExclusive since 5.19). always_copy: every
//                   write to a write-protected page copies (a naive COW).
//   thp_cow         split_pmd: a write to a shared huge page splits the
//                   writer's PMD and copies one 4 KiB page (Linux >= 5.8).
//                   copy_huge: the whole 2 MiB page is copied (Linux <= 5.7).
//   thp             always / madvise / never (/sys/kernel/mm/transparent_hugepage/enabled)
//   zero_page       a read of untouched anonymous memory maps the shared zero
//                   page; without it (mm_forbids_zeropage) a read allocates.
//   overcommit      vm.overcommit_memory 0 / 1 / 2 with vm.overcommit_ratio.
//   fault_around    a read fault on a file (or shmem) mapping also maps the
//                   pages around it that are in the page cache, up to
//                   fault_around_bytes (64 KiB, Linux >= 3.15; 4 KiB: off).
//
// validate() (config.cpp) checks a configuration before Machine::create uses it.
#pragma once

#include "cost.h"
#include "types.h"

namespace cow {

enum class CowReuse : u8 { exclusive, always_copy };
enum class ThpCow : u8 { split_pmd, copy_huge };
enum class ThpMode : u8 { always, madvise, never };
enum class Overcommit : u8 { heuristic = 0, always = 1, never = 2 };

struct MachineConfig {
    u64 ram_bytes = 1 * GiB;
    u64 swap_bytes = 0;                  // counts toward CommitLimit only (no swapping is modelled)
    u64 kernel_reserved_bytes = 0;       // frames the kernel keeps for itself at boot

    CowReuse cow_reuse = CowReuse::exclusive;
    ThpCow thp_cow = ThpCow::split_pmd;
    ThpMode thp = ThpMode::madvise;
    bool thp_use_zero_page = true;       // /sys/kernel/mm/transparent_hugepage/use_zero_page
    bool zero_page = true;
    bool align_anon_mmap_to_thp = true;  // Linux >= 6.7 aligns anonymous mmaps >= 2 MiB
    u64 fault_around_bytes = 64 * KiB;   // /sys/kernel/debug/fault_around_bytes: 4 KiB .. 2 MiB, a power of two

    Overcommit overcommit = Overcommit::heuristic;
    u32 overcommit_ratio = 50;           // percent of RAM (vm.overcommit_ratio)
    u64 admin_reserve_bytes = 8 * MiB;   // vm.admin_reserve_kbytes (mode 2, non-root)
    u64 user_reserve_bytes = 128 * MiB;  // vm.user_reserve_kbytes  (mode 2)

    u64 seed = 1;                        // every random choice comes from this
    u32 event_capacity = 1u << 16;       // the event ring keeps the newest this many
    CostModel cost{};

    // Limits of the model; beyond these an operation is refused, not clamped.
    static constexpr u64 kMinRam = 64 * MiB;
    static constexpr u64 kMaxRam = 256 * GiB;
    static constexpr u32 kMaxProcesses = 65535;
};

// Checks a configuration; the message names the field and the reason.
Status validate(const MachineConfig& config);

const char* to_string(CowReuse v);
const char* to_string(ThpCow v);
const char* to_string(ThpMode v);
const char* to_string(Overcommit v);

}  // namespace cow
