// gcheap.h: a garbage-collected runtime's heap as a workload: what a
// CPython, Ruby or moving-collector process writes when it reads objects or
// collects garbage after fork, and what the usual mitigations change. It
// only emits operations (mmap, munmap, reads, writes).
//
// The heap is `objects` objects of `object_bytes`, packed in allocation order
// (pymalloc pools / Ruby heap pages / a copying collector's space).
//
// CPython's layout is pymalloc's, as in CPython 3.11 on 64-bit Linux (what
// sys._debugmallocstats() prints there): a block is the object plus the
// 16-byte PyGC_Head in front, rounded up to a size class of 16 bytes; blocks
// of one class fill 16 KiB pools whose first 48 bytes are the pool header;
// pools come from 1 MiB arenas. Requests over 512 bytes go to malloc and are
// laid out back to back. An object's second allocation (`side_bytes`: a
// dict's keys table, a 3.11 instance's inline values array) lives in pools of
// its own size class, after the objects' pools; neither reads, reference
// counts nor collections write it:
//
//   | pool hdr 48 | GC 16 | object ... | GC 16 | object ... | ... | 16 KiB pool, then the next
//
//   cpython  every object starts with its reference count: merely using an
//            object (a read, an iteration) writes its page. Container
//            objects (the `tracked` share) carry a 16-byte PyGC_Head that a
//            collection writes. gc.freeze() moves them to the permanent
//            generation: collections skip them, refcounts still change.
//            Immortal objects (PEP 683, Python 3.12; heap-wide in Cinder)
//            stop the refcount writes.
//   ruby     marking sets bits in bitmaps kept outside the objects (since
//            Ruby 2.0), but a young object's age lives in its header and
//            every GC it survives writes it, until it is old.
//            Process.warmup (3.3) / GC.compact promote and compact the heap
//            before fork, so later collections leave the objects alone.
//   moving   a copying collector moves every live object to a new space:
//            a collection in a forked child copies the whole heap.
#pragma once

#include <map>
#include <string>

#include "machine.h"

namespace cow {

enum class Runtime : u8 { cpython, ruby, moving };

struct HeapSpec {
    Runtime runtime = Runtime::cpython;
    u64 objects = 1'000'000;
    u32 object_bytes = 64;
    double tracked = 0.5;          // cpython: share of objects the cyclic GC tracks (containers)
    u32 side_bytes = 0;            // cpython: a second allocation per object that nothing here writes
};

// pymalloc's geometry in CPython 3.11 (64-bit, radix tree on: large arenas and pools).
inline constexpr u64 kPyPoolSize = 16 * KiB, kPyPoolHeader = 48, kPyAlignment = 16, kPySmallRequest = 512;

class ManagedHeap {
public:
    // Allocates and initialises the heap in process pid.
    static Result<ManagedHeap> create(Machine& m, Pid pid, const HeapSpec& spec);

    // Uses (reads) the first `fraction` of the objects, in allocation order.
    Status touch(Machine& m, Pid pid, double fraction);
    // A full collection: gc.collect() / GC.start / a copying collection.
    Status collect(Machine& m, Pid pid);
    Status freeze(Pid pid);        // cpython gc.freeze()
    Status immortalize(Pid pid);   // cpython: immortal objects
    Status warmup(Machine& m, Pid pid);   // ruby Process.warmup: promote everything to old, before fork
    // The child inherits its parent's collector state at fork.
    void inherit(Pid parent, Pid child);

    u64 bytes() const { return objects_len_ + side_len_; }
    u64 objects_len() const { return objects_len_; }   // the objects' pools (or space), page aligned
    u64 block_bytes() const { return block_; }         // one object's block (PyGC_Head included)
    u64 base(Pid pid) const {
        auto it = states_.find(pid);
        return it == states_.end() ? 0 : it->second.base;
    }
    const HeapSpec& spec() const { return spec_; }
    ManagedHeap() = default;

private:
    struct State {
        bool frozen = false, immortal = false, old = false;
        u64 base = 0;              // where this process's objects are (a moving GC moves them)
    };
    State* state(Pid pid);
    bool tracked(u64 i) const;
    Status write_pages(Machine& m, Pid pid, const std::vector<u64>& pages);
    u64 offset(u64 i) const;       // object i's block, from the heap's base

    HeapSpec spec_;
    u64 objects_ = 0, block_ = 0, per_pool_ = 0;   // per_pool_ 0: back to back (no pools)
    u64 objects_len_ = 0, side_len_ = 0;
    u64 bitmap_ = 0, bitmap_len_ = 0;    // ruby: mark bitmaps, outside the objects
    std::map<Pid, State> states_;
    u64 salt_ = 0;
};

}  // namespace cow
