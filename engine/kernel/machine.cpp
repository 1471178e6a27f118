// machine.cpp: creating a machine; frames for processes, reclaim and the OOM
// killer; commit accounting; events and the clock.
#include "machine.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace cow {

void invariant_broken(const char* function, const std::string& what) {
    std::fprintf(stderr, "cowlab engine: invariant broken in %s: %s\n", function, what.c_str());
    std::abort();
}

const char* errc_name(Errc e) {
    switch (e) {
        case Errc::ok: return "ok";
        case Errc::invalid_argument: return "invalid_argument";
        case Errc::no_such_process: return "no_such_process";
        case Errc::not_running: return "not_running";
        case Errc::no_memory: return "no_memory";
        case Errc::bad_address: return "bad_address";
        case Errc::limit: return "limit";
        case Errc::no_child: return "no_child";
        case Errc::killed: return "killed";
        case Errc::not_permitted: return "not_permitted";
        case Errc::malformed: return "malformed";
    }
    return "?";
}

std::string format_bytes(u64 bytes) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int u = 0;
    double v = double(bytes);
    while (v >= 1024 && u < 5) { v /= 1024; ++u; }
    char buf[32];
    if (u == 0 || v == std::floor(v)) std::snprintf(buf, sizeof buf, "%.0f %s", v, units[u]);
    else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

const char* to_string(EventKind k) {
    switch (k) {
#define X(name, text) case EventKind::name: return #name;
        COW_EVENT_KINDS(X)
#undef X
    }
    return "?";
}

const char* describe(EventKind k) {
    switch (k) {
#define X(name, text) case EventKind::name: return text;
        COW_EVENT_KINDS(X)
#undef X
    }
    return "?";
}

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

Result<Machine> Machine::create(const MachineConfig& config) {
    if (Status st = validate(config); !st) return st;
    Machine m;
    m.cfg_ = config;
    m.frames_ = FrameTable(config.ram_bytes / kPageSize);
    m.events_ = EventLog(config.event_capacity);
    m.rng_ = config.seed;
    m.procs_.resize(1);  // pid 0 is never a process
    for (u64 i = 0; i < config.kernel_reserved_bytes / kPageSize; ++i) m.frames_.alloc(FrameKind::reserved);
    m.zero_frame_ = m.frames_.alloc(FrameKind::zero);
    return m;
}

// ---------------------------------------------------------------- events, time

void Machine::emit(EventKind k, Pid pid, u64 addr, FrameId frame, u64 arg) {
    events_.push(Event{now_ns_, addr, arg, pid, frame, k});
}

void Machine::advance(double ns) {
    frac_ns_ += ns;
    u64 whole = u64(frac_ns_);
    now_ns_ += whole;
    frac_ns_ -= double(whole);
}

Status Machine::check_pid(Pid pid, const char* op, bool need_running) const {
    if (pid == kNoPid || pid >= procs_.size() || procs_[pid].state == ProcState::reaped)
        return fail(Errc::no_such_process, std::string(op) + ": no process " + std::to_string(pid));
    const Process& p = procs_[pid];
    if (need_running && p.state != ProcState::running)
        return fail(Errc::not_running, std::string(op) + ": process " + std::to_string(pid) + " is " +
                                           to_string(p.state));
    return {};
}

// ---------------------------------------------------------------- frames

FrameId Machine::alloc_frame(FrameKind kind, Pid for_pid, bool may_oom, bool* oom_self) {
    for (;;) {
        FrameId f = frames_.alloc(kind);
        if (f != kNoFrame) {
            emit(EventKind::frame_alloc, for_pid, 0, f);
            return f;
        }
        if (reclaim(64)) continue;
        if (!may_oom || !oom_kill(for_pid, oom_self) || (oom_self && *oom_self)) return kNoFrame;
    }
}

// Drop one PTE mapping of a frame; free it when nothing holds it any more.
void Machine::put_frame(FrameId f) {
    Frame& fr = frames_[f];
    FrameKind k = fr.kind();
    if (fr.mapcount() == 0) invariant_broken("Machine::put_frame", "unmapping an unmapped frame " + std::to_string(f));
    frames_.unmap(f);
    if (k == FrameKind::huge_head || k == FrameKind::huge_tail) {
        FrameId head = FrameTable::huge_head_of(f);
        if (frames_.pmd_mapcount(head) == 0 && frames_.huge_pte_maps(head) == 0) {
            frames_.free_huge(head);
            emit(EventKind::frame_free, kNoPid, 0, head, kHugeSize);
        }
        return;
    }
    if (fr.mapcount() != 0) return;
    if (k == FrameKind::anon) {
        frames_.free(f);
        emit(EventKind::frame_free, kNoPid, 0, f);
    }
    // file and shmem pages stay in their page cache
}

