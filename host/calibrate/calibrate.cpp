// calibrate.cpp: `cowlab calibrate`: the cost model's constants, measured.
//
// Every measurement is repeated in rounds; a round takes one sample of each
// size, so a burst of load from other processes spoils one round, not one
// size. Work done in this process (fork in the parent, faults, memcpy,
// munmap) is timed on the thread's CPU clock, which does not run while the
// thread waits for a CPU; work in other tasks (a child's exit, exec, a vfork
// child) is timed on the wall clock. A fitted constant is the fit through the
// per-size medians; its spread is the range of the fits of single rounds.
// A directly timed constant is the median; its spread is the min .. max.
//
// In order: the plan (sizes, rounds), one sample of each kind, the engine's
// figures, probing the machine, measuring (a function per series), fitting,
// the constants and the derived figures, printing; calibrate_main strings them.
#include "calibrate.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <optional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cleanup.h"
#include "system.h"

extern char** environ;

namespace cowlab::live {

using cow::u64;

// ---------------------------------------------------------------- fitting

cow::Result<LineFit> fit_line(const std::vector<double>& x, const std::vector<double>& y) {
    if (x.size() != y.size())
        return cow::fail(cow::Errc::invalid_argument, "fit_line: " + std::to_string(x.size()) + " x values but " +
                                                          std::to_string(y.size()) + " y values");
    const size_t n = x.size();
    if (n < 2) return cow::fail(cow::Errc::invalid_argument, "fit_line: a line needs at least 2 points, got " + std::to_string(n));
    for (size_t i = 0; i < n; ++i)
        if (!std::isfinite(x[i]) || !std::isfinite(y[i]))
            return cow::fail(cow::Errc::invalid_argument, "fit_line: point " + std::to_string(i) + " is not a finite number");
    double mx = 0, my = 0;
    for (size_t i = 0; i < n; ++i) {
        mx += x[i];
        my += y[i];
    }
    mx /= double(n);
    my /= double(n);
    double sxx = 0, sxy = 0, syy = 0, scale = 0;
    for (size_t i = 0; i < n; ++i) {
        sxx += (x[i] - mx) * (x[i] - mx);
        sxy += (x[i] - mx) * (y[i] - my);
        syy += (y[i] - my) * (y[i] - my);
        scale = std::max(scale, std::fabs(x[i]));
    }
    if (!(sxx > 1e-18 * scale * scale * double(n)) || sxx == 0)
        return cow::fail(cow::Errc::invalid_argument, "fit_line: every x is the same, so the slope is undefined");
    LineFit f;
    f.n = n;
    f.slope = sxy / sxx;
    f.intercept = my - f.slope * mx;
    double ssr = 0;
    for (size_t i = 0; i < n; ++i) {
        const double r = y[i] - (f.intercept + f.slope * x[i]);
        ssr += r * r;
    }
    f.r2 = syy > 0 ? 1 - ssr / syy : 1;
    return f;
}

cow::Result<Spread> spread_of(std::vector<double> v) {
    if (v.empty()) return cow::fail(cow::Errc::invalid_argument, "spread_of: no measurements");
    for (double d : v)
        if (!std::isfinite(d)) return cow::fail(cow::Errc::invalid_argument, "spread_of: a measurement is not a finite number");
    std::sort(v.begin(), v.end());
    Spread s;
    s.min = v.front();
    s.max = v.back();
    const size_t m = v.size() / 2;
    s.median = v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
    return s;
}

cow::Result<PteCosts> split_pte_costs(double dense_ns_per_pte, double sparse_ns_per_table) {
    if (!std::isfinite(dense_ns_per_pte) || !std::isfinite(sparse_ns_per_table))
        return cow::fail(cow::Errc::invalid_argument, "split_pte_costs: a slope is not a finite number");
    // d = p + t / 512 and s = t + p  =>  p = (512 d - s) / 511, t = s - p.
    PteCosts c;
    c.per_pte_ns = (512 * dense_ns_per_pte - sparse_ns_per_table) / 511;
    c.per_pt_page_ns = sparse_ns_per_table - c.per_pte_ns;
    if (c.per_pte_ns < 0 || c.per_pt_page_ns < 0) {
        char msg[200];
        std::snprintf(msg, sizeof msg,
                      "split_pte_costs: %.3f ns per PTE (dense) and %.1f ns per table (sparse) imply a negative cost; "
                      "the measurements are too noisy",
                      dense_ns_per_pte, sparse_ns_per_table);
        return cow::fail(cow::Errc::invalid_argument, msg);
    }
    return c;
}

namespace {

constexpr u64 kPage = 4096, kHuge = 2 * 1024 * 1024, kMiB = 1024 * 1024;

// ---------------------------------------------------------------- clocks and memory

u64 clock_ns(clockid_t id) {
    timespec ts{};
    clock_gettime(id, &ts);
    return u64(ts.tv_sec) * 1'000'000'000ull + u64(ts.tv_nsec);
}
u64 wall_ns() { return clock_ns(CLOCK_MONOTONIC); }
u64 cpu_ns() { return clock_ns(CLOCK_THREAD_CPUTIME_ID); }

// An anonymous private mapping of len bytes, 2 MiB aligned, with THP asked
// for or refused; nullptr on failure.
char* map_anon(u64 len, bool huge, bool noreserve = false) {
    const int flags = MAP_PRIVATE | MAP_ANONYMOUS | (noreserve ? MAP_NORESERVE : 0);
    void* raw = mmap(nullptr, len + kHuge, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const u64 a = reinterpret_cast<u64>(raw), start = (a + kHuge - 1) & ~(kHuge - 1);
    if (start > a) munmap(raw, start - a);
    if (a + len + kHuge > start + len) munmap(reinterpret_cast<void*>(start + len), a + len + kHuge - (start + len));
    char* p = reinterpret_cast<char*>(start);
    madvise(p, len, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
    return p;
}

// One write per `stride` bytes: a fault per page the first time.
void touch(char* p, u64 len, u64 stride = kPage) {
    volatile char* v = p;
    for (u64 off = 0; off < len; off += stride) v[off] = 1;
}

// Whether a read of untouched private anonymous memory maps the shared zero page
// (mainline's do_anonymous_page) or allocates a page per read: read 4 MiB and
// see whether RssAnon grew (engine: MachineConfig::zero_page).
bool reads_map_zero_page(long long* grew_kb) {
    const u64 len = 4 * cow::MiB;
    char* p = map_anon(len, false);
    if (!p) return true;
    const long long before = proc_kb(read_file("/proc/self/status"), "RssAnon");
    volatile const char* v = p;
    int sum = 0;
    for (u64 off = 0; off < len; off += kPage) sum += v[off];
    const long long after = proc_kb(read_file("/proc/self/status"), "RssAnon");
    munmap(p, len);
    *grew_kb = after - before + sum;   // sum is 0: it keeps the reads
    return *grew_kb < static_cast<long long>(len / 1024 / 2);
}

size_t count_lines(const std::string& s) { return size_t(std::count(s.begin(), s.end(), '\n')); }

// ---------------------------------------------------------------- one sample of each kind

struct ForkSample {
    double fork_ns = 0;   // fork() in the parent, CPU time
    double reap_ns = 0;   // fork's return to waitpid's return (the child exits at once), wall time
};

bool fork_once(ForkSample& s) {
    const u64 c0 = cpu_ns();
    const pid_t p = fork();
    if (p == 0) _exit(0);
    const u64 c1 = cpu_ns(), w1 = wall_ns();
    if (p < 0) return false;
    int st = 0;
    if (waitpid(p, &st, 0) != p) return false;
    s.fork_ns = double(c1 - c0);
    s.reap_ns = double(wall_ns() - w1);
    return true;
}

// Writes one byte per page of buf[0, len) in a child (child_writes) or in the
// parent while a child shares the pages; the writer's CPU time per page.
bool cow_once(char* buf, u64 len, bool child_writes, double& ns_per_page) {
    int res[2], go[2];
    if (pipe(res) != 0) return false;
    if (pipe(go) != 0) {
        close(res[0]);
        close(res[1]);
        return false;
    }
    const pid_t p = fork();
    if (p == 0) {
        close(res[0]);
        close(go[1]);
        if (child_writes) {
            const u64 c0 = cpu_ns();
            touch(buf, len);
            const u64 dt = cpu_ns() - c0;
            if (write(res[1], &dt, sizeof dt) != ssize_t(sizeof dt)) _exit(1);
        } else {
            char x;
            (void)!read(go[0], &x, 1);   // keep sharing the pages until the parent is done
        }
        _exit(0);
    }
    close(res[1]);
    close(go[0]);
    bool ok = p > 0;
    if (ok) cleanup::add_pid(p);
    u64 dt = 0;
    if (ok && child_writes) {
        ok = read(res[0], &dt, sizeof dt) == ssize_t(sizeof dt);
    } else if (ok) {
        const u64 c0 = cpu_ns();
        touch(buf, len);
        dt = cpu_ns() - c0;
    }
    close(go[1]);   // releases a waiting child
    close(res[0]);
    if (p > 0) {
        int st = 0;
        ok = waitpid(p, &st, 0) == p && ok && WIFEXITED(st) && WEXITSTATUS(st) == 0;
        cleanup::forget_pid(p);
    }
    ns_per_page = double(dt) / double(len / kPage);
    return ok;
}

// The process-creation paths, on the wall clock unless said otherwise.
struct SpawnSample {
    double fork_cpu = 0;     // the fork() call alone (this process), CPU time
    double fork_exit = 0;    // fork; the child _exits; to the reap
    double fork_exec = 0;    // fork; the child execs the program, which exits; to the reap
    double exec_faults = 0;  // page faults of that child beyond those of a child that _exits
    double vfork_call = 0;   // vfork() to the parent's return; the child _exits at once
    double vfork_exec = 0;   // vfork; the child execs the program; to the reap
    double spawn_call = 0;   // posix_spawn() to its return (the child has exec'd)
    double spawn = 0;        // posix_spawn of the program; to the reap
};

// vfork's child may only call _exit or execve: kept in functions of their own.
pid_t vfork_exec(const char* path, char* const argv[]) {
    const pid_t p = vfork();
    if (p == 0) {
        execve(path, argv, environ);
        _exit(127);
    }
    return p;
}
pid_t vfork_exit() {
    const pid_t p = vfork();
    if (p == 0) _exit(0);
    return p;
}

// Reaps p; its minor faults go to *minflt when asked for.
bool reaped_ok(pid_t p, double* minflt = nullptr) {
    int st = 0;
    rusage ru{};
    if (p <= 0 || wait4(p, &st, 0, &ru) != p || !WIFEXITED(st) || WEXITSTATUS(st) != 0) return false;
    if (minflt) *minflt = double(ru.ru_minflt);
    return true;
}

bool spawn_once(const char* path, SpawnSample& s) {
    char arg0[] = "true";
    char* argv[] = {arg0, nullptr};
    double flt_exit = 0, flt_exec = 0;
    u64 t0 = wall_ns();
    const u64 c0 = cpu_ns();
    pid_t p = fork();
    if (p == 0) _exit(0);
    s.fork_cpu = double(cpu_ns() - c0);
    if (!reaped_ok(p, &flt_exit)) return false;
    s.fork_exit = double(wall_ns() - t0);

    t0 = wall_ns();
    p = fork();
    if (p == 0) {
        execve(path, argv, environ);
        _exit(127);
    }
    if (!reaped_ok(p, &flt_exec)) return false;
    s.fork_exec = double(wall_ns() - t0);
    s.exec_faults = flt_exec - flt_exit;

    t0 = wall_ns();
    p = vfork_exit();
    s.vfork_call = double(wall_ns() - t0);
    if (!reaped_ok(p)) return false;

    t0 = wall_ns();
    if (!reaped_ok(vfork_exec(path, argv))) return false;
    s.vfork_exec = double(wall_ns() - t0);

    t0 = wall_ns();
    if (posix_spawn(&p, path, nullptr, nullptr, argv, environ) != 0) return false;
    s.spawn_call = double(wall_ns() - t0);
    if (!reaped_ok(p)) return false;
    s.spawn = double(wall_ns() - t0);
    return true;
}

// ---------------------------------------------------------------- the plan

struct Plan {
    bool quick = false;
    std::vector<u64> dense_bytes;    // fork series: touched 4 KiB pages
    std::vector<u64> sparse_tables;  // fork series: one page per 2 MiB
    std::vector<u64> vma_counts;     // fork series: one-page VMAs
    u64 cow_bytes = 0, bw_bytes = 0;
    int rounds = 0, fault_reps = 0, spawn_reps = 0;
};

Plan make_plan(bool quick) {
    Plan p;
    p.quick = quick;
    if (quick) {
        p.dense_bytes = {16 * kMiB, 32 * kMiB, 64 * kMiB, 128 * kMiB};
        p.sparse_tables = {256, 512, 1024, 2048};
        p.vma_counts = {250, 500, 1000, 2000};
        p.cow_bytes = 32 * kMiB;
        p.bw_bytes = 16 * kMiB;
        p.rounds = 3;
        p.fault_reps = 3;
        p.spawn_reps = 11;
    } else {
        p.dense_bytes = {64 * kMiB, 128 * kMiB, 256 * kMiB, 512 * kMiB, 1024 * kMiB};
        p.sparse_tables = {1024, 2048, 4096, 8192};
        p.vma_counts = {1000, 2000, 4000, 8000};
        p.cow_bytes = 256 * kMiB;
        p.bw_bytes = 64 * kMiB;
        p.rounds = 7;
        p.fault_reps = 7;
        p.spawn_reps = 31;
    }
    return p;
}

// The most memory held at once: the largest fork buffer (its child writes
// nothing), or both copies of the COW buffer.
u64 peak_bytes(const Plan& p) {
    return std::max({p.dense_bytes.back() + kHuge, 2 * p.cow_bytes, 2 * p.bw_bytes,
                     p.sparse_tables.back() * 2 * kPage});
}

// ---------------------------------------------------------------- results

struct Constant {
    std::string name, unit, method;
    double value = 0, lo = 0, hi = 0, old_default = 0;
};

struct Derived {
    std::string name, unit;
    double value = 0, lo = 0, hi = 0;
    double engine_old = 0, engine_new = 0;
    bool measured = true;   // false: not available on this machine (THP off)
};

// Series over sizes and rounds: y[round][size].
struct SeriesData {
    std::vector<double> x;
    std::vector<std::vector<double>> y;
};

// Fit through the per-size medians; spread: the slopes/intercepts of each round's fit.
struct FitResult {
    LineFit fit;
    Spread slope, intercept;
};

cow::Result<FitResult> fit_series(const SeriesData& s, const char* what) {
    std::vector<double> med;
    for (size_t i = 0; i < s.x.size(); ++i) {
        std::vector<double> col;
        for (const auto& round : s.y) col.push_back(round[i]);
        cow::Result<Spread> sp = spread_of(col);
        if (!sp) return cow::fail(sp.code(), std::string(what) + ": " + sp.message());
        med.push_back(sp->median);
    }
    cow::Result<LineFit> f = fit_line(s.x, med);
    if (!f) return cow::fail(f.code(), std::string(what) + ": " + f.message());
    std::vector<double> slopes, intercepts;
    for (const auto& round : s.y) {
        cow::Result<LineFit> r = fit_line(s.x, round);
        if (!r) return cow::fail(r.code(), std::string(what) + ": " + r.message());
        slopes.push_back(r->slope);
        intercepts.push_back(r->intercept);
    }
    FitResult out;
    out.fit = *f;
    out.slope = *spread_of(slopes);
    out.intercept = *spread_of(intercepts);
    return out;
}

// ---------------------------------------------------------------- the engine's figures

struct EngineFigures {
    double fork_gib_4k_ms = 0, fork_gib_thp_ms = 0;
    double cow_child_us = 0, cow_parent_us = 0, zero_fill_us = 0, thp_fill_us = 0;
    double vfork_exec_us = 0, spawn_us = 0, fork_exec_us = 0;
};

// A machine with one bare process, on the cost model k.
using Fresh = std::pair<cow::Machine, cow::Pid>;
cow::Result<Fresh> fresh_machine(const cow::CostModel& k) {
    cow::MachineConfig cfg;
    cfg.ram_bytes = 4 * cow::GiB;
    cfg.overcommit = cow::Overcommit::always;
    cfg.thp = cow::ThpMode::madvise;
    cfg.event_capacity = 1024;
    cfg.cost = k;
    cow::Image bare;
    bare.name = "calibrate";
    bare.warm = false;
    cow::Result<cow::Machine> m = cow::Machine::create(cfg);
    if (!m) return m.status();
    cow::Result<cow::Pid> p = m->spawn(bare);
    if (!p) return p.status();
    return Fresh(std::move(m.value()), *p);
}

// Fork per GiB of 4 KiB pages and of huge pages.
cow::Status engine_forks(const cow::CostModel& k, EngineFigures& e) {
    auto fresh = [&] { return fresh_machine(k); };
    auto fork_of = [&](u64 bytes, bool huge, double& ns) -> cow::Status {
        auto mp = fresh();
        if (!mp) return mp.status();
        auto& [m, parent] = mp.value();
        if (bytes) {
            cow::Result<u64> b = m.mmap(parent, {.len = bytes, .name = "buffer"});
            if (!b) return b.status();
            if (cow::Status st = m.madvise(parent, *b, bytes, huge ? cow::Advice::hugepage : cow::Advice::nohugepage); !st) return st;
            if (cow::Result<cow::AccessResult> w = m.access(parent, *b, bytes, cow::Access::write); !w) return w.status();
        }
        cow::Result<cow::ForkResult> f = m.fork(parent);
        if (!f) return f.status();
        ns = double(f->time_ns);
        return {};
    };
    double empty = 0, full = 0;
    if (cow::Status st = fork_of(0, false, empty); !st) return st;
    if (cow::Status st = fork_of(cow::GiB, false, full); !st) return st;
    e.fork_gib_4k_ms = (full - empty) / 1e6;
    if (cow::Status st = fork_of(cow::GiB, true, full); !st) return st;
    e.fork_gib_thp_ms = (full - empty) / 1e6;
    return {};
}

cow::Status engine_faults(const cow::CostModel& k, EngineFigures& e) {
    auto fresh = [&] { return fresh_machine(k); };
    // Faults: 16 MiB of 4 KiB pages written first, then after a fork by the child or the parent.
    const u64 n = 16 * cow::MiB, pages = n / kPage;
    for (int who = 0; who < 2; ++who) {
        auto mp = fresh();
        if (!mp) return mp.status();
        auto& [m, parent] = mp.value();
        cow::Result<u64> b = m.mmap(parent, {.len = n, .name = "buffer"});
        if (!b) return b.status();
        (void)m.madvise(parent, *b, n, cow::Advice::nohugepage);
        cow::Result<cow::AccessResult> z = m.access(parent, *b, n, cow::Access::write);
        if (!z) return z.status();
        e.zero_fill_us = double(z->time_ns) / double(pages) / 1e3;
        cow::Result<cow::ForkResult> f = m.fork(parent);
        if (!f) return f.status();
        cow::Result<cow::AccessResult> w = m.access(who == 0 ? f->child : parent, *b, n, cow::Access::write);
        if (!w) return w.status();
        (who == 0 ? e.cow_child_us : e.cow_parent_us) = double(w->time_ns) / double(pages) / 1e3;
    }
    {
        auto mp = fresh();
        if (!mp) return mp.status();
        auto& [m, parent] = mp.value();
        cow::Result<u64> b = m.mmap(parent, {.len = n, .name = "buffer"});
        if (!b) return b.status();
        (void)m.madvise(parent, *b, n, cow::Advice::hugepage);
        cow::Result<cow::AccessResult> z = m.access(parent, *b, n, cow::Access::write);
        if (!z) return z.status();
        e.thp_fill_us = double(z->time_ns) / double(n / kHuge) / 1e3;
    }
    return {};
}

cow::Status engine_spawns(const cow::CostModel& k, EngineFigures& e) {
    auto fresh = [&] { return fresh_machine(k); };
    // Process creation to the child's reap, with the program's pages already cached.
    {
        auto mp = fresh();
        if (!mp) return mp.status();
        auto& [m, parent] = mp.value();
        const cow::Image prog = cow::default_image("true");
        auto run = [&](int how, double& us) -> cow::Status {
            const u64 t0 = m.now_ns();
            cow::Pid child = cow::kNoPid;
            if (how == 0) {
                cow::Result<cow::ForkResult> f = m.fork(parent);
                if (!f) return f.status();
                child = f->child;
                if (cow::Status st = m.exec(child, prog); !st) return st;
            } else if (how == 1) {
                cow::Result<cow::ForkResult> f = m.vfork(parent);
                if (!f) return f.status();
                child = f->child;
                if (cow::Status st = m.exec(child, prog); !st) return st;
            } else {
                cow::Result<cow::ForkResult> f = m.posix_spawn(parent, prog);
                if (!f) return f.status();
                child = f->child;
            }
            if (cow::Status st = m.exit(child, 0); !st) return st;
            if (cow::Result<cow::WaitResult> w = m.wait(parent, child); !w) return w.status();
            us = double(m.now_ns() - t0) / 1e3;
            return {};
        };
        double warmup = 0;
        if (cow::Status st = run(2, warmup); !st) return st;   // fills the page cache
        if (cow::Status st = run(0, e.fork_exec_us); !st) return st;
        if (cow::Status st = run(1, e.vfork_exec_us); !st) return st;
        if (cow::Status st = run(2, e.spawn_us); !st) return st;
    }
    return {};
}

// The same scenarios on the engine with the cost model k.
cow::Result<EngineFigures> engine_figures(const cow::CostModel& k) {
    EngineFigures e;
    for (auto* part : {engine_forks, engine_faults, engine_spawns})
        if (cow::Status st = part(k, e); !st) return st;
    return e;
}

// ---------------------------------------------------------------- output

std::string num(double v) {
    char b[32];
    const double a = std::fabs(v);
    if (a >= 1000) std::snprintf(b, sizeof b, "%.0f", v);
    else if (a >= 100) std::snprintf(b, sizeof b, "%.1f", v);
    else if (a >= 1) std::snprintf(b, sizeof b, "%.2f", v);
    else std::snprintf(b, sizeof b, "%.3f", v);
    return b;
}

int usage() {
    std::fprintf(stderr, "usage: cowlab calibrate [--json] [--quick]\n"
                         "  measures the cost model's constants (engine/kernel/cost.h) on this machine;\n"
                         "  --quick: smaller sizes and fewer repetitions (about 128 MiB of memory)\n");
    return 2;
}

// ---------------------------------------------------------------- the machine, before measuring

struct MachineInfo {
    utsname un{};
    long cpus = 0;
    long long avail_kb = 0;
    const char* prog = nullptr;         // a small program to exec: /bin/true
    std::string thp_mode = "unavailable";
    bool thp = false, zero_page = true;
    long long zero_grew_kb = 0;
    double own_vmas = 0, own_anon_pages = 0;   // this process's own share of every fork
};

// What this machine is, and whether the plan fits in its memory and map count.
cow::Result<MachineInfo> probe_machine(const Plan& plan) {
    MachineInfo m;
    uname(&m.un);
    m.cpus = sysconf(_SC_NPROCESSORS_ONLN);
    m.avail_kb = proc_kb(read_file("/proc/meminfo"), "MemAvailable");
    if (m.avail_kb < 0) return failure("/proc/meminfo has no MemAvailable line");
    const u64 need = peak_bytes(plan) + peak_bytes(plan) / 4 + 64 * kMiB;
    if (u64(m.avail_kb) * 1024 < need)
        return failure("needs about " + cow::format_bytes(need) + " of memory, " + cow::format_bytes(u64(m.avail_kb) * 1024) +
                       " is available" + (plan.quick ? "" : "; --quick needs less"));
    const long long max_maps = std::atoll(read_file("/proc/sys/vm/max_map_count").c_str());
    const size_t own_maps = count_lines(read_file("/proc/self/maps"));
    if (max_maps > 0 && u64(max_maps) < plan.vma_counts.back() + own_maps + 64)
        return failure("vm.max_map_count is " + std::to_string(max_maps) + "; the VMA series needs " +
                       std::to_string(plan.vma_counts.back() + 64) + " more than this process has" + (plan.quick ? "" : "; try --quick"));
    m.prog = access("/bin/true", X_OK) == 0 ? "/bin/true" : access("/usr/bin/true", X_OK) == 0 ? "/usr/bin/true" : nullptr;
    if (!m.prog) return failure("neither /bin/true nor /usr/bin/true can be run; exec and spawn need one");
    const std::string t = read_file("/sys/kernel/mm/transparent_hugepage/enabled");
    const size_t a = t.find('['), b = t.find(']');
    if (a != std::string::npos && b != std::string::npos && b > a) m.thp_mode = t.substr(a + 1, b - a - 1);
    m.thp = m.thp_mode == "always" || m.thp_mode == "madvise";
    m.zero_page = reads_map_zero_page(&m.zero_grew_kb);
    m.own_vmas = double(own_maps);
    m.own_anon_pages = double(std::max(0ll, proc_kb(read_file("/proc/self/status"), "RssAnon"))) / 4;
    return m;
}

// ---------------------------------------------------------------- measuring

struct Measured {
    SeriesData fork_dense, reap_dense, fill_dense, unmap_dense;   // over dense 4 KiB buffer sizes
    SeriesData fork_sparse, fork_vmas;                            // over page tables, over VMAs
    SeriesData fork_thp, fill_thp;                                // THP, when available
    std::vector<double> cow_child, cow_parent, copy_bw, zero_bw;
    std::vector<SpawnSample> spawns;
};

// Fork, zero fill and munmap over dense buffer sizes.
cow::Status measure_dense(const Plan& plan, Measured& m) {
    for (u64 b : plan.dense_bytes)
        for (SeriesData* s : {&m.fork_dense, &m.reap_dense, &m.fill_dense, &m.unmap_dense}) s->x.push_back(double(b / kPage));
    for (int r = 0; r < plan.rounds; ++r) {
        std::vector<double> fy, ry, zy, uy;
        for (u64 b : plan.dense_bytes) {
            char* buf = map_anon(b, false);
            if (!buf) return failure("mmap of " + cow::format_bytes(b) + " failed");
            u64 c0 = cpu_ns();
            touch(buf, b);
            zy.push_back(double(cpu_ns() - c0));
            ForkSample s;
            if (!fork_once(s)) return failure("fork failed: " + std::string(std::strerror(errno)));
            fy.push_back(s.fork_ns);
            ry.push_back(s.reap_ns);
            c0 = cpu_ns();
            munmap(buf, b);
            uy.push_back(double(cpu_ns() - c0));
        }
        m.fork_dense.y.push_back(fy);
        m.reap_dense.y.push_back(ry);
        m.fill_dense.y.push_back(zy);
        m.unmap_dense.y.push_back(uy);
    }
    return {};
}

// Rounds of forks over xs: for each x, `map` builds and touches the buffer (or says why it
// could not), a fork is timed, the buffer goes.
template <class Map>
cow::Status fork_series(const Plan& plan, const std::vector<u64>& xs, Map&& map, SeriesData& out) {
    for (u64 x : xs) out.x.push_back(double(x));
    for (int r = 0; r < plan.rounds; ++r) {
        std::vector<double> y;
        for (u64 x : xs) {
            u64 len = 0;
            std::string why;
            char* buf = map(x, len, why);
            if (!buf) return failure(why);
            ForkSample s;
            const bool forked = fork_once(s);
            const int e = errno;
            munmap(buf, len);
            if (!forked) return failure("fork failed: " + std::string(std::strerror(e)));
            y.push_back(s.fork_ns);
        }
        out.y.push_back(y);
    }
    return {};
}

// One page per 2 MiB (one PTE per table).
cow::Status measure_sparse(const Plan& plan, Measured& m) {
    return fork_series(plan, plan.sparse_tables, [](u64 t, u64& len, std::string& why) -> char* {
        len = t * kHuge;
        char* buf = map_anon(len, false, true);
        if (!buf) why = "mmap of " + cow::format_bytes(len) + " (MAP_NORESERVE) failed";
        else touch(buf, len, kHuge);
        return buf;
    }, m.fork_sparse);
}

cow::Status measure_vmas(const Plan& plan, Measured& m) {
    return fork_series(plan, plan.vma_counts, [](u64 v, u64& len, std::string& why) -> char* {
        len = v * kPage;
        char* buf = map_anon(len, false);
        if (!buf) {
            why = "mmap of " + cow::format_bytes(len) + " failed";
            return nullptr;
        }
        touch(buf, len);
        // Every other page read-only: v VMAs that cannot merge, each with its anon_vma.
        for (u64 i = 1; i < v; i += 2)
            if (mprotect(buf + i * kPage, kPage, PROT_READ) != 0) {
                why = "mprotect failed while splitting VMAs: " + std::string(std::strerror(errno));
                munmap(buf, len);
                return nullptr;
            }
        return buf;
    }, m.fork_vmas);
}

// Fork and huge zero fill with MADV_HUGEPAGE; a note when the buffers were not all huge.
cow::Status measure_thp(const Plan& plan, Measured& m, std::vector<std::string>& notes) {
    double thp_fraction = 1;
    for (u64 b : plan.dense_bytes) {
        m.fork_thp.x.push_back(double(b) / double(cow::GiB));
        m.fill_thp.x.push_back(double(b / kHuge));
    }
    for (int r = 0; r < plan.rounds; ++r) {
        std::vector<double> fy, zy;
        for (u64 b : plan.dense_bytes) {
            char* buf = map_anon(b, true);
            if (!buf) return failure("mmap of " + cow::format_bytes(b) + " failed");
            const u64 c0 = cpu_ns();
            touch(buf, b);
            zy.push_back(double(cpu_ns() - c0));
            if (b == plan.dense_bytes.back()) {
                const long long huge_kb = proc_kb(read_file("/proc/self/smaps_rollup"), "AnonHugePages");
                thp_fraction = std::min(thp_fraction, double(std::max(0ll, huge_kb)) * 1024 / double(b));
            }
            ForkSample s;
            if (!fork_once(s)) return failure("fork failed: " + std::string(std::strerror(errno)));
            fy.push_back(s.fork_ns);
            munmap(buf, b);
        }
        m.fork_thp.y.push_back(fy);
        m.fill_thp.y.push_back(zy);
    }
    if (thp_fraction < 0.9) {
        char n[200];
        std::snprintf(n, sizeof n, "THP: only %.0f%% of the largest buffer was backed by huge pages (memory fragmented?)",
                      100 * thp_fraction);
        notes.push_back(n);
    }
    return {};
}

// COW faults: the child writes, then the parent writes while a child shares the pages.
cow::Status measure_cow(const Plan& plan, Measured& m) {
    char* buf = map_anon(plan.cow_bytes, false);
    if (!buf) return failure("mmap of " + cow::format_bytes(plan.cow_bytes) + " failed");
    touch(buf, plan.cow_bytes);
    for (int r = 0; r < plan.fault_reps; ++r) {
        double c = 0, p = 0;
        if (!cow_once(buf, plan.cow_bytes, true, c) || !cow_once(buf, plan.cow_bytes, false, p)) {
            munmap(buf, plan.cow_bytes);
            return failure("a COW measurement's child failed");
        }
        m.cow_child.push_back(c);
        m.cow_parent.push_back(p);
    }
    munmap(buf, plan.cow_bytes);
    return {};
}

// memcpy and memset of 4 KiB pages over a buffer larger than the caches.
cow::Status measure_bandwidth(const Plan& plan, Measured& m) {
    char* src = map_anon(plan.bw_bytes, false);
    char* dst = map_anon(plan.bw_bytes, false);
    if (!src || !dst) return failure("mmap for the bandwidth buffers failed");
    std::memset(src, 7, plan.bw_bytes);
    std::memset(dst, 0, plan.bw_bytes);
    for (int r = 0; r < plan.fault_reps; ++r) {
        u64 c0 = cpu_ns();
        for (u64 off = 0; off < plan.bw_bytes; off += kPage) std::memcpy(dst + off, src + off, kPage);
        m.copy_bw.push_back(double(plan.bw_bytes) / double(cpu_ns() - c0));
        c0 = cpu_ns();
        for (u64 off = 0; off < plan.bw_bytes; off += kPage) std::memset(dst + off, int(r), kPage);
        m.zero_bw.push_back(double(plan.bw_bytes) / double(cpu_ns() - c0));
    }
    volatile char sink = dst[plan.bw_bytes - 1];
    (void)sink;
    munmap(src, plan.bw_bytes);
    munmap(dst, plan.bw_bytes);
    return {};
}

// Everything, in order; `progress` says what is being measured.
cow::Result<Measured> measure(const Plan& plan, const MachineInfo& mi, const std::function<void(const char*)>& progress,
                              std::vector<std::string>& notes) {
    Measured m;
    progress("fork, zero-fill faults and munmap over buffer sizes");
    if (cow::Status st = measure_dense(plan, m); !st) return st;
    progress("fork over page-table counts (one page per 2 MiB)");
    if (cow::Status st = measure_sparse(plan, m); !st) return st;
    progress("fork over VMA counts");
    if (cow::Status st = measure_vmas(plan, m); !st) return st;
    if (mi.thp) {
        progress("fork and zero fill with transparent huge pages (MADV_HUGEPAGE)");
        if (cow::Status st = measure_thp(plan, m, notes); !st) return st;
    } else {
        notes.push_back("THP unavailable (/sys/kernel/mm/transparent_hugepage/enabled: " + mi.thp_mode + "): THP rows are not measured");
    }
    progress("COW faults (child writes, parent writes)");
    if (cow::Status st = measure_cow(plan, m); !st) return st;
    progress("memcpy and memset bandwidth");
    if (cow::Status st = measure_bandwidth(plan, m); !st) return st;
    progress("fork, vfork, posix_spawn and exec of a small program");
    for (int r = 0; r < plan.spawn_reps; ++r) {
        SpawnSample s;
        if (!spawn_once(mi.prog, s)) return failure(std::string("running ") + mi.prog + " failed");
        m.spawns.push_back(s);
    }
    return m;
}

// ---------------------------------------------------------------- fitting the measurements

struct Fits {
    FitResult dense, sparse, vmas, reap, fill, unmap;
    std::optional<FitResult> thp, thp_fill;      // when THP is available
    double per_pte = 0, per_table = 0, per_vma = 0;
    std::vector<double> pte_r, table_r, vma_r;  // the split, per round
    Spread cow_c, cow_p, bw_c, bw_z, trap;
    Spread sp_fork, sp_fx, sp_fe, sp_ve, sp_ps, sp_vc, sp_sc, sp_flt, sp_exit, sp_exec;
    double exec_ns = 0, fork_base = 0, own_share = 0;
};

// The fork series' fits and the split of their slopes into per-PTE, per-table and per-VMA costs.
cow::Status fit_forks(const Measured& m, const MachineInfo& mi, Fits& f) {
    const std::pair<const SeriesData*, FitResult*> series[] = {{&m.fork_dense, &f.dense}, {&m.fork_sparse, &f.sparse},
        {&m.fork_vmas, &f.vmas}, {&m.reap_dense, &f.reap}, {&m.fill_dense, &f.fill}, {&m.unmap_dense, &f.unmap}};
    const char* what[] = {"fork over sizes", "fork over page tables", "fork over VMAs", "exit over sizes", "zero fill over sizes",
                          "munmap over sizes"};
    for (size_t i = 0; i < std::size(series); ++i) {
        cow::Result<FitResult> r = fit_series(*series[i].first, what[i]);
        if (!r) return r.status();
        *series[i].second = *r;
    }
    if (mi.thp) {
        cow::Result<FitResult> ft = fit_series(m.fork_thp, "THP fork over sizes"), fh = fit_series(m.fill_thp, "THP zero fill over sizes");
        if (!ft || !fh) return ft ? fh.status() : ft.status();
        f.thp = *ft;
        f.thp_fill = *fh;
    }
    cow::Result<PteCosts> pc = split_pte_costs(f.dense.fit.slope, f.sparse.fit.slope);
    if (!pc) return pc.status();
    // Per-round spreads of the split, pairing round i of each series.
    auto round_fit = [](const SeriesData& s, size_t r) { return *fit_line(s.x, s.y[r]); };
    for (size_t r = 0; r < m.fork_dense.y.size(); ++r) {
        const LineFit d = round_fit(m.fork_dense, r), sp = round_fit(m.fork_sparse, r), v = round_fit(m.fork_vmas, r);
        const double p = (512 * d.slope - sp.slope) / 511, t = sp.slope - p;
        f.pte_r.push_back(p);
        f.table_r.push_back(t);
        f.vma_r.push_back(v.slope - p - t / 512);
    }
    f.per_pte = pc->per_pte_ns;
    f.per_table = pc->per_pt_page_ns;
    // A VMA of the series: the VMA itself, one PTE, 1/512 of a table.
    f.per_vma = f.vmas.fit.slope - f.per_pte - f.per_table / 512;
    return {};
}

// Faults, bandwidth and process creation: spreads of direct timings.
void fit_direct(const Measured& m, const MachineInfo& mi, Fits& f) {
    f.cow_c = *spread_of(m.cow_child);
    f.cow_p = *spread_of(m.cow_parent);
    f.bw_c = *spread_of(m.copy_bw);
    f.bw_z = *spread_of(m.zero_bw);
    std::vector<double> trap_r;
    for (size_t i = 0; i < m.cow_child.size(); ++i) trap_r.push_back(m.cow_child[i] - double(kPage) / m.copy_bw[i]);
    f.trap = *spread_of(trap_r);
    // Wall-clock times: noise only adds, so the value is the minimum.
    auto col = [&](double SpawnSample::*field) {
        std::vector<double> v;
        for (const SpawnSample& x : m.spawns) v.push_back(x.*field);
        return *spread_of(v);
    };
    f.sp_fork = col(&SpawnSample::fork_cpu);
    f.sp_fx = col(&SpawnSample::fork_exit);
    f.sp_fe = col(&SpawnSample::fork_exec);
    f.sp_ve = col(&SpawnSample::vfork_exec);
    f.sp_ps = col(&SpawnSample::spawn);
    f.sp_vc = col(&SpawnSample::vfork_call);
    f.sp_sc = col(&SpawnSample::spawn_call);
    f.sp_flt = col(&SpawnSample::exec_faults);
    // exit: a child that exits at once, from fork's return to the reap.
    std::vector<double> v_exit, v_exec;
    for (const SpawnSample& x : m.spawns) v_exit.push_back(x.fork_exit - x.fork_cpu);
    f.sp_exit = *spread_of(v_exit);
    // exec: what fork+exec+exit costs beyond fork+exit, less the program's own
    // page faults (the engine charges those as faults) at the zero-fill fault's cost.
    const double fault_ns = f.fill.fit.slope;
    // The value compares the two routes' minima (the minimum of a difference of
    // two noisy times would pick the noise); the spread is per repetition.
    for (const SpawnSample& x : m.spawns) v_exec.push_back(x.fork_exec - x.fork_exit - x.exec_faults * fault_ns);
    f.sp_exec = *spread_of(v_exec);
    f.exec_ns = f.sp_fe.min - f.sp_fx.min - f.sp_flt.median * fault_ns;
    // fork_base: a fork of this process as it is now (no buffers), less its VMAs and pages.
    f.own_share = mi.own_vmas * f.per_vma + mi.own_anon_pages * (f.per_pte + f.per_table / 512);
    f.fork_base = f.sp_fork.median - f.own_share;
}

cow::Result<Fits> fit(const Measured& m, const MachineInfo& mi) {
    Fits f;
    if (cow::Status st = fit_forks(m, mi, f); !st) return st;
    fit_direct(m, mi, f);
    return f;
}

constexpr double kHugePerGiB = double(cow::GiB / kHuge);

double min_of(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }
double max_of(const std::vector<double>& v) { return *std::max_element(v.begin(), v.end()); }

// The cost model's constants, each beside its default.
std::vector<Constant> constants(const Fits& f, const MachineInfo& mi) {
    const cow::CostModel old{};
    std::vector<Constant> consts = {
        {"fork_base_ns", "ns", "fork of this process (no buffers, CPU), less its VMAs and pages",
         f.fork_base, f.sp_fork.min - f.own_share, f.sp_fork.max - f.own_share, old.fork_base_ns},
        {"per_vma_ns", "ns", "slope of fork time over one-page VMAs, less a PTE and 1/512 table",
         f.per_vma, min_of(f.vma_r), max_of(f.vma_r), old.per_vma_ns},
        {"per_pt_page_ns", "ns", "slopes over sizes (512 PTEs per table) and over tables (1 PTE each)",
         f.per_table, min_of(f.table_r), max_of(f.table_r), old.per_pt_page_ns},
        {"per_pte_ns", "ns", "slopes over sizes (512 PTEs per table) and over tables (1 PTE each)",
         f.per_pte, min_of(f.pte_r), max_of(f.pte_r), old.per_pte_ns},
        {"fault_trap_ns", "ns", "COW fault (child writes) less 4 KiB / copy bandwidth",
         f.cow_c.median - double(kPage) / f.bw_c.median, f.trap.min, f.trap.max, old.fault_trap_ns},
        {"copy_bytes_per_ns", "B/ns", "memcpy of 4 KiB pages over a buffer larger than the caches",
         f.bw_c.median, f.bw_c.min, f.bw_c.max, old.copy_bytes_per_ns},
        {"zero_bytes_per_ns", "B/ns", "memset of 4 KiB pages over the same buffer",
         f.bw_z.median, f.bw_z.min, f.bw_z.max, old.zero_bytes_per_ns},
        {"exec_ns", "ns", "min fork+exec+exit of " + std::string(mi.prog) + " less min fork+exit, less its faults (wall)",
         f.exec_ns, f.sp_exec.min, f.sp_exec.max, old.exec_ns},
        {"exit_base_ns", "ns", "fork's return to the reap of a child that exits at once (wall, min)",
         f.sp_exit.min, f.sp_exit.min, f.sp_exit.max, old.exit_base_ns},
        {"per_page_free_ns", "ns", "slope of munmap time over sizes (pages freed)",
         f.unmap.fit.slope, f.unmap.slope.min, f.unmap.slope.max, old.per_page_free_ns},
        {"vfork_ns", "ns", "vfork() to the parent's return, the child _exits at once (wall, min)",
         f.sp_vc.min, f.sp_vc.min, f.sp_vc.max, old.vfork_ns},
        {"spawn_ns", "ns", "posix_spawn() to its return, the child's exec included (wall, min)",
         f.sp_sc.min, f.sp_sc.min, f.sp_sc.max, old.spawn_ns},
    };
    if (f.thp)
        consts.insert(consts.begin() + 4, Constant{"per_huge_pmd_ns", "ns", "slope of THP fork time over sizes, per 2 MiB huge page",
                                                   f.thp->fit.slope / kHugePerGiB, f.thp->slope.min / kHugePerGiB,
                                                   f.thp->slope.max / kHugePerGiB, old.per_huge_pmd_ns});
    return consts;
}

// The default cost model with the measured constants in (negative ones as 0).
cow::CostModel measured_cost(const Fits& f) {
    cow::CostModel k{};
    auto clamp0 = [](double v) { return v < 0 ? 0.0 : v; };
    k.fork_base_ns = clamp0(f.fork_base);
    k.per_vma_ns = clamp0(f.per_vma);
    k.per_pt_page_ns = f.per_table;
    k.per_pte_ns = f.per_pte;
    if (f.thp) k.per_huge_pmd_ns = clamp0(f.thp->fit.slope / kHugePerGiB);
    k.fault_trap_ns = clamp0(f.cow_c.median - double(kPage) / f.bw_c.median);
    k.copy_bytes_per_ns = f.bw_c.median;
    k.zero_bytes_per_ns = f.bw_z.median;
    k.exec_ns = clamp0(f.exec_ns);
    k.exit_base_ns = clamp0(f.sp_exit.min);
    k.per_page_free_ns = clamp0(f.unmap.fit.slope);
    k.vfork_ns = clamp0(f.sp_vc.min);
    k.spawn_ns = clamp0(f.sp_sc.min);
    return k;
}

// Figures a learner sees (fork per GiB, a COW fault, ...): measured, the engine now, the engine with the measured constants.
std::vector<Derived> derived_figures(const Fits& f, const EngineFigures& eo, const EngineFigures& en) {
    const double gib_pages = double(cow::GiB / kPage);
    std::vector<Derived> d;
    d.push_back({"fork per GiB, 4 KiB pages", "ms", f.dense.fit.slope * gib_pages / 1e6, f.dense.slope.min * gib_pages / 1e6,
                 f.dense.slope.max * gib_pages / 1e6, eo.fork_gib_4k_ms, en.fork_gib_4k_ms});
    if (f.thp) {
        d.push_back({"fork per GiB, THP (MADV_HUGEPAGE)", "ms", f.thp->fit.slope / 1e6, f.thp->slope.min / 1e6, f.thp->slope.max / 1e6,
                     eo.fork_gib_thp_ms, en.fork_gib_thp_ms});
        d.push_back({"THP zero-fill fault (2 MiB)", "us", f.thp_fill->fit.slope / 1e3, f.thp_fill->slope.min / 1e3,
                     f.thp_fill->slope.max / 1e3, eo.thp_fill_us, en.thp_fill_us});
    } else {
        d.push_back({"fork per GiB, THP (MADV_HUGEPAGE)", "ms", 0, 0, 0, eo.fork_gib_thp_ms, en.fork_gib_thp_ms, false});
        d.push_back({"THP zero-fill fault (2 MiB)", "us", 0, 0, 0, eo.thp_fill_us, en.thp_fill_us, false});
    }
    d.push_back({"COW fault, the child copies", "us", f.cow_c.median / 1e3, f.cow_c.min / 1e3, f.cow_c.max / 1e3, eo.cow_child_us, en.cow_child_us});
    d.push_back({"COW fault, the parent copies", "us", f.cow_p.median / 1e3, f.cow_p.min / 1e3, f.cow_p.max / 1e3, eo.cow_parent_us, en.cow_parent_us});
    d.push_back({"zero-fill fault (4 KiB)", "us", f.fill.fit.slope / 1e3, f.fill.slope.min / 1e3, f.fill.slope.max / 1e3, eo.zero_fill_us, en.zero_fill_us});
    d.push_back({"fork+exec of true, to the reap (min)", "us", f.sp_fe.min / 1e3, f.sp_fe.min / 1e3, f.sp_fe.max / 1e3, eo.fork_exec_us, en.fork_exec_us});
    d.push_back({"vfork+exec of true, to the reap (min)", "us", f.sp_ve.min / 1e3, f.sp_ve.min / 1e3, f.sp_ve.max / 1e3, eo.vfork_exec_us, en.vfork_exec_us});
    d.push_back({"posix_spawn of true, to the reap (min)", "us", f.sp_ps.min / 1e3, f.sp_ps.min / 1e3, f.sp_ps.max / 1e3, eo.spawn_us, en.spawn_us});
    return d;
}

// The notes under the tables, after those of measuring.
void fit_notes(const Fits& f, const MachineInfo& mi, const std::vector<Constant>& consts, std::vector<std::string>& notes) {
    if (!f.thp) notes.push_back("per_huge_pmd_ns is not measured: THP is unavailable");
    notes.push_back(mi.zero_page ? "reads of untouched anonymous memory map the shared zero page, as in the engine (zero_page = true)"
                                 : "reads of untouched anonymous memory allocate pages here (4 MiB read: RssAnon grew " +
                                       std::to_string(mi.zero_grew_kb) + " kB): this kernel does not map the zero page; "
                                       "the engine's zero_page = false models that");
    notes.push_back("major_fault_ns is not measured (it needs a cold page cache and depends on the disk)");
    notes.push_back("per_vma_ns, per_pt_page_ns, per_pte_ns, per_page_free_ns: the fit through the per-size medians; spread = the fit of each round alone");
    notes.push_back("wall-clock constants (exec, exit, vfork, spawn) are the minimum of the repetitions: waiting for a CPU only adds");
    for (const Constant& c : consts)
        if (c.value < 0)
            notes.push_back(c.name + " came out negative: the measurement is dominated by noise; rerun on a quieter machine");
}

void derived_notes(const Fits& f, const MachineInfo& mi, std::vector<std::string>& notes) {
    char line[240];
    std::snprintf(line, sizeof line, "fork of this process alone: %s us CPU (%s .. %s); fork+_exit to the reap: %s us wall (min); "
                  "%s takes %s page faults more than a child that exits (median)",
                  num(f.sp_fork.median / 1e3).c_str(), num(f.sp_fork.min / 1e3).c_str(), num(f.sp_fork.max / 1e3).c_str(),
                  num(f.sp_fx.min / 1e3).c_str(), mi.prog, std::to_string(long(f.sp_flt.median)).c_str());
    notes.push_back(line);
    std::snprintf(line, sizeof line, "this process at the start: %.0f VMAs, %.0f anonymous pages (taken out of fork_base_ns)",
                  mi.own_vmas, mi.own_anon_pages);
    notes.push_back(line);
    std::snprintf(line, sizeof line, "fit quality (r^2): fork over sizes %.4f, over tables %.4f, over VMAs %.4f, munmap %.4f, zero fill %.4f",
                  f.dense.fit.r2, f.sparse.fit.r2, f.vmas.fit.r2, f.unmap.fit.r2, f.fill.fit.r2);
    notes.push_back(line);
    std::snprintf(line, sizeof line, "exit over sizes (a child sharing N pages exits): %s ns + %s ns per page (wall)",
                  num(f.reap.fit.intercept).c_str(), num(f.reap.fit.slope).c_str());
    notes.push_back(line);
    notes.push_back("CPU-clock times leave out time spent waiting for a CPU, not the cache and memory-bus effects of other load");
}

// ---------------------------------------------------------------- printing

struct Results {
    std::vector<Constant> consts;
    std::vector<Derived> derived;
    std::vector<std::string> notes;
};

void print_json(const Plan& plan, const MachineInfo& mi, const Results& r) {
    const std::string loadavg = read_file("/proc/loadavg");
    nlohmann::json cj = nlohmann::json::array(), dj = nlohmann::json::array();
    for (const Constant& c : r.consts)
        cj.push_back({{"name", c.name}, {"unit", c.unit}, {"measured", c.value}, {"min", c.lo}, {"max", c.hi},
                      {"default", c.old_default}, {"method", c.method}});
    for (const Derived& d : r.derived) {
        nlohmann::json j = {{"name", d.name}, {"unit", d.unit}, {"engine_default", d.engine_old}, {"engine_measured", d.engine_new}};
        if (d.measured) {
            j["measured"] = d.value;
            j["min"] = d.lo;
            j["max"] = d.hi;
        } else {
            j["measured"] = nullptr;
        }
        dj.push_back(std::move(j));
    }
    nlohmann::json out = {
        {"machine", {{"kernel", mi.un.release}, {"arch", mi.un.machine}, {"cpus", mi.cpus}, {"mem_available_kib", mi.avail_kb},
                     {"thp", mi.thp_mode}, {"zero_page_on_read", mi.zero_page},
                     {"loadavg", loadavg.substr(0, loadavg.find('\n'))}}},
        {"quick", plan.quick}, {"rounds", plan.rounds}, {"peak_bytes", peak_bytes(plan)},
        {"constants", cj}, {"derived", dj}, {"notes", r.notes}};
    std::printf("%s\n", out.dump(2).c_str());
}

void print_table(const Plan& plan, const MachineInfo& mi, const Results& r) {
    const std::string loadavg = read_file("/proc/loadavg");
    std::printf("cowlab calibrate%s: kernel %s (%s), %ld CPUs, THP %s, load average %s", plan.quick ? " --quick" : "", mi.un.release,
                mi.un.machine, mi.cpus, mi.thp_mode.c_str(), loadavg.c_str());
    std::printf("%d rounds; fork buffers %s .. %s; peak memory about %s\n\n", plan.rounds,
                cow::format_bytes(plan.dense_bytes.front()).c_str(), cow::format_bytes(plan.dense_bytes.back()).c_str(),
                cow::format_bytes(peak_bytes(plan)).c_str());
    std::printf("%-18s %10s %23s %10s %5s  %s\n", "constant", "measured", "spread (min .. max)", "default", "unit", "method");
    for (const Constant& c : r.consts) {
        const std::string spread = num(c.lo) + " .. " + num(c.hi);
        std::printf("%-18s %10s %23s %10s %5s  %s\n", c.name.c_str(), num(c.value).c_str(), spread.c_str(),
                    num(c.old_default).c_str(), c.unit.c_str(), c.method.c_str());
    }
    std::printf("\n%-36s %10s %23s %10s %10s %5s\n", "figure", "measured", "spread (min .. max)", "engine now", "engine new", "unit");
    for (const Derived& d : r.derived) {
        const std::string m = d.measured ? num(d.value) : "n/a", spread = d.measured ? num(d.lo) + " .. " + num(d.hi) : "";
        std::printf("%-36s %10s %23s %10s %10s %5s\n", d.name.c_str(), m.c_str(), spread.c_str(), num(d.engine_old).c_str(),
                    num(d.engine_new).c_str(), d.unit.c_str());
    }
    std::printf("  (engine now: the defaults in engine/kernel/cost.h; engine new: the same scenario with the measured constants)\n\n");
    for (const std::string& n : r.notes) std::printf("note: %s\n", n.c_str());
}

// Measures, fits, and runs the engine with the old and the new constants.
cow::Result<Results> calibrate(const Plan& plan, const MachineInfo& mi, bool quiet) {
    Results r;
    auto progress = [&](const char* what) {
        if (!quiet) std::fprintf(stderr, "  measuring: %s\n", what);
    };
    cow::Result<Measured> m = measure(plan, mi, progress, r.notes);
    if (!m) return m.status();
    cow::Result<Fits> f = fit(*m, mi);
    if (!f) return f.status();
    r.consts = constants(*f, mi);
    fit_notes(*f, mi, r.consts, r.notes);
    cow::Result<EngineFigures> eo = engine_figures(cow::CostModel{}), en = engine_figures(measured_cost(*f));
    if (!eo || !en) return failure("engine: " + (eo ? en.message() : eo.message()));
    r.derived = derived_figures(*f, *eo, *en);
    derived_notes(*f, mi, r.notes);
    return r;
}

}  // namespace

int calibrate_main(const std::vector<std::string>& args) {
    bool json = false, quick = false;
    for (const std::string& a : args) {
        if (a == "--json") json = true;
        else if (a == "--quick") quick = true;
        else {
            std::fprintf(stderr, "cowlab calibrate: unknown option '%s'\n", a.c_str());
            return usage();
        }
    }
    const Plan plan = make_plan(quick);
    cow::Result<MachineInfo> mi = probe_machine(plan);
    if (!mi) {
        std::fprintf(stderr, "cowlab calibrate: %s\n", mi.message().c_str());
        return 1;
    }
    cleanup::install();
    cow::Result<Results> r = calibrate(plan, *mi, json);
    if (!r) {
        cleanup::run();
        std::fprintf(stderr, "cowlab calibrate: %s\n", r.message().c_str());
        return 1;
    }
    if (json) print_json(plan, *mi, *r);
    else print_table(plan, *mi, *r);
    return 0;
}

}  // namespace cowlab::live
