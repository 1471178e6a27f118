// fork.cpp: `cowlab experiment fork`: the real kernel and the engine,
// side by side, on the same scenario.
//
//   cowlab experiment fork --size 256M --write 10% [--pattern seq|random] [--thp on|off]
//                          [--children N] [--writer child|parent] [--json] [--record FILE]
//
// Real: map and touch a buffer, fork N children, let the writer write the
// chosen pages, then read /proc for the buffer's VMA and the processes.
// Engine: the same operations on a simulated machine. Both are printed with
// their difference. Children are always reaped, also on Ctrl-C.
#include "experiment.h"
#include "report.h"

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>
#include <random>

#include "engine.h"
#include "procfs.h"

namespace cowlab::live {

namespace {

using cow::u64;
using Clock = std::chrono::steady_clock;

int usage() {
    std::fprintf(stderr, "usage: cowlab experiment fork --size SIZE[K|M|G] --write PCT%% [--pattern seq|random] [--thp on|off]\n"
                         "                             [--children N] [--writer child|parent] [--json] [--record FILE]\n");
    return 2;
}

struct Figures {
    u64 child_private_dirty = 0, child_shared_dirty = 0, child_pss = 0, child_rss = 0;
    u64 parent_private_dirty = 0, parent_shared_dirty = 0, parent_pss = 0, parent_rss = 0;
    u64 writer_faults = 0;
    double fork_us = 0, write_ms = 0;
};

struct Params {
    u64 size = 256 * cow::MiB;
    double write_pct = 10;
    bool random = false, thp = false, writer_child = true;
    long children = 1;
};

// The options, or the exit status of a bad one (its message printed).
int parse_options(const std::vector<std::string>& a, Output& out, Params& p) {
    for (size_t i = 1; i < a.size(); ++i) {
        const bool has = i + 1 < a.size();
        if (a[i] == "--size" && has) {
            if (!parse_size(a[++i], p.size) || p.size > 64 * cow::GiB) { std::fprintf(stderr, "cowlab experiment: --size %s: use e.g. 256M (at most 64G)\n", a[i].c_str()); return 2; }
        } else if (a[i] == "--write" && has) {
            std::string v = a[++i];
            if (!v.empty() && v.back() == '%') v.pop_back();
            char* end = nullptr;
            p.write_pct = std::strtod(v.c_str(), &end);
            if (v.empty() || *end || !(p.write_pct >= 0 && p.write_pct <= 100)) { std::fprintf(stderr, "cowlab experiment: --write must be 0%% .. 100%%\n"); return 2; }
        } else if (a[i] == "--pattern" && has) {
            const std::string& v = a[++i];
            if (v != "seq" && v != "random") return usage();
            p.random = v == "random";
        } else if (a[i] == "--thp" && has) {
            const std::string& v = a[++i];
            if (v != "on" && v != "off") return usage();
            p.thp = v == "on";
        } else if (a[i] == "--children" && has) {
            char* end = nullptr;
            p.children = std::strtol(a[++i].c_str(), &end, 10);
            if (*end || p.children < 1 || p.children > 64) { std::fprintf(stderr, "cowlab experiment: --children must be 1 .. 64\n"); return 2; }
        } else if (a[i] == "--writer" && has) {
            const std::string& v = a[++i];
            if (v != "child" && v != "parent") return usage();
            p.writer_child = v == "child";
        } else if (!parse_output(a, i, out)) {
            return usage();
        }
    }
    return 0;
}

// The pages written: the first ones, or a seeded random choice.
std::vector<u64> chosen_pages(const Params& p) {
    const u64 pages = p.size / 4096;
    std::vector<u64> chosen;
    const u64 nwrite = u64(double(pages) * p.write_pct / 100.0 + 0.5);
    if (p.random) {
        std::vector<u64> all(pages);
        for (u64 i = 0; i < pages; ++i) all[i] = i;
        std::mt19937_64 rng(42);
        for (u64 i = 0; i < nwrite; ++i) std::swap(all[i], all[i + rng() % (pages - i)]);
        chosen.assign(all.begin(), all.begin() + long(nwrite));
        std::sort(chosen.begin(), chosen.end());
    } else {
        for (u64 i = 0; i < nwrite; ++i) chosen.push_back(i);
    }

    return chosen;
}

// The real kernel: map and touch a buffer, fork the children, let the writer write the
// chosen pages, read /proc; every process's figures and the buffer's pages go to
// `recorded` when asked.
cow::Result<Figures> measure_real(const Params& p, const std::vector<u64>& chosen, std::vector<std::string>* recorded) {
    Figures real;
    const u64 size = p.size;
    std::vector<pid_t> kids_real;
    auto reap_all = [&] {
        cleanup::run();
        kids_real.clear();
    };
    char* buf = static_cast<char*>(mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (buf == MAP_FAILED) return failure("mmap of " + cow::format_bytes(size) + " failed");
    madvise(buf, size, p.thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    std::memset(buf, 1, size);
    int go[2], done[2], stay[2];   // go: one byte per child; stay: closed when sampling is over
    if (pipe(go) != 0 || pipe(done) != 0 || pipe(stay) != 0) return failure(std::string("pipe failed: ") + std::strerror(errno));
    const auto t_fork = Clock::now();
    for (long c = 0; c < p.children; ++c) {
        const pid_t k = fork();
        if (k < 0) { reap_all(); return failure("fork failed"); }
        if (k == 0) {
            close(go[1]);
            close(done[0]);
            close(stay[1]);
            char x = 0;
            if (read(go[0], &x, 1) != 1) _exit(1);          // write now (the first child, if the writer)
            if (x == 'w')
                for (u64 i : chosen) buf[i * 4096] = 2;
            if (write(done[1], &x, 1) != 1) _exit(1);
            (void)!read(stay[0], &x, 1);                    // stay until sampled
            _exit(0);
        }
        kids_real.push_back(k);
        cleanup::add_pid(k);
    }
    real.fork_us = std::chrono::duration<double, std::micro>(Clock::now() - t_fork).count() / double(p.children);
    ProcFs fs;
    const u64 addr = reinterpret_cast<u64>(buf);
    const pid_t first = kids_real[0];
    Result<ProcSample> child_before = fs.sample(int(first));
    Result<ProcSample> parent_before = fs.sample(int(getpid()));
    const auto t_write = Clock::now();
    for (size_t c = 0; c < kids_real.size(); ++c) {
        const char x = (p.writer_child && c == 0) ? 'w' : 'r';
        if (write(go[1], &x, 1) != 1) { reap_all(); return failure("a child went away"); }
    }
    if (!p.writer_child)
        for (u64 i : chosen) buf[i * 4096] = 2;
    for (size_t c = 0; c < kids_real.size(); ++c) {
        char x = 0;
        if (read(done[0], &x, 1) != 1) { reap_all(); return failure("a child went away"); }
    }
    real.write_ms = std::chrono::duration<double, std::milli>(Clock::now() - t_write).count();
    Result<ProcSample> cv = fs.sample_range(int(first), addr, size), pv = fs.sample_range(int(getpid()), addr, size);
    Result<ProcSample> child_after = fs.sample(int(first)), parent_after = fs.sample(int(getpid()));
    // For a recording: every process's figures and the buffer's pages, as they are now.
    if (recorded) {
        std::vector<std::pair<int, Result<ProcSample>>> rows;
        rows.push_back({int(getpid()), parent_after});
        for (pid_t k : kids_real) rows.push_back({int(k), fs.sample(int(k))});
        const double t_s = std::chrono::duration<double>(Clock::now() - t_fork).count();
        recorded->push_back(cow::rec_line::sample(rec_sample(t_s, rows)));
        for (const auto& [pid, s] : rows)
            if (Result<PageShare> ps = fs.pages(pid, addr, size); ps)
                recorded->push_back(cow::rec_line::pages({t_s, pid, addr, ps->states}));
    }
    close(go[1]);
    close(stay[1]);
    reap_all();
    munmap(buf, size);
    close(go[0]);
    close(done[0]);
    close(done[1]);
    close(stay[0]);
    if (!cv || !pv || !child_after || !parent_after || !child_before || !parent_before) {
        return failure("sampling failed: " + cv.message() + child_after.message());
    }
    real.child_private_dirty = cv->private_dirty;
    real.child_shared_dirty = cv->shared_dirty;
    real.child_pss = cv->pss;
    real.child_rss = cv->rss;
    real.parent_private_dirty = pv->private_dirty;
    real.parent_shared_dirty = pv->shared_dirty;
    real.parent_pss = pv->pss;
    real.parent_rss = pv->rss;
    real.writer_faults = p.writer_child ? child_after->min_flt - child_before->min_flt : parent_after->min_flt - parent_before->min_flt;
    return real;
}

// The engine: the same operations on a simulated machine.
cow::Result<Figures> predict(const Params& p, const std::vector<u64>& chosen) {
    Figures sim;
    const u64 size = p.size;
    cow::MachineConfig cfg;
    cfg.ram_bytes = cow::huge_up(size * 2 + size / 256 + 256 * cow::MiB);
    cfg.overcommit = cow::Overcommit::always;
    cfg.thp = cow::ThpMode::madvise;
    cow::Result<cow::Machine> made = cow::Machine::create(cfg);
    if (!made) return made.status();
    cow::Machine m = std::move(made.value());
    cow::Image im;
    im.name = "experiment";
    im.warm = false;
    cow::Pid parent = *m.spawn(im);
    cow::u64 b = *m.mmap(parent, {.len = size, .name = "buffer"});
    if (p.thp) (void)m.madvise(parent, b, size, cow::Advice::hugepage);
    (void)m.access(parent, b, size, cow::Access::write);
    std::vector<cow::Pid> kids;
    cow::u64 fork_ns = 0;
    for (long c = 0; c < p.children; ++c) {
        cow::Result<cow::ForkResult> f = m.fork(parent);
        if (!f) return failure("engine: " + f.message());
        kids.push_back(f->child);
        fork_ns += f->time_ns;
    }
    sim.fork_us = double(fork_ns) / 1000.0 / double(p.children);
    std::vector<u64> addrs;
    for (u64 i : chosen) addrs.push_back(b + i * 4096);
    const cow::Pid writer = p.writer_child ? kids[0] : parent;
    const cow::u64 flt0 = m.process(writer)->counters.min_flt;
    cow::Result<cow::AccessResult> w = m.access_pages(writer, addrs, cow::Access::write);
    if (!w) return failure("engine: " + w.message());
    sim.write_ms = double(w->time_ns) / 1e6;
    sim.writer_faults = m.process(writer)->counters.min_flt - flt0;
    auto vma = [&](cow::Pid pid) {
        cow::MemStats found;
        cow::Result<std::vector<cow::VmaStats>> all = m.smaps(pid);
        if (all.ok())
            for (const cow::VmaStats& v : all.value())
                if (v.start <= b && v.end > b) found = v.mem;
        return found;
    };
    const cow::MemStats cs = vma(kids[0]), ps = vma(parent);
    sim.child_private_dirty = cs.private_dirty;
    sim.child_shared_dirty = cs.shared_dirty;
    sim.child_pss = cs.pss_kb() * 1024;   // /proc prints Pss in whole kB
    sim.child_rss = cs.rss;
    sim.parent_private_dirty = ps.private_dirty;
    sim.parent_shared_dirty = ps.shared_dirty;
    sim.parent_pss = ps.pss_kb() * 1024;
    sim.parent_rss = ps.rss;
    return sim;
}

// Side by side.
Report report(const Params& p, u64 nwrite, const Figures& real, const Figures& sim) {
    const u64 pages = p.size / 4096;
    Report r;
    r.name = "fork";
    char title[256];
    std::snprintf(title, sizeof title, "fork experiment: %s buffer, %llu of %llu pages written (%s) by the %s, %ld child(ren), THP %s",
                  cow::format_bytes(p.size).c_str(), static_cast<unsigned long long>(nwrite), static_cast<unsigned long long>(pages),
                  p.random ? "random" : "sequential", p.writer_child ? "child" : "parent", p.children, p.thp ? "on" : "off");
    r.title = title;
    r.set_params({{"size", p.size}, {"pages", pages}, {"written", nwrite}, {"pattern", p.random ? "random" : "seq"},
                {"thp", p.thp}, {"children", p.children}, {"writer", p.writer_child ? "child" : "parent"}});
    r.rows = {
        {"child Rss (buffer)", double(real.child_rss), double(sim.child_rss), "B"},
        {"child Pss (buffer)", double(real.child_pss), double(sim.child_pss), "B"},
        {"child Shared_Dirty (buffer)", double(real.child_shared_dirty), double(sim.child_shared_dirty), "B"},
        {"child Private_Dirty (buffer)", double(real.child_private_dirty), double(sim.child_private_dirty), "B"},
        {"parent Pss (buffer)", double(real.parent_pss), double(sim.parent_pss), "B"},
        {"parent Shared_Dirty (buffer)", double(real.parent_shared_dirty), double(sim.parent_shared_dirty), "B"},
        {"parent Private_Dirty (buffer)", double(real.parent_private_dirty), double(sim.parent_private_dirty), "B"},
        {"writer's minor faults", double(real.writer_faults), double(sim.writer_faults), ""},
        {"fork time per child", real.fork_us, sim.fork_us, "us"},
        {"write time", real.write_ms, sim.write_ms, "ms"},
    };
    r.notes.push_back("times: the engine's cost model (engine/kernel/cost.h) was calibrated on the machine named there; `cowlab calibrate` measures this one");
    return r;
}

}  // namespace

int experiment_fork(const std::vector<std::string>& a, Output out) {
    Params p;
    if (int st = parse_options(a, out, p)) return st;
    const std::vector<u64> chosen = chosen_pages(p);
    cleanup::install();
    std::vector<std::string> recorded;
    cow::Result<Figures> real = measure_real(p, chosen, out.record.empty() ? nullptr : &recorded);
    cow::Result<Figures> sim = real ? predict(p, chosen) : real.status();
    if (!sim) {
        std::fprintf(stderr, "cowlab experiment: %s\n", sim.message().c_str());
        return 1;
    }
    return emit(report(p, u64(chosen.size()), *real, *sim), out, recorded);
}

}  // namespace cowlab::live
