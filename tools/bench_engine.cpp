// bench_engine: how fast and how small the engine is, beside the real kernel.
//
//   cowlab-bench-engine [--gib N] [--kernel-mib M] [--wasm bench.js] [--engine-only]
//
// 1. Engine: a process of N GiB (default 16: 4,194,304 pages) writes its
//    buffer, forks, and the child writes every page (one COW fault each).
//    Prints wall time per phase and host bytes per mapped page.
// 2. Kernel: the same on this machine's kernel with a real M MiB buffer
//    (default 1024), and the engine on the same page count: engine / kernel.
// 3. With --wasm: runs the wasm build of this benchmark under node
//    (--engine-only) and prints wasm time / native time.
// Figures are ratios measured in one run, so they hold on any machine.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine.h"

#ifndef __EMSCRIPTEN__
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

using namespace cow;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "bench_engine: %s\n", what.c_str());
    std::exit(1);
}

struct EngineRun {
    double setup_ms = 0, fork_ms = 0, cow_ms = 0;
    u64 pages = 0, faults = 0, mappings = 0, host_bytes = 0, core_bytes = 0;
    u64 sim_fork_ns = 0, sim_cow_ns = 0;
};

// A process of `bytes` writes its buffer, forks; the child writes every page.
EngineRun run_engine(u64 bytes) {
    const u64 pages = bytes / kPageSize;
    MachineConfig cfg;
    // RAM for both copies, their page tables, and a little slack: no more, so
    // that host memory per page measures the engine, not idle RAM.
    cfg.ram_bytes = huge_up(2 * bytes + 2 * (bytes / 512) + 64 * MiB);
    cfg.overcommit = Overcommit::always;
    cfg.event_capacity = 4096;
    Result<Machine> created = Machine::create(cfg);
    if (!created) die(created.message());
    Machine m = std::move(created.value());
    EngineRun r;
    r.pages = pages;
    Image im;
    im.name = "bench";
    im.warm = false;
    Result<Pid> p = m.spawn(im);
    if (!p) die(p.message());
    Result<u64> buf = m.mmap(*p, {.len = bytes, .name = "buffer"});
    if (!buf) die(buf.message());
    Clock::time_point t0 = Clock::now();
    Result<AccessResult> fill = m.access(*p, *buf, bytes, Access::write);
    if (!fill) die(fill.message());
    r.setup_ms = ms_since(t0);

    t0 = Clock::now();
    Result<ForkResult> f = m.fork(*p);
    r.fork_ms = ms_since(t0);
    if (!f) die(f.message());
    r.sim_fork_ns = f->time_ns;

    t0 = Clock::now();
    Result<AccessResult> w = m.access(f->child, *buf, bytes, Access::write);
    r.cow_ms = ms_since(t0);
    if (!w) die(w.message());
    r.faults = w->cow_copies;
    r.sim_cow_ns = w->time_ns;
    if (r.faults != pages) die("expected one COW copy per page, got " + std::to_string(r.faults));

    r.mappings = 2 * pages;
    r.host_bytes = m.host_bytes();
    // What grows with mapped pages: one PTE per mapping, one frame per page in use.
    r.core_bytes = m.tables().live() * kPageSize + m.frames().used_count() * (sizeof(Frame) + sizeof(Content));
    return r;
}

#ifndef __EMSCRIPTEN__
struct KernelRun {
    double fork_ms = 0, cow_ms = 0;
};

