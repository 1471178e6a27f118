// gcheap.h: a garbage-collected runtime's heap as a workload: what a
// CPython, Ruby or moving-collector process writes when it reads objects or
// collects garbage after fork, and what the usual mitigations change. It
// only emits operations (mmap, munmap, reads, writes).
//
// The heap is `objects` objects of `object_bytes`, packed in allocation order
// (pymalloc pools / Ruby heap pages / a copying collector's space):
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
};

class ManagedHeap {
public:
    // Allocates and initialises the heap in process pid.
    static Result<ManagedHeap> create(Machine& m, Pid pid, const HeapSpec& spec, u64 seed);

    // Uses (reads) the first `fraction` of the objects, in allocation order.
    Status touch(Machine& m, Pid pid, double fraction);
    // A full collection: gc.collect() / GC.start / a copying collection.
    Status collect(Machine& m, Pid pid);
    Status freeze(Pid pid);        // cpython gc.freeze()
    Status immortalize(Pid pid);   // cpython: immortal objects
    Status warmup(Machine& m, Pid pid);   // ruby Process.warmup: promote everything to old, before fork
    // The child inherits its parent's collector state at fork.
    void inherit(Pid parent, Pid child);

    u64 bytes() const { return objects_ * stride_; }
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

    HeapSpec spec_;
    u64 objects_ = 0, stride_ = 0;
    u64 bitmap_ = 0, bitmap_len_ = 0;    // ruby: mark bitmaps, outside the objects
    std::map<Pid, State> states_;
    u64 salt_ = 0;
};

}  // namespace cow
