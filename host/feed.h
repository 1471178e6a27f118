// feed.h: live mode's sampler for the lab: which processes to follow (pids,
// trees, names), sampled into a cow::Recording, with the page states of one
// process's anonymous memory (the real shared pages) when asked.
//
//   LiveFeed feed({.pids = {1234}}, "/proc");
//   feed.sample(rec, t_s, pages_pid);      // appends a sample (and pages) to rec
#pragma once

#include <string>
#include <vector>

#include "engine.h"
#include "procfs.h"

namespace cowlab::live {

struct Targets {
    std::vector<int> pids, trees;
    std::vector<std::string> names;
};

// A region of a process's memory from /proc/<pid>/maps.
struct Region {
    u64 start = 0, end = 0;
    std::string perms, path;
    bool anonymous_private() const;   // private, writable, and anonymous: where fork's copy-on-write happens
};
Result<std::vector<Region>> read_maps(const ProcFs& fs, int pid);

class LiveFeed {
public:
    LiveFeed(Targets t, std::string root) : targets_(std::move(t)), fs_(std::move(root)) {}
    // The processes followed now (trees and names resolved again each time).
    std::vector<int> resolve() const;
    // Appends one sample of every followed process, and the page states of the
    // anonymous regions of `pages_pid` (0: none), at most `max_pages` of them.
    Status sample(cow::Recording& rec, double t_s, int pages_pid, u64 max_pages = u64{4} << 20) const;
    const ProcFs& fs() const { return fs_; }

private:
    Targets targets_;
    ProcFs fs_;
};

}  // namespace cowlab::live
