// cleanup.cpp: ending started processes and removing files, also on a signal (cleanup.h).
#include "cleanup.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>

namespace cowlab::live::cleanup {

namespace {
constexpr int kMaxPids = 256, kMaxPaths = 32;
pid_t g_pids[kMaxPids];
char g_paths[kMaxPaths][512];
std::atomic<int> g_npids{0}, g_npaths{0};
std::atomic<bool> g_installed{false};

void sleep_ms(long ms) {
    timespec ts{ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

void on_signal(int sig) {
    run();
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}
}  // namespace

void install() {
    if (g_installed.exchange(true)) return;
    struct sigaction sa{};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaction(s, &sa, nullptr);
}

void add_pid(pid_t pid) {
    const int n = g_npids.load();
    if (n < kMaxPids) {
        g_pids[n] = pid;
        g_npids.store(n + 1);
    }
}

void forget_pid(pid_t pid) {
    for (int i = 0; i < g_npids.load(); ++i)
        if (g_pids[i] == pid) g_pids[i] = 0;
}

void add_path(const std::string& path) {
    const int n = g_npaths.load();
    if (n < kMaxPaths && path.size() < sizeof g_paths[0]) {
        std::memcpy(g_paths[n], path.c_str(), path.size() + 1);
        g_npaths.store(n + 1);
    }
}

void forget_path(const std::string& path) {
    for (int i = 0; i < g_npaths.load(); ++i)
        if (path == g_paths[i]) g_paths[i][0] = 0;
}

void run() {
    const int n = g_npids.exchange(0);
    bool any = false;
    for (int i = 0; i < n; ++i)
        if (g_pids[i] > 0) any |= kill(g_pids[i], SIGTERM) == 0;
    // A grace period of up to 2 s for servers to exit on SIGTERM, then SIGKILL.
    for (int waited = 0; any && waited < 2000; waited += 20) {
        any = false;
        for (int i = 0; i < n; ++i)
            if (g_pids[i] > 0) {
                if (waitpid(g_pids[i], nullptr, WNOHANG) == 0) any = true;
                else g_pids[i] = 0;
            }
        if (any) sleep_ms(20);
    }
    for (int i = 0; i < n; ++i)
        if (g_pids[i] > 0) {
            kill(g_pids[i], SIGKILL);
            waitpid(g_pids[i], nullptr, 0);
            g_pids[i] = 0;
        }
    const int m = g_npaths.exchange(0);
    for (int i = m - 1; i >= 0; --i)   // the last registered first: files before their directory
        if (g_paths[i][0]) {
            if (unlink(g_paths[i]) != 0) rmdir(g_paths[i]);
            g_paths[i][0] = 0;
        }
}

}  // namespace cowlab::live::cleanup