// Frees memory nobody maps: clean page-cache pages of files, and the unmapped
// subpages of partly mapped huge pages (the kernel's deferred split).
bool Machine::reclaim(u64 want) {
    u64 got = 0;
    for (File& file : files_) {
        if (file.shmem) continue;
        for (u64 i = 0; i < file.cache.size() && got < want; ++i) {
            FrameId f = file.cache[i];
            if (f == kNoFrame || frames_[f].mapcount() != 0) continue;
            file.cache[i] = kNoFrame;
            frames_.free(f);
            emit(EventKind::reclaim, kNoPid, 0, f);
            ++got;
        }
        if (got >= want) return true;
    }
    for (u64 head = 0; head < frames_.total() && got < want; head += kPagesPerHuge) {
        if (frames_[FrameId(head)].kind() != FrameKind::huge_head || frames_.pmd_mapcount(FrameId(head)) != 0) continue;
        frames_.split_huge(FrameId(head));
        for (u32 i = 0; i < kPagesPerHuge; ++i) {
            FrameId f = FrameId(head) + i;
            if (frames_[f].mapcount() == 0) {
                frames_.free(f);
                emit(EventKind::reclaim, kNoPid, 0, f);
                ++got;
            }
        }
    }
    return got > 0;
}

// oom_badness(): rss + swap entries + page-table pages, plus oom_score_adj in
// thousandths of the machine's pages. -1000 exempts a process.
long Machine::badness(const Process& p) const {
    // Unkillable: exempt by oom_score_adj, or in the middle of a vfork (in_vfork()).
    if (!p.alive() || p.oom_score_adj == -1000 || p.state == ProcState::vfork_wait || p.vfork_parent != kNoPid)
        return -1;
    const Mm& mm = mms_[p.mm];
    long total_pages = long(frames_.total() + cfg_.swap_bytes / kPageSize);
    long points = long(mm.rss() + mm.pt_pages);
    long adj = long(p.oom_score_adj) * (total_pages / 1000);
    points += adj;
    return points > 0 ? points : 1;
}

// Picks the process with the highest badness and kills it (SIGKILL). When the
// victim is the faulting process itself, it is only marked: the fault unwinds
// first, then the caller kills it.
bool Machine::oom_kill(Pid faulting, bool* oom_self) {
    Pid victim = kNoPid;
    long best = -1;
    for (Pid pid = 1; pid < procs_.size(); ++pid) {
        long b = badness(procs_[pid]);
        if (b > best) { best = b; victim = pid; }
    }
    if (victim == kNoPid) return false;
    emit(EventKind::oom_kill, victim, 0, kNoFrame, u64(best));
    if (victim == faulting) {
        if (oom_self) *oom_self = true;
        return true;
    }
    kill_process(victim, 9);
    return true;
}

// ---------------------------------------------------------------- overcommit

u64 Machine::commit_limit_pages() const {
    u64 total = frames_.total() - cfg_.kernel_reserved_bytes / kPageSize;
    return total * cfg_.overcommit_ratio / 100 + cfg_.swap_bytes / kPageSize;
}

// __vm_enough_memory(): the pages are charged first, then checked.
Status Machine::charge(Mm& mm, u64 pages, const Mm* reserve_mm) {
    committed_ += pages;
    switch (cfg_.overcommit) {
        case Overcommit::always:
            break;
        case Overcommit::heuristic:
            if (pages > frames_.total() + cfg_.swap_bytes / kPageSize) {
                committed_ -= pages;
                return fail(Errc::no_memory, "overcommit (mode 0): a request of " + format_bytes(pages * kPageSize) +
                                                 " exceeds RAM + swap");
            }
            break;
        case Overcommit::never: {
            long allowed = long(commit_limit_pages());
            allowed -= long(cfg_.admin_reserve_bytes / kPageSize);
            allowed -= long(std::min<u64>((reserve_mm ? *reserve_mm : mm).total_vm() / 32, cfg_.user_reserve_bytes / kPageSize));
            if (!(long(committed_) < allowed)) {
                committed_ -= pages;
                return fail(Errc::no_memory,
                            "overcommit (mode 2): Committed_AS would reach " +
                                format_bytes((committed_ + pages) * kPageSize) + ", CommitLimit is " +
                                format_bytes(commit_limit_pages() * kPageSize));
            }
            break;
        }
    }
    mm.committed += pages;
    return {};
}

void Machine::uncharge(Mm& mm, u64 pages) {
    if (pages > mm.committed || pages > committed_)
        invariant_broken("Machine::uncharge", "uncharging more than was charged");
    mm.committed -= pages;
    committed_ -= pages;
}

// ---------------------------------------------------------------- address spaces

u32 Machine::new_mm() {
    u32 id;
    if (!free_mms_.empty()) {
        id = free_mms_.back();
        free_mms_.pop_back();
        mms_[id] = Mm{};
    } else {
        id = u32(mms_.size());
        mms_.emplace_back();
    }
    mms_[id].live = true;
    mms_[id].users = 1;
    return id;
}

Content Machine::file_page_content(const File& f, u64 index) const {
    // Stands for the file's bytes on disk: fixed per file and page, never 0.
    return Content(((f.seed * 2654435761u) ^ u32(index * 40503u)) | 0x8000u);
}

u64 Machine::host_bytes() const {
    u64 n = sizeof(Machine) + frames_.host_bytes() + tables_.host_bytes();
    n += events_.capacity() * sizeof(Event);
    for (const Mm& mm : mms_) n += sizeof(Mm) + mm.vmas.capacity() * sizeof(Vma) + mm.deposited.size() * 48;
    for (const File& f : files_) n += sizeof(File) + f.cache.capacity() * sizeof(FrameId);
    n += procs_.size() * sizeof(Process);
    return n;
}

}  // namespace cow
