// procfs.cpp: parsing /proc/<pid>/{smaps_rollup,smaps,status,stat,pagemap} and /proc/kpagecount.
#include "procfs.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sstream>
#include <unistd.h>

namespace cowlab::live {

using cow::Errc;
using cow::fail;

const char* to_string(Problem p) {
    switch (p) {
        case Problem::none: return "ok";
        case Problem::no_such_process: return "no such process";
        case Problem::not_permitted: return "not permitted";
        case Problem::exited: return "exited while sampled";
        case Problem::malformed: return "malformed";
        case Problem::unsupported: return "unsupported";
    }
    return "?";
}

Problem ProcFs::problem_of(const Status& st) {
    switch (st.err) {
        case Errc::ok: return Problem::none;
        case Errc::not_permitted: return Problem::not_permitted;
        case Errc::malformed: return Problem::malformed;
        case Errc::no_such_process: return st.message.find("exited") != std::string::npos ? Problem::exited : Problem::no_such_process;
        default: return Problem::unsupported;
    }
}

namespace {
// Why a file of /proc/<pid>/ would not open: the process is gone, or not ours to read.
Status open_failed(const std::string& path, int e) {
    if (e == ENOENT || e == ESRCH) return fail(Errc::no_such_process, path + ": no such process");
    if (e == EACCES || e == EPERM) return fail(Errc::not_permitted, path + ": not permitted");
    return fail(Errc::invalid_argument, path + ": " + std::strerror(e));
}
}  // namespace

Result<std::string> ProcFs::read(int pid, const char* file) const {
    const std::string path = root_ + "/" + std::to_string(pid) + "/" + file;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return open_failed(path, errno);
    std::string out;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0) {
            const int e = errno;
            ::close(fd);
            if (e == ESRCH) return fail(Errc::no_such_process, path + ": the process exited while sampled");
            if (e == EACCES || e == EPERM) return fail(Errc::not_permitted, path + ": not permitted");
            return fail(Errc::invalid_argument, path + ": " + std::strerror(e));
        }
        if (n == 0) break;
        out.append(buf, size_t(n));
        if (out.size() > (256u << 20)) break;
    }
    ::close(fd);
    return out;
}

namespace {

// "Name:   value kB" lines: adds every listed field's value in bytes.
Status add_kb_fields(const std::string& text, const std::string& path,
                     const std::vector<std::pair<const char*, u64*>>& fields, bool* saw_any) {
    std::istringstream in(text);
    std::string line;
    int n = 0;
    while (std::getline(in, line)) {
        ++n;
        const size_t colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string key = line.substr(0, colon);
        for (auto& [name, slot] : fields) {
            if (key != name) continue;
            unsigned long long v = 0;
            char unit[8] = {0};
            if (std::sscanf(line.c_str() + colon + 1, " %llu %7s", &v, unit) < 1 || (unit[0] && std::strcmp(unit, "kB") != 0))
                return fail(Errc::malformed, path + ": line " + std::to_string(n) + ": cannot read \"" + line + "\"");
            *slot += v * 1024;
            if (saw_any) *saw_any = true;
        }
    }
    return {};
}

}  // namespace

