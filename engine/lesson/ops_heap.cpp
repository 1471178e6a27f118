// ops_heap.cpp: the managed-heap workload's operations
// (engine/workloads/gcheap.h): create a CPython, Ruby or copying-collector
// heap in a process, use it, collect it, and the mitigations. The heaps live
// in the run as the "heaps" workload; a forked child inherits its parent's.
#include "gcheap.h"
#include "ops.h"

namespace cow {

namespace {

struct HeapWorkload : Workload {
    std::map<std::string, ManagedHeap> heaps;   // by name ("as")
    std::unique_ptr<Workload> clone() const override { return std::make_unique<HeapWorkload>(*this); }
    void forked(Pid parent, Pid child) override {
        for (auto& [name, heap] : heaps) heap.inherit(parent, child);
    }
};

Status op_heap_create(OpCall& c) {
    Result<Pid> pid = c.proc("pid");
    if (!pid) return pid.status();
    HeapSpec spec;
    const std::string& rt = c.text("runtime");
    if (rt == "cpython") spec.runtime = Runtime::cpython;
    else if (rt == "ruby") spec.runtime = Runtime::ruby;
    else if (rt == "moving") spec.runtime = Runtime::moving;
    else return c.error("runtime: '" + rt + "' is not cpython, ruby or moving");
    Result<double> n = c.num("objects", 0, true), b = c.num("object_bytes", 64, false), t = c.num("tracked", 0.5, false);
    for (const Result<double>* r : {&n, &b, &t})
        if (!*r) return r->status();
    if (*n < 1 || *n > 1e8 || *b < 16 || *b > 65536) return c.error("objects must be 1 .. 100,000,000 and object_bytes 16 .. 65536");
    spec.objects = u64(*n);
    spec.object_bytes = u32(*b);
    spec.tracked = *t;
    if (Status st = c.admit(spec.objects, "objects to create"); !st) return st;
    Result<ManagedHeap> h = ManagedHeap::create(c.run.m, *pid, spec);
    if (!h) return c.outcome(h.status());
    c.run.regions[c.text("as")] = Region{h->base(*pid), page_up(h->bytes())};
    c.run.workload<HeapWorkload>("heaps").heaps[c.text("as")] = std::move(h.value());
    return {};
}

// The process and the heap an operation names.
struct HeapTarget {
    Pid pid = kNoPid;
    ManagedHeap* heap = nullptr;
};

Result<HeapTarget> heap_target(OpCall& c) {
    Result<Pid> pid = c.proc("pid");
    if (!pid) return pid.status();
    HeapWorkload& w = c.run.workload<HeapWorkload>("heaps");
    auto it = w.heaps.find(c.text("heap"));
    if (it == w.heaps.end()) return c.error("heap: no heap named '" + c.text("heap") + "'");
    return HeapTarget{*pid, &it->second};
}

Status op_heap_touch(OpCall& c) {
    Result<HeapTarget> t = heap_target(c);
    if (!t) return t.status();
    Result<double> f = c.num("fraction", 1, false);
    if (!f) return f.status();
    return c.outcome(t->heap->touch(c.run.m, t->pid, *f));
}

Status op_heap_collect(OpCall& c) {
    Result<HeapTarget> t = heap_target(c);
    if (!t) return t.status();
    return c.outcome(t->heap->collect(c.run.m, t->pid));
}

Status op_heap_freeze(OpCall& c) {
    Result<HeapTarget> t = heap_target(c);
    if (!t) return t.status();
    return c.outcome(t->heap->freeze(t->pid));
}

Status op_heap_immortalize(OpCall& c) {
    Result<HeapTarget> t = heap_target(c);
    if (!t) return t.status();
    return c.outcome(t->heap->immortalize(t->pid));
}

Status op_heap_warmup(OpCall& c) {
    Result<HeapTarget> t = heap_target(c);
    if (!t) return t.status();
    return c.outcome(t->heap->warmup(c.run.m, t->pid));
}

}  // namespace

std::vector<OpSpec> heap_ops() {
    return {
        {"heap_create", {{"pid"}, {"as"}, {"runtime"}, {"objects"}, {"object_bytes", false}, {"tracked", false}},
         "a managed runtime's heap of objects (`runtime`: `cpython`, `ruby`, `moving`; `engine/workloads/gcheap.h`); "
         "also a region named `as`",
         op_heap_create},
        {"heap_touch", {{"pid"}, {"heap"}, {"fraction", false}}, "use (read) objects: CPython writes their reference counts",
         op_heap_touch},
        {"heap_collect", {{"pid"}, {"heap"}}, "a full collection: gc.collect(), GC.start, or a copying collection", op_heap_collect},
        {"heap_freeze", {{"pid"}, {"heap"}}, "gc.freeze() (CPython)", op_heap_freeze},
        {"heap_immortalize", {{"pid"}, {"heap"}}, "immortal objects (CPython)", op_heap_immortalize},
        {"heap_warmup", {{"pid"}, {"heap"}}, "Process.warmup (Ruby)", op_heap_warmup},
    };
}

}  // namespace cow
