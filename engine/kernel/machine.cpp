// machine.cpp: creating a machine; frames for processes, reclaim and the OOM
// killer; commit accounting; events and the clock.
#include "machine.h"

#include <algorithm>

namespace cow {

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