Result<ProcSample> ProcFs::sample(int pid) const {
    const auto t0 = std::chrono::steady_clock::now();
    ProcSample s;
    s.pid = pid;
    const std::string base = root_ + "/" + std::to_string(pid) + "/";
    // stat first: it says whether the process exists at all.
    Result<std::string> stat = read(pid, "stat");
    if (!stat) return stat.status();
    {
        const std::string& t = *stat;
        const size_t open = t.find('('), close = t.rfind(')');
        if (open == std::string::npos || close == std::string::npos || close < open)
            return fail(Errc::malformed, base + "stat: no (comm) field");
        s.name = t.substr(open + 1, close - open - 1);
        std::istringstream rest(t.substr(close + 1));
        std::vector<std::string> f;
        std::string x;
        while (rest >> x) f.push_back(x);
        // After ") ": state(3) ppid(4) pgrp session tty tpgid flags minflt(10) cminflt majflt(12)
        if (f.size() < 10) return fail(Errc::malformed, base + "stat: " + std::to_string(f.size() + 2) + " fields, expected 44 or more");
        char* end = nullptr;
        s.state = f[0].empty() ? '?' : f[0][0];
        s.ppid = int(std::strtol(f[1].c_str(), &end, 10));
        s.min_flt = std::strtoull(f[7].c_str(), &end, 10);
        if (*end) return fail(Errc::malformed, base + "stat: minflt '" + f[7] + "' is not a number");
        s.maj_flt = std::strtoull(f[9].c_str(), &end, 10);
        if (*end) return fail(Errc::malformed, base + "stat: majflt '" + f[9] + "' is not a number");
    }
    auto gone = [&](const Status& st) -> Status {
        // The process answered stat, then vanished: it exited while we sampled it.
        if (st.err == Errc::no_such_process) return fail(Errc::no_such_process, st.message + " (the process exited while sampled)");
        return st;
    };
    Result<std::string> status = read(pid, "status");
    if (!status) return gone(status.status());
    if (Status st = add_kb_fields(*status, base + "status",
                                  {{"VmRSS", &s.vm_rss}, {"VmPTE", &s.vm_pte}, {"RssAnon", &s.rss_anon},
                                   {"RssFile", &s.rss_file}, {"RssShmem", &s.rss_shmem}},
                                  nullptr);
        !st)
        return st;
    const std::vector<std::pair<const char*, u64*>> smaps_fields = {
        {"Rss", &s.rss}, {"Pss", &s.pss}, {"Pss_Dirty", &s.pss_dirty}, {"Shared_Clean", &s.shared_clean},
        {"Shared_Dirty", &s.shared_dirty}, {"Private_Clean", &s.private_clean}, {"Private_Dirty", &s.private_dirty},
        {"Referenced", &s.referenced}, {"Anonymous", &s.anonymous}, {"AnonHugePages", &s.anon_huge}, {"Swap", &s.swap}};
    Result<std::string> rollup = read(pid, "smaps_rollup");
    bool saw = false;
    if (rollup) {
        if (Status st = add_kb_fields(*rollup, base + "smaps_rollup", smaps_fields, &saw); !st) return st;
    } else if (rollup.code() == Errc::no_such_process && rollup.message().find("exited") == std::string::npos) {
        // No smaps_rollup (kernels before 4.14), or the process is gone: smaps tells which.
        Result<std::string> smaps = read(pid, "smaps");
        if (!smaps) return gone(smaps.status());
        s.from_rollup = false;
        if (Status st = add_kb_fields(*smaps, base + "smaps", smaps_fields, &saw); !st) return st;
    } else {
        return gone(rollup.status());
    }
    if (!saw && s.vm_rss) return fail(Errc::malformed, base + "smaps_rollup: no Rss line");
    s.sample_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    return s;
}

Result<ProcSample> ProcFs::sample_range(int pid, u64 start, u64 len) const {
    Result<std::string> smaps = read(pid, "smaps");
    if (!smaps) return smaps.status();
    ProcSample s;
    s.pid = pid;
    const std::string path = root_ + "/" + std::to_string(pid) + "/smaps";
    std::istringstream in(*smaps);
    std::string line, block;
    bool take = false;
    auto flush = [&]() -> Status {
        if (!take || block.empty()) return {};
        return add_kb_fields(block, path,
                             {{"Rss", &s.rss}, {"Pss", &s.pss}, {"Pss_Dirty", &s.pss_dirty}, {"Shared_Clean", &s.shared_clean},
                              {"Shared_Dirty", &s.shared_dirty}, {"Private_Clean", &s.private_clean},
                              {"Private_Dirty", &s.private_dirty}, {"Referenced", &s.referenced},
                              {"Anonymous", &s.anonymous}, {"AnonHugePages", &s.anon_huge}, {"Swap", &s.swap}},
                             nullptr);
    };
    while (std::getline(in, line)) {
        unsigned long long lo = 0, hi = 0;
        // A VMA header: "lo-hi perms offset dev inode [name]"; field lines have a ':' right after the key.
        if (line.find(':') > line.find(' ') && std::sscanf(line.c_str(), "%llx-%llx", &lo, &hi) == 2) {
            if (Status st = flush(); !st) return st;
            block.clear();
            take = lo < start + len && hi > start;
            continue;
        }
        block += line + "\n";
    }
    if (Status st = flush(); !st) return st;
    s.from_rollup = false;
    return s;
}

