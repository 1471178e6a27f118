// live.cpp: the sampler's command line: which processes, how often, which format.
#include "live.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <algorithm>
#include <cstring>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine.h"
#include "procfs.h"
#include "live_feed.h"
#include "recorder.h"
#include "system.h"

namespace cowlab::live {

namespace {

volatile std::sig_atomic_t g_stop = 0;

int usage() {
    std::fprintf(stderr,
                 "usage: cowlab live [-p PID]... [--tree PID] [--name NAME] [--interval MS] [--count N]\n"
                 "                   [--json | --csv] [--shared] [--record FILE [--pages]] [--proc-root DIR] [--ui]\n"
                 "  --shared: per process, its anonymous pages mapped alone or shared, and (as root) the frames it\n"
                 "            still shares with its parent, how many processes map them, zero page and THP\n"
                 "  --ui opens the lab's window on the same processes (the process tree, the pages they share)\n");
    return 2;
}

std::string mib(u64 b) { return cow::format_bytes(b); }
unsigned long long ull(u64 v) { return v; }

}  // namespace

namespace {
// --ui: the native lab (cowlab-lab, built beside cowlab) in live mode on the same processes.
int open_ui(const std::vector<std::string>& a) {
    std::vector<std::string> args = {"cowlab-lab", "--live"};
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i] == "--ui") continue;
        if ((a[i] == "-p" || a[i] == "--pid" || a[i] == "--tree" || a[i] == "--name" || a[i] == "--interval" ||
             a[i] == "--proc-root" || a[i] == "--frames" || a[i] == "--screenshot") && i + 1 < a.size()) {
            args.push_back(a[i]);   // --frames N --screenshot FILE: the window closes after N frames, saved as PNG
            args.push_back(a[++i]);
        } else if (a[i] == "--print-state") {
            args.push_back(a[i]);
        } else if (a[i] == "--count" && i + 1 < a.size()) {
            ++i;   // the window runs until closed
        } else {
            std::fprintf(stderr, "cowlab live --ui: %s is for the table output, not the window\n", a[i].c_str());
            return 2;
        }
    }
    char self[4096];
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    std::string dir = n > 0 ? std::string(self, size_t(n)) : std::string();
    dir = dir.substr(0, dir.rfind('/') + 1);
    const std::string lab = dir + "cowlab-lab";
    std::vector<char*> argv;
    for (std::string& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    execv(lab.c_str(), argv.data());
    std::fprintf(stderr, "cowlab live --ui: cannot start %s: %s (build it with scripts/build.sh native)\n", lab.c_str(), std::strerror(errno));
    return 1;
}
// --shared: which anonymous pages each process still shares, and (with frame
// numbers visible, i.e. as root) which of them are the very frames of its parent.
struct Sharing {
    int pid = 0, ppid = 0;
    u64 present = 0, alone = 0, shared = 0, with_parent = 0, mapped2 = 0, mapped3 = 0, zero = 0, thp = 0;
    bool pfns = false, counts = false, flags = false;
    std::string problem;
};

std::vector<Sharing> sharing(const ProcFs& fs, const std::vector<std::pair<int, Result<ProcSample>>>& rows, u64 max_pages) {
    std::vector<Sharing> out;
    std::map<int, std::vector<u64>> frames;   // pid -> sorted PFNs of its anonymous pages
    for (const auto& [p, r] : rows) {
        if (!r) continue;
        Sharing sh;
        sh.pid = p;
        sh.ppid = r->ppid;
        std::vector<u64>& pf = frames[p];
        const Status walked = anon_pages(fs, p, max_pages, [&](const Region&, PageShare& ps) {
            sh.present += ps.present;
            sh.alone += ps.exclusive;
            sh.pfns |= ps.pfns_visible;
            pf.insert(pf.end(), ps.pfns.begin(), ps.pfns.end());
            return Status{};
        });
        if (!walked) {
            sh.problem = walked.message;
            if (sh.present == 0 && !sh.pfns) {   // maps could not be read: nothing of this process
                out.push_back(sh);
                continue;
            }
        }
        sh.shared = sh.present - sh.alone;
        std::sort(pf.begin(), pf.end());
        if (sh.pfns) {
            // How many processes map each frame (/proc/kpagecount), and which frames are the
            // shared zero page or part of a huge page (/proc/kpageflags): root only.
            Result<std::vector<u64>> c = fs.page_counts(pf);
            Result<std::vector<u64>> fl = fs.page_flags(pf);
            sh.flags = fl.ok();
            for (size_t i = 0; i < pf.size(); ++i) {
                const u64 f = fl ? (*fl)[i] : 0;
                if (f & ProcFs::kKpfZeroPage) {   // not data: every reader of untouched memory maps it
                    ++sh.zero;
                    continue;
                }
                sh.thp += (f & ProcFs::kKpfThp) != 0;
                if (c) {
                    sh.counts = true;
                    sh.mapped2 += (*c)[i] == 2;
                    sh.mapped3 += (*c)[i] >= 3;
                }
            }
            // The zero page is never the parent's data: take it out of the frames compared.
            if (fl) {
                std::vector<u64> data;
                for (size_t i = 0; i < pf.size(); ++i)
                    if (!((*fl)[i] & ProcFs::kKpfZeroPage)) data.push_back(pf[i]);
                pf = std::move(data);
            }
        }
        out.push_back(sh);
    }
    for (Sharing& sh : out) {
        auto me = frames.find(sh.pid), parent = frames.find(sh.ppid);
        if (!sh.pfns || me == frames.end() || parent == frames.end()) continue;
        std::vector<u64> both;
        std::set_intersection(me->second.begin(), me->second.end(), parent->second.begin(), parent->second.end(), std::back_inserter(both));
        sh.with_parent = both.size();
    }
    return out;
}

