// oom.cpp: when memory runs out: frames for the kernel's paths, reclaim, the
// OOM killer, and commit accounting (overcommit).
//
// A frame comes from the frame table; when it is empty, reclaim frees memory
// nobody maps (unmapped page-cache pages of files, the unmapped subpages of
// huge pages); when that finds
// nothing, a fault may call the OOM killer, which kills the process with the
// highest badness (oom_badness(): rss + page tables, moved by oom_score_adj).
// Fork may not: it fails with ENOMEM instead.
//
// Commit accounting is apart from frames: mmap, fork and mprotect charge the
// pages a mapping could dirty to Committed_AS and are refused, by
// vm.overcommit_memory's rule, before any frame is needed:
//
//   mode 0 (heuristic)  a single request larger than RAM + swap is refused
//   mode 1 (always)     nothing is refused
//   mode 2 (never)      Committed_AS must stay below CommitLimit
//                       (RAM * overcommit_ratio% + swap) less the reserves
#include <algorithm>

#include "machine.h"

namespace cow {

// ---------------------------------------------------------------- frames, reclaim, OOM

FrameId Machine::alloc_frame(FrameKind kind, const Allocator& alloc) {
    for (;;) {
        FrameId f = frames_.alloc(kind);
        if (f != kNoFrame) {
            emit(EventKind::frame_alloc, alloc.pid, 0, f);
            return f;
        }
        if (reclaim(64)) continue;
        if (!alloc.may_oom || oom_kill(alloc.pid) != OomVictim::other) return kNoFrame;
    }
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
    const Mm& mm = mm_at(p.mm);
    long total_pages = long(frames_.total() + cfg_.swap_bytes / kPageSize);
    long points = long(mm.rss() + mm.pt_pages);
    long adj = long(p.oom_score_adj) * (total_pages / 1000);
    points += adj;
    return points > 0 ? points : 1;
}

// Picks the process with the highest badness and kills it (SIGKILL). When the
// victim is the faulting process itself, it is only named: the fault unwinds
// first, then the caller kills it.
Machine::OomVictim Machine::oom_kill(Pid faulting) {
    Pid victim = kNoPid;
    long best = -1;
    for (Pid pid{1}; pid.v < procs_.size(); ++pid.v) {
        long b = badness(proc(pid));
        if (b > best) { best = b; victim = pid; }
    }
    if (victim == kNoPid) return OomVictim::none;
    emit(EventKind::oom_kill, victim, 0, kNoFrame, u64(best));
    if (victim == faulting) return OomVictim::self;
    kill_process(victim, 9);
    return OomVictim::other;
}

// ---------------------------------------------------------------- commit accounting (overcommit)

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

}  // namespace cow