Result<PageShare> ProcFs::pages(int pid, u64 start, u64 len) const {
    const std::string path = root_ + "/" + std::to_string(pid) + "/pagemap";
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return open_failed(path, errno);
    PageShare r;
    const u64 first = start / cow::kPageSize, count = cow::pages_in(len);   // x86-64: the real page is the model's
    std::vector<u64> entries(std::min<u64>(count, 65536));
    for (u64 done = 0; done < count;) {
        const u64 n = std::min<u64>(entries.size(), count - done);
        const ssize_t got = ::pread(fd, entries.data(), n * 8, off_t((first + done) * 8));
        if (got < 0) {
            const int e = errno;
            ::close(fd);
            if (e == EACCES || e == EPERM) return fail(Errc::not_permitted, path + ": not permitted");
            return fail(Errc::no_such_process, path + ": the process exited while sampled");
        }
        if (got == 0) break;
        for (u64 i = 0; i < u64(got) / 8; ++i) {
            const u64 e = entries[i];
            ++r.pages;
            if (e & (u64{1} << 62)) {
                ++r.swapped;
                r.states += 'w';
            }
            if (!(e & (u64{1} << 63))) {
                if (!(e & (u64{1} << 62))) r.states += '.';
                continue;
            }
            ++r.present;
            const bool exclusive = e & (u64{1} << 56);   // "page exclusively mapped" (Linux 4.2+)
            r.exclusive += exclusive;
            r.states += exclusive ? 'x' : 's';
            const u64 pfn = e & ((u64{1} << 55) - 1);
            if (pfn) {
                r.pfns_visible = true;
                r.pfns.push_back(pfn);
            }
        }
        done += u64(got) / 8;
    }
    ::close(fd);
    return r;
}

Result<std::vector<u64>> ProcFs::page_counts(const std::vector<u64>& pfns) const { return per_frame("kpagecount", pfns); }

Result<std::vector<u64>> ProcFs::page_flags(const std::vector<u64>& pfns) const { return per_frame("kpageflags", pfns); }

Result<std::vector<u64>> ProcFs::per_frame(const char* file, const std::vector<u64>& pfns) const {
    const std::string path = root_ + "/" + file;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        const int e = errno;
        if (e == EACCES || e == EPERM) return fail(Errc::not_permitted, path + ": not permitted");
        return fail(Errc::invalid_argument, path + ": " + std::strerror(e));
    }
    // Frames near each other are read in one call: a window of 512 counts (4 KiB) at a time.
    std::vector<size_t> order(pfns.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return pfns[a] < pfns[b]; });
    std::vector<u64> out(pfns.size()), window(512);
    u64 base = ~u64{0}, have = 0;
    for (size_t i : order) {
        const u64 pfn = pfns[i];
        if (base == ~u64{0} || pfn < base || pfn >= base + have) {
            base = pfn;
            const ssize_t got = ::pread(fd, window.data(), window.size() * 8, off_t(pfn * 8));
            if (got < 8) {
                ::close(fd);
                return fail(Errc::malformed, path + ": cannot read the entry of frame " + std::to_string(pfn));
            }
            have = u64(got) / 8;
        }
        out[i] = window[pfn - base];
    }
    ::close(fd);
    return out;
}

// Every process in the root: its pid, name and parent, from /proc/<pid>/stat.
std::vector<ProcFs::Entry> ProcFs::list() const {
    std::vector<Entry> out;
    if (DIR* d = ::opendir(root_.c_str())) {
        while (dirent* e = ::readdir(d)) {
            char* end = nullptr;
            const long p = std::strtol(e->d_name, &end, 10);
            if (*end || p <= 0) continue;
            Result<std::string> st = read(int(p), "stat");
            if (!st) continue;   // gone, or not ours to read
            const size_t open = st->find('('), close = st->rfind(')');
            if (open == std::string::npos || close == std::string::npos || close < open) continue;
            char state = 0;
            int ppid = 0;
            if (std::sscanf(st->c_str() + close + 1, " %c %d", &state, &ppid) != 2) continue;
            out.push_back({int(p), ppid, st->substr(open + 1, close - open - 1)});
        }
        ::closedir(d);
    }
    return out;
}

std::vector<int> ProcFs::tree(int pid) const {
    const std::vector<Entry> all = list();
    std::vector<int> out{pid};
    for (size_t i = 0; i < out.size(); ++i)
        for (const Entry& e : all)
            if (e.ppid == out[i]) out.push_back(e.pid);
    return out;
}

std::vector<int> ProcFs::by_name(const std::string& name) const {
    std::vector<int> out;
    for (const Entry& e : list())
        if (e.name == name) out.push_back(e.pid);
    return out;
}

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

Status anon_pages(const ProcFs& fs, int pid, u64 max_pages, const std::function<Status(const Region&, PageShare&)>& each) {
    Result<std::vector<Region>> maps = read_maps(fs, pid);
    if (!maps) return maps.status();
    u64 budget = max_pages;
    for (const Region& r : *maps) {
        if (!r.anonymous_private() || !budget) continue;
        Result<PageShare> ps = fs.pages(pid, r.start, std::min(r.end - r.start, budget * 4096));
        if (!ps) return ps.status();
        budget -= std::min<u64>(budget, ps->pages);
        if (Status st = each(r, *ps); !st) return st;
    }
    return {};
}

}  // namespace cowlab::live
