// config.cpp: checking a machine's configuration; the names of its settings.
#include "config.h"

namespace cow {

const char* to_string(CowReuse v) { return v == CowReuse::exclusive ? "exclusive" : "always_copy"; }
const char* to_string(ThpCow v) { return v == ThpCow::split_pmd ? "split_pmd" : "copy_huge"; }
const char* to_string(ThpMode v) {
    return v == ThpMode::always ? "always" : v == ThpMode::madvise ? "madvise" : "never";
}
const char* to_string(Overcommit v) {
    return v == Overcommit::heuristic ? "heuristic" : v == Overcommit::always ? "always" : "never";
}

Status validate(const MachineConfig& c) {
    if (c.ram_bytes < MachineConfig::kMinRam || c.ram_bytes > MachineConfig::kMaxRam)
        return fail(Errc::limit, "ram_bytes: " + format_bytes(c.ram_bytes) + " is outside the model's range " +
                                     format_bytes(MachineConfig::kMinRam) + " .. " +
                                     format_bytes(MachineConfig::kMaxRam));
    if (c.ram_bytes % kPageSize)
        return fail(Errc::invalid_argument, "ram_bytes: must be a multiple of 4 KiB");
    if (c.kernel_reserved_bytes % kPageSize || c.kernel_reserved_bytes > c.ram_bytes / 2)
        return fail(Errc::invalid_argument,
                    "kernel_reserved_bytes: must be a multiple of 4 KiB and at most half of RAM");
    if (c.swap_bytes % kPageSize || c.swap_bytes > 16 * c.ram_bytes)
        return fail(Errc::invalid_argument, "swap_bytes: must be a multiple of 4 KiB and at most 16x RAM");
    if (c.overcommit_ratio > 1000)
        return fail(Errc::invalid_argument, "overcommit_ratio: " + std::to_string(c.overcommit_ratio) +
                                                " is above 1000 percent");
    if (u8(c.overcommit) > 2) return fail(Errc::invalid_argument, "overcommit: must be 0, 1 or 2");
    if (c.fault_around_bytes < kPageSize || c.fault_around_bytes > kHugeSize ||
        (c.fault_around_bytes & (c.fault_around_bytes - 1)))
        return fail(Errc::invalid_argument, "fault_around_bytes: must be a power of two from 4 KiB to 2 MiB");
    if (c.event_capacity == 0 || c.event_capacity > (1u << 24))
        return fail(Errc::invalid_argument, "event_capacity: must be 1 .. 16777216");
    const CostModel& k = c.cost;
    for (double v : {k.fork_base_ns, k.per_vma_ns, k.per_pt_page_ns, k.per_pte_ns, k.per_huge_pmd_ns, k.fault_trap_ns,
                     k.major_fault_ns, k.exec_ns, k.exit_base_ns, k.per_page_free_ns, k.vfork_ns, k.spawn_ns})
        if (!(v >= 0 && v < 1e12)) return fail(Errc::invalid_argument, "cost: a time constant is negative or absurd");
    if (!(k.copy_bytes_per_ns > 0 && k.copy_bytes_per_ns < 1e6) ||
        !(k.zero_bytes_per_ns > 0 && k.zero_bytes_per_ns < 1e6))
        return fail(Errc::invalid_argument, "cost: bandwidths must be positive");
    return {};
}

}  // namespace cow
