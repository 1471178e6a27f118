// procfs.h: reading a real process's memory figures from /proc.
//
// host/proc/ (the library host-proc, the only part of the host the lab links):
// procfs (this file), live mode's sampler (live_feed.h, the lab's one include),
// recordings written to files (recorder.h), `cowlab live` (live.h), the
// machine's small readers (system.h) and cleanup on Ctrl-C (cleanup.h).
//
//   ProcFs fs;                                  // or ProcFs("tests/fixtures/proc") for fixtures
//   Result<ProcSample> s = fs.sample(pid);      // smaps_rollup (or smaps), status, stat
//   Result<PageShare> p = fs.pages(pid, start, len);   // pagemap (+ kpagecount when permitted)
//   Result<std::vector<Region>> m = read_maps(fs, pid); // maps: where copy-on-write happens
//
// Every failure says which file and why, and keeps "not permitted" apart from
// "no such process" and "exited while sampled": a figure that could not be read
// is never reported as 0.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "types.h"

namespace cowlab::live {

using cow::Result;
using cow::Status;
using cow::u64;

enum class Problem : cow::u8 { none, no_such_process, not_permitted, exited, malformed, unsupported };
const char* to_string(Problem p);

struct ProcSample {
    int pid = 0, ppid = 0;
    std::string name;
    char state = '?';
    // smaps_rollup (bytes)
    u64 rss = 0, pss = 0, pss_dirty = 0, shared_clean = 0, shared_dirty = 0, private_clean = 0, private_dirty = 0;
    u64 referenced = 0, anonymous = 0, anon_huge = 0, swap = 0;
    bool from_rollup = true;        // false: summed from smaps (a kernel before 4.14)
    // status (bytes)
    u64 vm_rss = 0, vm_pte = 0, rss_anon = 0, rss_file = 0, rss_shmem = 0;
    // stat
    u64 min_flt = 0, maj_flt = 0;
    double sample_ms = 0;           // what reading it cost

    u64 uss() const { return private_clean + private_dirty; }
    u64 shared() const { return shared_clean + shared_dirty; }
};

// What pagemap says of a range: pages present, and how many of them the
// process maps alone (kernel's "exclusively mapped" bit, readable without
// privileges), and the PFNs when the kernel shows them (root).
struct PageShare {
    u64 pages = 0, present = 0, exclusive = 0, swapped = 0;
    bool pfns_visible = false;
    std::vector<u64> pfns;          // present pages' frame numbers (when visible)
    std::string states;             // per page: '.' absent, 'x' exclusive, 's' shared, 'w' swapped
};

class ProcFs {
public:
    explicit ProcFs(std::string root = "/proc") : root_(std::move(root)) {}

    Result<ProcSample> sample(int pid) const;
    Result<PageShare> pages(int pid, u64 start, u64 len) const;
    // The smaps fields of the VMAs overlapping [start, start + len), summed (from /proc/<pid>/smaps).
    Result<ProcSample> sample_range(int pid, u64 start, u64 len) const;
    // Map counts of frames from /proc/kpagecount (root only).
    Result<std::vector<u64>> page_counts(const std::vector<u64>& pfns) const;
    // Flags of frames from /proc/kpageflags (root only): KPF_THP, KPF_ZERO_PAGE, ...
    Result<std::vector<u64>> page_flags(const std::vector<u64>& pfns) const;
    static constexpr u64 kKpfThp = u64{1} << 22, kKpfZeroPage = u64{1} << 24;
    // Every process whose parent is pid, recursively (pid first).
    std::vector<int> tree(int pid) const;
    std::vector<int> by_name(const std::string& name) const;
    const std::string& root() const { return root_; }

    // The problem behind the last error of a call (for callers that report per process).
    static Problem problem_of(const Status& st);

private:
    struct Entry {
        int pid = 0, ppid = 0;
        std::string name;
    };
    std::vector<Entry> list() const;
    Result<std::vector<u64>> per_frame(const char* file, const std::vector<u64>& pfns) const;
    Result<std::string> read(int pid, const char* file) const;
    std::string root_;
};

// A region of a process's memory from /proc/<pid>/maps.
struct Region {
    u64 start = 0, end = 0;
    std::string perms, path;
    bool anonymous_private() const;   // private, writable, and anonymous: where fork's copy-on-write happens
};
Result<std::vector<Region>> read_maps(const ProcFs& fs, int pid);

// pagemap of each anonymous private region of pid (where fork's copy-on-write
// happens), at most max_pages pages in all, handed to `each` region by region.
// The first error (maps, pagemap, or one `each` returns) ends the walk.
Status anon_pages(const ProcFs& fs, int pid, u64 max_pages, const std::function<Status(const Region&, PageShare&)>& each);

}  // namespace cowlab::live
