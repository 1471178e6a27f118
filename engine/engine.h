// engine.h: the index of cowlab's engine, a model of Linux x86-64 virtual
// memory with copy-on-write, and its accounting.
//
//   types.h       sizes, typed ids (FrameId, Pid), Status / Result<T> errors
//   config.h      the machine and the kernel variant (COW reuse rule, THP, overcommit)
//   cost.h        the cost model: simulated nanoseconds per kernel action
//   frames.h      physical frames: map counts, kinds, the allocator
//   pagetable.h   four-level page tables and the PTE bits
//   vma.h         address spaces, VMAs, files and their page cache
//   process.h     processes and the images they run
//   events.h      the event list and its bounded ring
//   accounting.h  smaps / status / meminfo figures, defined as /proc defines them
//   machine.h     the machine: operations in, events and query results out
//   framemap.h    one byte per frame, for the page map
//   expr.h        the arithmetic of lesson files
//   lesson.h      lesson files: parsing, validating, running
//   redis.h       workload: a Redis 7 + jemalloc dataset, SETs and BGSAVE
//   gcheap.h      workload: CPython, Ruby and copying-collector heaps after fork
#pragma once

#include "accounting.h"
#include "config.h"
#include "cost.h"
#include "events.h"
#include "expr.h"
#include "framemap.h"
#include "frames.h"
#include "gcheap.h"
#include "lesson.h"
#include "machine.h"
#include "pagetable.h"
#include "process.h"
#include "recording.h"
#include "redis.h"
#include "types.h"
#include "vma.h"

namespace cow {
// The engine's version ("0.1.0").
const char* version();
}  // namespace cow
