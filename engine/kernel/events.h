// events.h: what happened, in order: one list of event kinds, a bounded ring.
//
// Every operation appends events (fork, COW copy, frame free, OOM kill, ...)
// stamped with the simulated time. The ring keeps the newest `capacity`
// events; `total()` and the per-kind counters keep counting past it, so a
// viewer can tell how many it missed. A kind is declared once, in
// COW_EVENT_KINDS (name and description); events.cpp derives to_string and
// describe from it.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "chunked.h"
#include "types.h"

namespace cow {

#define COW_EVENT_KINDS(X)                                                     \
    X(spawn, "process created from an image")                                  \
    X(fork, "fork: child created, pages shared copy-on-write")                 \
    X(fork_eager, "fork without COW: every private page copied")               \
    X(fork_failed, "fork refused (overcommit or limits)")                      \
    X(vfork, "vfork: child borrows the parent's address space")                \
    X(vfork_resume, "vfork parent resumes")                                    \
    X(exec, "exec: address space replaced by a new image")                     \
    X(exit, "process exited")                                                  \
    X(reap, "parent reaped a zombie child (wait)")                             \
    X(mmap, "mapping created")                                                 \
    X(munmap, "mapping removed")                                               \
    X(mprotect, "protection changed")                                          \
    X(madvise, "madvise applied")                                              \
    X(zero_page_map, "read fault mapped the shared zero page")                 \
    X(zero_fill, "write fault allocated a zeroed page")                        \
    X(file_fault, "fault mapped a page-cache page")                            \
    X(major_fault, "fault read a file page from disk into the page cache")     \
    X(cow_copy, "COW fault copied a shared page")                              \
    X(cow_reuse, "COW fault reused a page the writer alone maps")              \
    X(file_copy, "write to a private file mapping copied its page-cache page") \
    X(write_notify, "write to a shared mapping marked its page dirty")         \
    X(thp_fault, "fault allocated a 2 MiB huge page")                          \
    X(thp_split, "huge PMD split into 512 PTEs")                               \
    X(thp_copy, "COW fault copied a whole 2 MiB huge page")                    \
    X(frame_alloc, "frame allocated")                                          \
    X(frame_free, "frame freed")                                               \
    X(pt_alloc, "page-table page allocated")                                   \
    X(pt_free, "page-table page freed")                                        \
    X(reclaim, "page-cache page reclaimed to free memory")                     \
    X(oom_kill, "OOM killer killed a process")                                 \
    X(segfault, "SIGSEGV: access outside the mapping's rights; process killed")

enum class EventKind : u8 {
#define X(name, text) name,
    COW_EVENT_KINDS(X)
#undef X
};
constexpr int kEventKindCount = 0
#define X(name, text) +1
    COW_EVENT_KINDS(X)
#undef X
    ;
const char* to_string(EventKind k);
const char* describe(EventKind k);

struct Event {
    u64 time_ns = 0;         // simulated time
    u64 addr = 0;            // virtual address (or 0)
    u64 arg = 0;             // kind-specific: child pid, bytes, victim's badness, ...
    Pid pid = kNoPid;
    FrameId frame = kNoFrame;
    EventKind kind{};
};

// What the event did, in one sentence for a learner: "child writes
// 0x55555556a000: its entry is read-only and frame 531 is mapped by another
// entry too, so the kernel copies the page to frame 1,567, points child's entry
// at the copy, makes it writable, ...". name(pid) says what to call a process.
// (events.cpp)
std::string explain(const Event& e, const std::function<std::string(Pid)>& name);
// The kinds a learner follows step by step (a fault, a fork, an exec...), not
// the allocations and frees each of them makes.
bool is_story(EventKind k);

class EventLog {
public:
    EventLog() = default;
    explicit EventLog(u32 capacity) : ring_(capacity ? capacity : 1, Event{}) {}

    // Written field by field: a whole Event built first and copied in costs a
    // stalled store-to-load forward on each of the millions a COW storm makes.
    void push(u64 time_ns, u64 addr, u64 arg, Pid pid, FrameId frame, EventKind kind) {
        Event& e = ring_.mut(next_);
        e.time_ns = time_ns;
        e.addr = addr;
        e.arg = arg;
        e.pid = pid;
        e.frame = frame;
        e.kind = kind;
        if (++next_ == ring_.size()) next_ = 0;
        ++total_;
        ++counts_[u32(kind)];
    }
    u64 total() const { return total_; }
    u64 count(EventKind k) const { return counts_[u32(k)]; }
    u64 size() const { return total_ < ring_.size() ? total_ : ring_.size(); }
    u64 capacity() const { return ring_.size(); }
    u64 host_bytes() const { return ring_.host_bytes(); }
    template <class Fn>
    void for_each_chunk(Fn&& fn) const { ring_.for_each_chunk(fn); }
    // i-th retained event, oldest first (0 <= i < size()).
    const Event& at(u64 i) const { return ring_[(total_ - size() + i) % ring_.size()]; }
    // Sequence number of at(0): events before it were overwritten.
    u64 first_seq() const { return total_ - size(); }

private:
    ChunkedArray<Event, 10> ring_{1, Event{}};   // shared by copies of the machine until written
    u64 next_ = 0;   // total_ % ring_.size(), kept without a division
    u64 total_ = 0;
    std::array<u64, kEventKindCount> counts_{};
};

}  // namespace cow