struct Options {
    Targets targets;
    long long interval_ms = 0, count = 1;
    bool pages = false, shared = false;
    std::string format = "table", root = "/proc", record;
};

// The options, or the exit status of a bad one (its message printed).
int parse_options(const std::vector<std::string>& a, Options& o) {
    bool count_given = false;
    for (size_t i = 0; i < a.size(); ++i) {
        const bool has = i + 1 < a.size();
        long long v = 0;
        if ((a[i] == "-p" || a[i] == "--pid") && has) {
            if (!parse_count(a[++i], 1, 1L << 30, v)) { std::fprintf(stderr, "cowlab live: -p %s: not a pid\n", a[i].c_str()); return 2; }
            o.targets.pids.push_back(int(v));
        } else if (a[i] == "--tree" && has) {
            if (!parse_count(a[++i], 1, 1L << 30, v)) { std::fprintf(stderr, "cowlab live: --tree %s: not a pid\n", a[i].c_str()); return 2; }
            o.targets.trees.push_back(int(v));
        } else if (a[i] == "--name" && has) {
            o.targets.names.push_back(a[++i]);
        } else if (a[i] == "--interval" && has) {
            if (!parse_count(a[++i], 10, 3600000, o.interval_ms)) { std::fprintf(stderr, "cowlab live: --interval must be 10 .. 3600000 ms\n"); return 2; }
        } else if (a[i] == "--count" && has) {
            if (!parse_count(a[++i], 1, 1000000, o.count)) { std::fprintf(stderr, "cowlab live: --count must be 1 .. 1000000\n"); return 2; }
            count_given = true;
        } else if (a[i] == "--json" || a[i] == "--csv") {
            o.format = a[i].substr(2);
        } else if (a[i] == "--record" && has) {
            o.record = a[++i];
        } else if (a[i] == "--pages") {
            o.pages = true;
        } else if (a[i] == "--shared") {
            o.shared = true;
        } else if (a[i] == "--proc-root" && has) {
            o.root = a[++i];
        } else {
            return usage();
        }
    }
    if (o.targets.empty()) o.targets.pids.push_back(int(getpid()));
    if (o.interval_ms && !count_given) o.count = 1000000;   // until Ctrl-C
    return 0;
}

// One round of samples: every followed process, when, and what reading them cost.
struct Round {
    long n = 0;
    double t_ms = 0, dt_s = 0, cost_ms = 0;
    std::vector<std::pair<int, Result<ProcSample>>> rows;
};

// The round into the recording; with --pages, which anonymous pages each process
// still shares (at most 1 Mi pages each).
Status record_round(Recorder& rec, const ProcFs& fs, const Round& r, bool pages) {
    Status st = rec.sample(rec_sample(r.t_ms / 1000.0, r.rows));
    for (const auto& [p, s] : r.rows) {
        if (!pages || !st || !s) continue;
        const int pid = p;
        (void)anon_pages(fs, pid, u64{1} << 20, [&](const Region& reg, PageShare& ps) {
            st = rec.pages({r.t_ms / 1000.0, pid, reg.start, ps.states});
            return st;
        });
    }
    return st;
}

nlohmann::json sample_json(int p, const ProcSample& s, double rate) {
    nlohmann::json j = {{"pid", p}, {"ppid", s.ppid}, {"name", s.name}, {"state", std::string(1, s.state)},
                        {"rss", s.rss}, {"pss", s.pss}, {"pss_dirty", s.pss_dirty}, {"uss", s.uss()},
                        {"shared_clean", s.shared_clean}, {"shared_dirty", s.shared_dirty},
                        {"private_clean", s.private_clean}, {"private_dirty", s.private_dirty},
                        {"anonymous", s.anonymous}, {"anon_huge", s.anon_huge}, {"swap", s.swap},
                        {"vm_rss", s.vm_rss}, {"vm_pte", s.vm_pte}, {"rss_anon", s.rss_anon},
                        {"rss_file", s.rss_file}, {"rss_shmem", s.rss_shmem}, {"min_flt", s.min_flt},
                        {"maj_flt", s.maj_flt}, {"from_rollup", s.from_rollup}, {"sample_ms", s.sample_ms}};
    if (rate >= 0) j["min_flt_per_s"] = rate;
    return j;
}

