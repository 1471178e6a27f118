// Managed-runtime heaps after fork (engine/workloads/gcheap.h): what a
// collection or a read in the child writes, and what the mitigations spare.
#include "gcheap.h"
#include "lab.h"

using namespace test;

namespace {

struct Forked {
    Lab lab{small_config(512 * MiB)};
    Pid parent = kNoPid, child = kNoPid;
    ManagedHeap heap;

    explicit Forked(const HeapSpec& spec, void (*before_fork)(Forked&) = nullptr) {
        parent = lab.spawn();
        heap = lab.ok(ManagedHeap::create(lab.m, parent, spec));
        if (before_fork) before_fork(*this);
        child = lab.fork(parent);
        heap.inherit(parent, child);
    }
    u64 copies() const { return lab.counters(child).cow_copies; }
};

// The pages of pymalloc pools that hold at least one object (redis.h's geometry, gcheap.h).
u64 cpython_object_pages(u64 objects, u64 block) {
    const u64 per_pool = (kPyPoolSize - kPyPoolHeader) / block;
    const u64 full = objects / per_pool, rest = objects % per_pool;
    const u64 pages_per_pool = kPyPoolSize / kPageSize;
    u64 pages = full * pages_per_pool;
    if (rest) pages += (kPyPoolHeader + rest * block + kPageSize - 1) / kPageSize;
    return pages;
}

HeapSpec cpython(double tracked) { return {.runtime = Runtime::cpython, .objects = 10000, .object_bytes = 64, .tracked = tracked}; }

}  // namespace

TEST_CASE("a CPython heap is pymalloc's: 16-byte GC heads in 16 KiB pools") {
    Lab lab;
    const Pid p = lab.spawn();
    ManagedHeap h = lab.ok(ManagedHeap::create(lab.m, p, cpython(0.5)));
    CHECK(h.block_bytes() == 80);   // 64 + 16, a class of 16
    const u64 per_pool = (kPyPoolSize - kPyPoolHeader) / 80;
    CHECK(h.objects_len() == (10000 + per_pool - 1) / per_pool * kPyPoolSize);
    CHECK(lab.rollup(p).private_dirty >= h.bytes());   // allocated: written
    CHECK(ManagedHeap::create(lab.m, p, {.objects = 0}).code() == Errc::limit);
    CHECK(ManagedHeap::create(lab.m, p, {.tracked = 2}).code() == Errc::invalid_argument);
}

TEST_CASE("gc.collect() in a forked CPython child copies the pages holding tracked objects' GC heads") {
    Forked all(cpython(1.0));
    all.lab.ok(all.heap.collect(all.lab.m, all.child));
    CHECK(all.copies() == cpython_object_pages(10000, 80));
    CHECK(all.lab.counters(all.parent).cow_copies == 0);

    Forked none(cpython(0.0));
    none.lab.ok(none.heap.collect(none.lab.m, none.child));
    CHECK(none.copies() == 0);

    Forked some(cpython(0.02));   // one object in 50 tracked: still nearly every page
    some.lab.ok(some.heap.collect(some.lab.m, some.child));
    CHECK(some.copies() > cpython_object_pages(10000, 80) / 2);
    CHECK(some.copies() <= cpython_object_pages(10000, 80));
}

TEST_CASE("gc.freeze() before fork spares the collection; immortal objects spare the reads") {
    Forked frozen(cpython(1.0), [](Forked& f) { f.lab.ok(f.heap.freeze(f.parent)); });
    frozen.lab.ok(frozen.heap.collect(frozen.lab.m, frozen.child));
    CHECK(frozen.copies() == 0);
    frozen.lab.ok(frozen.heap.touch(frozen.lab.m, frozen.child, 1.0));   // refcounts still change
    CHECK(frozen.copies() == cpython_object_pages(10000, 80));

    Forked immortal(cpython(1.0), [](Forked& f) { f.lab.ok(f.heap.immortalize(f.parent)); });
    immortal.lab.ok(immortal.heap.touch(immortal.lab.m, immortal.child, 1.0));
    CHECK(immortal.copies() == 0);

    Forked half(cpython(0.0));
    half.lab.ok(half.heap.touch(half.lab.m, half.child, 0.5));
    CHECK(half.copies() > 0);
    CHECK(half.copies() < cpython_object_pages(10000, 80));
    CHECK(half.heap.freeze(half.child).ok());
    CHECK(!half.heap.warmup(half.lab.m, half.child).ok());   // Ruby's, not CPython's
}

TEST_CASE("Ruby: a young heap's first GC in the child copies it; Process.warmup before fork spares it") {
    const HeapSpec ruby = {.runtime = Runtime::ruby, .objects = 10000, .object_bytes = 40};
    Forked young(ruby);
    young.lab.ok(young.heap.collect(young.lab.m, young.child));
    CHECK(young.copies() == young.heap.bytes() / kPageSize);
    young.lab.ok(young.heap.collect(young.lab.m, young.child));   // old now: only the bitmaps
    CHECK(young.copies() == young.heap.bytes() / kPageSize);

    Forked warm(ruby, [](Forked& f) { f.lab.ok(f.heap.warmup(f.lab.m, f.parent)); });
    warm.lab.ok(warm.heap.collect(warm.lab.m, warm.child));
    CHECK(warm.copies() == 0);
    CHECK(!warm.heap.freeze(warm.child).ok());   // CPython's, not Ruby's
    // Reading Ruby objects writes nothing.
    warm.lab.ok(warm.heap.touch(warm.lab.m, warm.child, 1.0));
    CHECK(warm.copies() == 0);
}

TEST_CASE("a copying collector in the child moves the whole heap to new memory") {
    const HeapSpec moving = {.runtime = Runtime::moving, .objects = 10000, .object_bytes = 64};
    Forked f(moving);
    const u64 before = f.lab.m.meminfo().used;
    const u64 old_base = f.heap.base(f.child);
    f.lab.ok(f.heap.collect(f.lab.m, f.child));
    CHECK(f.heap.base(f.child) != old_base);
    CHECK(f.heap.base(f.parent) == old_base);
    CHECK(f.copies() == 0);   // nothing is copied on write: it is all new
    CHECK(f.lab.rollup(f.child).private_dirty >= f.heap.bytes());
    CHECK(f.lab.m.meminfo().used >= before + f.heap.bytes());
}
