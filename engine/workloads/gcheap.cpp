// gcheap.cpp: a managed runtime's heap: reads, collections, mitigations.
#include "gcheap.h"

namespace cow {

Result<ManagedHeap> ManagedHeap::create(Machine& m, Pid pid, const HeapSpec& spec) {
    if (spec.objects == 0 || spec.objects > 100'000'000) return fail(Errc::limit, "heap: objects must be 1 .. 100,000,000");
    if (spec.object_bytes < 16 || spec.object_bytes > 65536) return fail(Errc::limit, "heap: object_bytes must be 16 .. 65536");
    if (!(spec.tracked >= 0 && spec.tracked <= 1)) return fail(Errc::invalid_argument, "heap: tracked must be a fraction 0 .. 1");
    ManagedHeap h;
    h.spec_ = spec;
    h.objects_ = spec.objects;
    h.salt_ = m.rng().next();   // which objects are tracked: the machine's random choice
    if (spec.side_bytes > 65536) return fail(Errc::limit, "heap: side_bytes must be 0 .. 65536");
    if (spec.runtime == Runtime::cpython) {
        // pymalloc: a block is the object and its PyGC_Head, in a size class of 16 bytes.
        auto round16 = [](u64 n) { return (n + kPyAlignment - 1) & ~(kPyAlignment - 1); };
        auto pools = [&](u64 block, u64* per_pool) {
            *per_pool = block <= kPySmallRequest ? (kPyPoolSize - kPyPoolHeader) / block : 0;
            return *per_pool ? (h.objects_ + *per_pool - 1) / *per_pool * kPyPoolSize : page_up(h.objects_ * block);
        };
        h.block_ = round16(u64{spec.object_bytes} + 16);
        h.objects_len_ = pools(h.block_, &h.per_pool_);
        u64 side_per_pool = 0;
        h.side_len_ = spec.side_bytes ? pools(round16(spec.side_bytes), &side_per_pool) : 0;
    } else {
        h.block_ = (u64{spec.object_bytes} + 7) & ~u64{7};
        h.objects_len_ = page_up(h.objects_ * h.block_);
    }
    const char* name = spec.runtime == Runtime::cpython ? "python heap" : spec.runtime == Runtime::ruby ? "ruby heap" : "gc heap";
    Result<u64> base = m.mmap(pid, {.len = h.bytes(), .name = name});
    if (!base) return fail(base.code(), std::string("heap: ") + base.message());
    if (spec.runtime == Runtime::ruby) {
        h.bitmap_len_ = page_up((h.objects_ + 7) / 8 * 4);   // mark, uncollectible, WB, marking bits
        Result<u64> bm = m.mmap(pid, {.len = h.bitmap_len_, .name = "ruby heap bitmaps"});
        if (!bm) return fail(bm.code(), std::string("heap: ") + bm.message());
        h.bitmap_ = *bm;
    }
    h.states_[pid].base = *base;
    if (Result<AccessResult> w = m.access(pid, *base, h.bytes(), Access::write); !w)
        return fail(w.code(), "heap: allocating the objects: " + w.message());
    return h;
}

ManagedHeap::State* ManagedHeap::state(Pid pid) {
    auto it = states_.find(pid);
    return it == states_.end() ? nullptr : &it->second;
}

void ManagedHeap::inherit(Pid parent, Pid child) {
    if (State* s = state(parent)) states_[child] = *s;
}

u64 ManagedHeap::offset(u64 i) const {
    if (per_pool_ == 0) return i * block_;
    return i / per_pool_ * kPyPoolSize + kPyPoolHeader + i % per_pool_ * block_;
}

bool ManagedHeap::tracked(u64 i) const {
    u64 z = (i + salt_) * 0xBF58476D1CE4E5B9ull;
    z ^= z >> 31;
    return double(z % 1'000'000) < spec_.tracked * 1e6;
}

Status ManagedHeap::write_pages(Machine& m, Pid pid, const std::vector<u64>& pages) {
    if (pages.empty()) return {};
    return m.access_pages(pid, pages, Access::write).status();
}

Status ManagedHeap::touch(Machine& m, Pid pid, double fraction) {
    State* s = state(pid);
    if (!s) return fail(Errc::invalid_argument, "heap: process " + std::to_string(pid.v) + " has no such heap");
    if (!(fraction >= 0 && fraction <= 1)) return fail(Errc::invalid_argument, "heap: fraction must be 0 .. 1");
    const u64 n = u64(double(objects_) * fraction);
    if (n == 0) return {};
    const u64 len = page_up(offset(n - 1) + block_);
    // Reading an object in CPython is Py_INCREF / Py_DECREF on it: a write, unless it is immortal.
    const bool writes = spec_.runtime == Runtime::cpython && !s->immortal;
    return m.access(pid, s->base, std::min(len, objects_len_), writes ? Access::write : Access::read).status();
}

Status ManagedHeap::collect(Machine& m, Pid pid) {
    State* s = state(pid);
    if (!s) return fail(Errc::invalid_argument, "heap: process " + std::to_string(pid.v) + " has no such heap");
    std::vector<u64> pages;
    switch (spec_.runtime) {
        case Runtime::cpython: {
            if (s->frozen) return {};   // the permanent generation is never collected
            // update_refs / subtract_refs write gc_refs in the PyGC_Head of every tracked object.
            u64 last = ~u64{0};
            for (u64 i = 0; i < objects_; ++i) {
                if (!tracked(i)) continue;
                const u64 p = page_down(s->base + offset(i));
                if (p != last) pages.push_back(last = p);
            }
            return write_pages(m, pid, pages);
        }
        case Runtime::ruby: {
            // Marking writes the bitmaps (outside the objects); a young object's age is in its header.
            if (Result<AccessResult> r = m.access(pid, bitmap_, bitmap_len_, Access::write); !r) return r.status();
            if (s->old) return {};
            if (Result<AccessResult> r = m.access(pid, s->base, bytes(), Access::write); !r) return r.status();
            s->old = true;   // three collections in real Ruby; one here
            return {};
        }
        case Runtime::moving: {
            // Copy every live object to a fresh space, then drop the old one.
            Result<u64> to = m.mmap(pid, {.len = bytes(), .name = "gc to-space"});
            if (!to) return to.status();
            if (Result<AccessResult> r = m.access(pid, s->base, bytes(), Access::read); !r) return r.status();
            if (Result<AccessResult> r = m.access(pid, *to, bytes(), Access::write); !r) return r.status();
            if (Status st = m.munmap(pid, s->base, bytes()); !st) return st;
            s->base = *to;
            return {};
        }
    }
    return {};
}

Status ManagedHeap::freeze(Pid pid) {
    State* s = state(pid);
    if (!s) return fail(Errc::invalid_argument, "heap: process " + std::to_string(pid.v) + " has no such heap");
    if (spec_.runtime != Runtime::cpython) return fail(Errc::invalid_argument, "heap: gc.freeze() is CPython's");
    s->frozen = true;   // a list splice: no object is written
    return {};
}

Status ManagedHeap::immortalize(Pid pid) {
    State* s = state(pid);
    if (!s) return fail(Errc::invalid_argument, "heap: process " + std::to_string(pid.v) + " has no such heap");
    if (spec_.runtime != Runtime::cpython) return fail(Errc::invalid_argument, "heap: immortal objects are CPython's");
    s->immortal = true;
    return {};
}

Status ManagedHeap::warmup(Machine& m, Pid pid) {
    State* s = state(pid);
    if (!s) return fail(Errc::invalid_argument, "heap: process " + std::to_string(pid.v) + " has no such heap");
    if (spec_.runtime != Runtime::ruby) return fail(Errc::invalid_argument, "heap: Process.warmup is Ruby's");
    if (s->old) return {};
    s->old = true;   // promotion writes each header once, in the parent, before it forks
    return m.access(pid, s->base, bytes(), Access::write).status();
}

}  // namespace cow