// The real thing: touch a buffer, fork, the child writes every page.
KernelRun run_kernel(u64 bytes) {
    char* b = static_cast<char*>(mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (b == MAP_FAILED) die("mmap of the kernel buffer failed");
    madvise(b, bytes, MADV_NOHUGEPAGE);   // 4 KiB pages, as in the engine run
    std::memset(b, 1, bytes);
    int pipefd[2];
    if (pipe(pipefd) != 0) die("pipe failed");
    Clock::time_point t0 = Clock::now();
    pid_t pid = fork();
    if (pid < 0) die("fork failed");
    if (pid == 0) {
        Clock::time_point c0 = Clock::now();
        for (u64 i = 0; i < bytes; i += kPageSize) b[i] = 2;
        double ms = ms_since(c0);
        if (write(pipefd[1], &ms, sizeof ms) != sizeof ms) _exit(1);
        _exit(0);
    }
    KernelRun r;
    r.fork_ms = ms_since(t0);
    close(pipefd[1]);
    if (read(pipefd[0], &r.cow_ms, sizeof r.cow_ms) != sizeof r.cow_ms) die("the child did not report");
    close(pipefd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    munmap(b, bytes);
    return r;
}

// Runs the wasm build under node and reads its total engine time.
double run_wasm(const std::string& js, u64 gib) {
    std::string cmd = "NODE_PATH=/usr/share/nodejs node --no-experimental-fetch '" + js + "' --engine-only --gib " +
                      std::to_string(gib);
    FILE* f = popen(cmd.c_str(), "r");
    if (!f) die("cannot run node");
    char line[512];
    double total = -1;
    while (std::fgets(line, sizeof line, f)) {
        std::fputs(("  | " + std::string(line)).c_str(), stdout);
        if (std::strncmp(line, "engine_total_ms=", 16) == 0) total = std::atof(line + 16);
    }
    if (pclose(f) != 0 || total < 0) die("the wasm benchmark failed: " + cmd);
    return total;
}
#endif

void print_engine(const EngineRun& r, u64 bytes) {
    std::printf("engine: a %s process (%llu pages) forks; the child writes every page\n", format_bytes(bytes).c_str(),
                static_cast<unsigned long long>(r.pages));
    std::printf("  parent fills its buffer      %9.1f ms  (%.0f ns per zero-fill fault)\n", r.setup_ms,
                r.setup_ms * 1e6 / double(r.pages));
    std::printf("  fork                         %9.1f ms  (simulated %.2f ms)\n", r.fork_ms, double(r.sim_fork_ns) / 1e6);
    std::printf("  child writes every page      %9.1f ms  (%llu COW faults, %.0f ns each; simulated %.2f s)\n", r.cow_ms,
                static_cast<unsigned long long>(r.faults), r.cow_ms * 1e6 / double(r.faults), double(r.sim_cow_ns) / 1e9);
    std::printf("  fork + child writes          %9.1f ms\n", r.fork_ms + r.cow_ms);
    std::printf("  host memory                  %9.1f MiB = %.1f bytes per mapped page (%llu mappings)\n",
                double(r.host_bytes) / double(MiB), double(r.host_bytes) / double(r.mappings),
                static_cast<unsigned long long>(r.mappings));
    std::printf("    of which page tables + frames in use: %.1f bytes per mapped page\n",
                double(r.core_bytes) / double(r.mappings));
    std::printf("engine_total_ms=%.3f\n", r.fork_ms + r.cow_ms);
}

}  // namespace

int main(int argc, char** argv) {
    u64 gib = 16, kernel_mib = 1024;
    bool engine_only = false;
    std::string wasm;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto num = [&](u64 lo, u64 hi) {
            if (i + 1 >= argc) die(a + " needs a value");
            char* end = nullptr;
            unsigned long long v = std::strtoull(argv[++i], &end, 10);
            if (!end || *end || v < lo || v > hi) die(a + " must be " + std::to_string(lo) + ".." + std::to_string(hi));
            return u64(v);
        };
        if (a == "--gib") gib = num(1, 64);
        else if (a == "--kernel-mib") kernel_mib = num(16, 16384);
        else if (a == "--engine-only") engine_only = true;
        else if (a == "--wasm" && i + 1 < argc) wasm = argv[++i];
        else die("usage: cowlab-bench-engine [--gib N] [--kernel-mib M] [--wasm bench.js] [--engine-only]");
    }
#ifdef __EMSCRIPTEN__
    const char* target = "wasm";
#else
    const char* target = "native";
#endif
    std::printf("cowlab %s engine benchmark (%s)\n", version(), target);
    const EngineRun big = run_engine(gib * GiB);
    print_engine(big, gib * GiB);
    if (engine_only) return 0;
#ifdef __EMSCRIPTEN__
    (void)kernel_mib;
    std::printf("(the kernel comparison needs fork: run the native build)\n");
#else
    const u64 kbytes = kernel_mib * MiB;
    std::printf("\nkernel: the same with a real %s buffer on this machine (4 KiB pages)\n", format_bytes(kbytes).c_str());
    const KernelRun k = run_kernel(kbytes);
    const EngineRun e = run_engine(kbytes);
    std::printf("  kernel fork %.2f ms, child writes %.1f ms (%.0f ns per COW fault)\n", k.fork_ms, k.cow_ms,
                k.cow_ms * 1e6 / double(kbytes / kPageSize));
    std::printf("  engine fork %.2f ms, child writes %.1f ms\n", e.fork_ms, e.cow_ms);
    std::printf("  engine / kernel (fork + child writes): %.4f\n", (e.fork_ms + e.cow_ms) / (k.fork_ms + k.cow_ms));
    if (!wasm.empty()) {
        std::printf("\nwasm: the engine run above, built to WebAssembly, under node\n");
        const double w = run_wasm(wasm, gib);
        std::printf("  wasm / native (fork + child writes): %.2f\n", w / (big.fork_ms + big.cow_ms));
    }
#endif
    return 0;
}
