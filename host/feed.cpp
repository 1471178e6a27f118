// feed.cpp: live samples for the lab (feed.h).
#include "feed.h"

#include <unistd.h>

#include <algorithm>
#include <sstream>

#include "record.h"

namespace cowlab::live {

bool Region::anonymous_private() const {
    if (perms.size() < 4 || perms[1] != 'w' || perms[3] != 'p') return false;
    return path.empty() || path == "[heap]" || path == "[stack]" || path.rfind("[anon:", 0) == 0;
}

Result<std::vector<Region>> read_maps(const ProcFs& fs, int pid) {
    const std::string path = fs.root() + "/" + std::to_string(pid) + "/maps";
    FILE* f = std::fopen(path.c_str(), "r");
    if (!f) {
        const int e = errno;
        if (e == EACCES || e == EPERM) return cow::fail(cow::Errc::not_permitted, path + ": not permitted");
        return cow::fail(cow::Errc::no_such_process, path + ": no such process");
    }
    std::vector<Region> out;
    char line[4096];
    while (std::fgets(line, sizeof line, f)) {
        std::istringstream in(line);
        std::string range, offset, dev, inode;
        Region r;
        if (!(in >> range >> r.perms >> offset >> dev >> inode)) continue;
        std::getline(in >> std::ws, r.path);
        const size_t dash = range.find('-');
        if (dash == std::string::npos) {
            std::fclose(f);
            return cow::fail(cow::Errc::malformed, path + ": cannot read the line '" + std::string(line) + "'");
        }
        r.start = std::strtoull(range.substr(0, dash).c_str(), nullptr, 16);
        r.end = std::strtoull(range.substr(dash + 1).c_str(), nullptr, 16);
        if (r.end > r.start) out.push_back(std::move(r));
    }
    std::fclose(f);
    return out;
}

std::vector<int> LiveFeed::resolve() const {
    std::vector<int> out = targets_.pids;
    for (int t : targets_.trees)
        for (int p : fs_.tree(t)) out.push_back(p);
    for (const std::string& n : targets_.names)
        for (int p : fs_.by_name(n)) out.push_back(p);
    std::vector<int> unique;
    for (int p : out)
        if (std::find(unique.begin(), unique.end(), p) == unique.end()) unique.push_back(p);
    return unique;
}

Status LiveFeed::sample(cow::Recording& rec, double t_s, int pages_pid, u64 max_pages) const {
    cow::RecSample s;
    s.t_s = t_s;
    for (int p : resolve()) s.procs.push_back(rec_proc(p, fs_.sample(p)));
    rec.samples.push_back(std::move(s));
    if (!pages_pid) return {};
    Result<std::vector<Region>> maps = read_maps(fs_, pages_pid);
    if (!maps) return maps.status();
    u64 budget = max_pages;
    for (const Region& r : *maps) {
        if (!r.anonymous_private() || !budget) continue;
        const u64 len = std::min(r.end - r.start, budget * 4096);
        Result<PageShare> ps = fs_.pages(pages_pid, r.start, len);
        if (!ps) return ps.status();
        budget -= std::min<u64>(budget, ps->states.size());
        rec.pages.push_back({t_s, pages_pid, r.start, std::move(ps->states)});
    }
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

}  // namespace cowlab::live
