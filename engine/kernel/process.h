// process.h: processes and the images they run.
//
// A process has a pid, a parent, children, a state, and an address space (mm)
// that it owns, or borrows from its parent between vfork and exec/exit:
//
//   running --exit--> zombie --parent waits--> reaped
//   running --vfork--> (parent) vfork_wait --child execs/exits--> running
//
// These are the data; spawn, fork, exec, exit and wait are the machine's, in
// process.cpp.
#pragma once

#include <string>
#include <vector>

#include "types.h"

namespace cow {

enum class ProcState : u8 { running, vfork_wait, zombie, reaped };
const char* to_string(ProcState s);

struct Library {
    std::string name;                   // "/usr/lib/x86_64-linux-gnu/libc.so.6"
    u64 text = 0, rodata = 0, data = 0, bss = 0;
};

// What exec loads. Sizes in bytes; each segment is rounded up to whole pages.
struct Image {
    std::string name = "a.out";         // the program's file (and the process's name)
    u64 text = 64 * KiB, rodata = 16 * KiB, data = 8 * KiB, bss = 8 * KiB;
    u64 heap = 132 * KiB;               // the initial brk area (glibc's first arena extends it)
    u64 stack = 132 * KiB;
    std::vector<Library> libs;
    // Start-up work the loader and libc do: read text and rodata, write data
    // and the top page of the stack. Off: nothing is touched yet.
    bool warm = true;
};

// A small C program linked against glibc, with its usual segment sizes.
Image default_image(const std::string& name = "a.out");

struct ProcCounters {
    u64 min_flt = 0, maj_flt = 0;       // as /proc/<pid>/stat
    u64 zero_page_maps = 0;             // read faults that mapped the zero page
    u64 zero_fills = 0;                 // write faults that allocated a zeroed page
    u64 cow_copies = 0, cow_reuses = 0;   // write faults on pages shared copy-on-write
    u64 file_copies = 0;                  // first writes to private file pages
    u64 thp_faults = 0, thp_splits = 0, thp_copies = 0;
    u64 file_faults = 0;
};

struct Process {
    Pid pid = kNoPid;
    Pid parent = kNoPid;                // kNoPid once orphaned (reparented to init)
    std::string name;
    ProcState state = ProcState::running;
    MmId mm;                            // index into Machine's address spaces
    std::vector<Pid> children;
    Pid vfork_parent = kNoPid;          // set while this child borrows its parent's mm
    int oom_score_adj = 0;              // -1000 .. 1000
    int exit_status = 0;                // wait status: code << 8, or the signal number
    u64 start_ns = 0;
    ProcCounters counters;

    bool alive() const { return state == ProcState::running || state == ProcState::vfork_wait; }
};

}  // namespace cow