// One process's row in the chosen format (table and CSV printed, JSON gathered).
void print_row(const std::string& format, const Round& r, int p, const ProcSample& s, double rate, nlohmann::json& jrows) {
    if (format == "table") {
        char rate_text[32] = "-";
        if (rate >= 0) std::snprintf(rate_text, sizeof rate_text, "%.0f", rate);
        std::printf("%8d %-16s %10s %10s %10s %10s %13s %10s\n", p, s.name.substr(0, 16).c_str(), mib(s.rss).c_str(),
                    mib(s.pss).c_str(), mib(s.uss()).c_str(), mib(s.shared()).c_str(), mib(s.private_dirty).c_str(), rate_text);
    } else if (format == "csv") {
        std::printf("%.0f,%d,%d,%s,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,\n", r.t_ms, p, s.ppid, s.name.c_str(),
                    ull(s.rss), ull(s.pss), ull(s.uss()), ull(s.shared_clean), ull(s.shared_dirty), ull(s.private_clean),
                    ull(s.private_dirty), ull(s.anon_huge), ull(s.vm_pte), ull(s.min_flt), ull(s.maj_flt));
    } else {
        jrows.push_back(sample_json(p, s, rate));
    }
}

// Every process of the round, and the totals; the processes read go to `previous` (for
// the fault rates). Returns the JSON rows (--json) and the totals.
ProcSample print_rows(const std::string& format, const Round& r, std::map<int, ProcSample>& previous, nlohmann::json& jrows, int& ok) {
    ProcSample total;
    if (format == "table")
        std::printf("%8s %-16s %10s %10s %10s %10s %13s %10s  %s\n", "PID", "NAME", "Rss", "Pss", "USS", "Shared",
                    "Private_Dirty", "minflt/s", r.n ? "" : "(smaps_rollup, status, stat)");
    for (const auto& [p, res] : r.rows) {
        if (!res) {
            const Problem pr = ProcFs::problem_of(res.status());
            if (format == "table") std::printf("%8d %-16s %s: %s\n", p, "?", to_string(pr), res.message().c_str());
            else if (format == "csv") std::printf("%.0f,%d,,,,,,,,,,,,,,%s\n", r.t_ms, p, to_string(pr));
            else jrows.push_back({{"pid", p}, {"problem", to_string(pr)}, {"error", res.message()}});
            continue;
        }
        const ProcSample& s = *res;
        ++ok;
        total.rss += s.rss;
        total.pss += s.pss;
        total.private_clean += s.private_clean;
        total.private_dirty += s.private_dirty;
        total.shared_clean += s.shared_clean;
        total.shared_dirty += s.shared_dirty;
        double rate = -1;
        if (auto it = previous.find(p); it != previous.end() && r.dt_s > 0 && s.min_flt >= it->second.min_flt)
            rate = double(s.min_flt - it->second.min_flt) / r.dt_s;
        print_row(format, r, p, s, rate, jrows);
        previous[p] = s;
    }
    if (format == "table") {
        std::printf("%8s %-16s %10s %10s %10s %10s %13s\n", "", "total", mib(total.rss).c_str(), mib(total.pss).c_str(),
                    mib(total.uss()).c_str(), mib(total.shared()).c_str(), mib(total.private_dirty).c_str());
        std::printf("sampled %zu processes in %.2f ms (the Rss total counts a shared page once per process that maps it; the Pss total counts it once)\n",
                    r.rows.size(), r.cost_ms);
    }
    return total;
}

void print_sharing(const std::vector<Sharing>& sh, double share_ms) {
    std::printf("%8s %12s %12s %12s %16s %10s %10s %10s %10s   (anonymous private pages, from pagemap)\n", "PID", "present",
                "alone", "shared", "same as parent", "mapped 2x", "3x+", "zero page", "in THP");
    bool hidden = false;
    for (const Sharing& x : sh) {
        if (!x.problem.empty()) {
            std::printf("%8d %s\n", x.pid, x.problem.c_str());
            continue;
        }
        hidden |= !x.pfns;
        auto frames_only = [&](u64 v, bool known) { return known ? std::to_string(v) : std::string("-"); };
        std::printf("%8d %12llu %12llu %12llu %16s %10s %10s %10s %10s\n", x.pid, ull(x.present), ull(x.alone), ull(x.shared),
                    frames_only(x.with_parent, x.pfns).c_str(), frames_only(x.mapped2, x.counts).c_str(),
                    frames_only(x.mapped3, x.counts).c_str(), frames_only(x.zero, x.flags).c_str(),
                    frames_only(x.thp, x.flags).c_str());
    }
    std::printf("read pagemap in %.2f ms%s\n", share_ms,
                hidden ? "; frame numbers are hidden from this user (root sees them): \"same as parent\" and the map counts need them" : "");
}

