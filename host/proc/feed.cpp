// feed.cpp: live samples for the lab (live_feed.h).
#include "live_feed.h"

#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "procfs.h"
#include "recorder.h"
#include "system.h"

namespace cowlab::live {

std::vector<int> LiveFeed::resolve() const {
    const ProcFs fs(root_);
    std::vector<int> out = targets_.pids;
    for (int t : targets_.trees)
        for (int p : fs.tree(t)) out.push_back(p);
    for (const std::string& n : targets_.names)
        for (int p : fs.by_name(n)) out.push_back(p);
    std::vector<int> unique;
    for (int p : out)
        if (std::find(unique.begin(), unique.end(), p) == unique.end()) unique.push_back(p);
    return unique;
}

Status LiveFeed::sample(cow::Recording& rec, double t_s, int pages_pid, u64 max_pages) const {
    const ProcFs fs(root_);
    cow::RecSample s;
    s.t_s = t_s;
    for (int p : resolve()) s.procs.push_back(rec_proc(p, fs.sample(p)));
    rec.samples.push_back(std::move(s));
    if (!pages_pid) return {};
    if (Status st = anon_pages(fs, pages_pid, max_pages, [&](const Region& r, PageShare& ps) {
            rec.pages.push_back({t_s, pages_pid, r.start, std::move(ps.states)});
            return Status{};
        });
        !st)
        return st;
    // Keep only the newest page states of each region: live mode runs for hours.
    auto& pages = rec.pages;
    std::stable_sort(pages.begin(), pages.end(), [](const cow::RecPages& a, const cow::RecPages& b) { return a.t_s < b.t_s; });
    std::vector<cow::RecPages> kept;
    for (auto it = pages.rbegin(); it != pages.rend(); ++it) {
        bool newer = false;
        for (const cow::RecPages& k : kept) newer |= k.pid == it->pid && k.start == it->start;
        if (!newer) kept.push_back(std::move(*it));
    }
    std::reverse(kept.begin(), kept.end());
    pages = std::move(kept);
    return {};
}

std::string live_header(const std::string& command) {
    return cow::rec_line::header("live", command, "", host_info()) + "\n";
}

}  // namespace cowlab::live
