// live_feed.h: live mode, as the lab sees it: which real processes to follow
// (pids, trees, names), sampled from /proc into a cow::Recording, with the page
// states of one process's anonymous memory (the real shared pages) when asked.
// This is all the lab includes of host/: it links `host-proc` (the /proc
// sampler) for live mode and nothing else of the host (no experiments, no
// hiredis). The wasm lab never sees it.
//
//   LiveFeed feed({.pids = {1234}}, "/proc");
//   Recording::parse(live_header("cowlab-lab --live"), ...)   // an empty live recording
//   feed.sample(rec, t_s, pages_pid);      // appends a sample (and pages) to rec
#pragma once

#include <string>
#include <vector>

#include "recording.h"

namespace cowlab::live {

struct Targets {
    std::vector<int> pids, trees;
    std::vector<std::string> names;
    bool empty() const { return pids.empty() && trees.empty() && names.empty(); }
};

class LiveFeed {
public:
    LiveFeed(Targets t, std::string proc_root) : targets_(std::move(t)), root_(std::move(proc_root)) {}
    // The processes followed now (trees and names resolved again each time), each once.
    std::vector<int> resolve() const;
    // Appends one sample of every followed process, and the page states of the
    // anonymous regions of `pages_pid` (0: none), at most `max_pages` of them.
    cow::Status sample(cow::Recording& rec, double t_s, int pages_pid, cow::u64 max_pages = cow::u64{4} << 20) const;

private:
    Targets targets_;
    std::string root_;
};

// The header line of a recording of live mode on this machine, run by `command`.
std::string live_header(const std::string& command);

}  // namespace cowlab::live
