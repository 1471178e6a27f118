// engine.h: the index of cowlab's engine, a model of Linux x86-64 virtual
// memory with copy-on-write, and its accounting.
//
// The engine is five layers, each a library that links only the standard
// library and the layers below it (engine/CMakeLists.txt; the json layer
// links nlohmann/json):
//
//   json/         reading JSON, for the layers that read files
//     json_reader.h a JSON object's fields, with messages that name the field
//   kernel/       the simulated machine
//     types.h       sizes, typed ids (FrameId, Pid), Status / Result<T> errors
//     config.h      the machine and the kernel variant (COW reuse rule, THP, overcommit)
//     cost.h        the cost model: simulated nanoseconds per kernel action
//     rng.h         the machine's one seeded random generator
//     frames.h      physical frames: map counts, kinds, the allocator
//     pagetable.h   four-level page tables and the PTE bits
//     vma.h         address spaces, VMAs, files and their page cache
//     process.h     processes and the images they run
//     events.h      the event list and its bounded ring
//     accounting.h  smaps / status / meminfo figures, defined as /proc defines them
//     mapping.h     several processes' entries over a range, side by side, in rows
//     machine.h     the machine: operations in, events and query results out
//                   (which .cpp holds which concept: its opening block)
//     framemap.h    one byte per frame for the page map, and the frame palette
//   workloads/    generators that only emit operations on a machine
//     redis.h       a Redis 7 + jemalloc dataset, SETs and BGSAVE
//     gcheap.h      CPython, Ruby and copying-collector heaps after fork
//   recording/    recordings of real processes
//     recording.h   the format, its reader and its writer (rec_line::*)
//   lesson/       lessons on top of the machine and the workloads
//     units.h       the units of figures, one table: names, symbols, factors
//     expr.h        the arithmetic of lesson files
//     lesson.h      lesson files: parsing, validating, running
//     ops.h         the operations a step may run, one table (name, arguments, doc, handler)
//     queries.h     the functions expressions may call, one table
//     report.h      a run's metrics as JSON (one shape) and checkpoint grading
//     docs.h        the parts of lessons/README.md generated from those tables
//     player.h      a lesson as the lab plays it: steps, predictions, reveal
#pragma once

#include "json_reader.h"

#include "accounting.h"
#include "config.h"
#include "cost.h"
#include "events.h"
#include "framemap.h"
#include "frames.h"
#include "machine.h"
#include "mapping.h"
#include "pagetable.h"
#include "process.h"
#include "rng.h"
#include "types.h"
#include "vma.h"

#include "gcheap.h"
#include "redis.h"

#include "recording.h"

#include "docs.h"
#include "expr.h"
#include "lesson.h"
#include "ops.h"
#include "player.h"
#include "queries.h"
#include "report.h"
#include "units.h"