nlohmann::json sharing_json(const std::vector<Sharing>& sh) {
    nlohmann::json js = nlohmann::json::array();
    for (const Sharing& x : sh) {
        nlohmann::json o = {{"pid", x.pid}, {"ppid", x.ppid}};
        if (!x.problem.empty()) o["problem"] = x.problem;
        else {
            o["present"] = x.present;
            o["alone"] = x.alone;
            o["shared"] = x.shared;
            if (x.pfns) o["same_frame_as_parent"] = x.with_parent;
            if (x.counts) {
                o["mapped_2x"] = x.mapped2;
                o["mapped_3x_or_more"] = x.mapped3;
            }
            if (x.flags) {
                o["zero_page"] = x.zero;
                o["in_thp"] = x.thp;
            }
        }
        js.push_back(o);
    }
    return js;
}

// One round, printed: the processes, and with --shared what they still share. Returns how many were read.
int print_round(const Options& o, const ProcFs& fs, const Round& r, std::map<int, ProcSample>& previous) {
    int ok = 0;
    nlohmann::json jrows = nlohmann::json::array();
    const ProcSample total = print_rows(o.format, r, previous, jrows, ok);
    std::vector<Sharing> sh;
    double share_ms = 0;
    if (o.shared) {
        const auto t_share = std::chrono::steady_clock::now();
        sh = sharing(fs, r.rows, u64{1} << 20);
        share_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t_share).count();
        if (o.format == "table") print_sharing(sh, share_ms);
    }
    if (o.format == "json") {
        nlohmann::json j = {{"t_ms", r.t_ms}, {"sample_ms", r.cost_ms}, {"processes", jrows},
                            {"totals", {{"rss", total.rss}, {"pss", total.pss}, {"uss", total.uss()}, {"private_dirty", total.private_dirty}}}};
        if (o.shared) {
            j["sharing"] = sharing_json(sh);
            j["sharing_ms"] = share_ms;
        }
        std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    }
    std::fflush(stdout);
    return ok;
}

}  // namespace

int live_main(const std::vector<std::string>& a) {
    for (const std::string& x : a)
        if (x == "--ui") return open_ui(a);
    Options o;
    if (int st = parse_options(a, o)) return st;
    std::signal(SIGINT, [](int) { g_stop = 1; });
    std::signal(SIGTERM, [](int) { g_stop = 1; });
    Recorder rec;
    if (!o.record.empty()) {
        std::string command = "cowlab live";
        for (const std::string& x : a) command += " " + x;
        Result<Recorder> opened = Recorder::open(o.record, "live", command);
        if (!opened) {
            std::fprintf(stderr, "cowlab live: %s\n", opened.message().c_str());
            return 1;
        }
        rec = std::move(opened.value());
    }
    const ProcFs fs(o.root);
    const LiveFeed feed(o.targets, o.root);
    std::map<int, ProcSample> previous;
    auto t_prev = std::chrono::steady_clock::now();
    const auto t0 = t_prev;
    bool any_ok = false;
    if (o.format == "csv")
        std::printf("t_ms,pid,ppid,name,rss,pss,uss,shared_clean,shared_dirty,private_clean,private_dirty,anon_huge,vm_pte,min_flt,maj_flt,problem\n");
    for (long n = 0; n < o.count && !g_stop; ++n) {
        if (n) std::this_thread::sleep_for(std::chrono::milliseconds(o.interval_ms));
        Round r;
        r.n = n;
        const std::vector<int> targets = feed.resolve();
        const auto now = std::chrono::steady_clock::now();
        r.t_ms = std::chrono::duration<double, std::milli>(now - t0).count();
        r.dt_s = std::chrono::duration<double>(now - t_prev).count();
        t_prev = now;
        for (int p : targets) r.rows.push_back({p, fs.sample(p)});
        r.cost_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - now).count();
        if (rec.is_open())
            if (Status st = record_round(rec, fs, r, o.pages); !st) {
                std::fprintf(stderr, "cowlab live: %s\n", st.message.c_str());
                return 1;
            }
        any_ok |= print_round(o, fs, r, previous) > 0;
    }
    if (rec.is_open())
        if (Status st = rec.close(); !st) {
            std::fprintf(stderr, "cowlab live: %s\n", st.message.c_str());
            return 1;
        }
    return any_ok ? 0 : 1;
}

}  // namespace cowlab::live
