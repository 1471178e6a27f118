// exp_common.cpp: experiment reports, option parsing, cleanup on interruption.
#include "exp_common.h"

#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

#include "engine.h"

namespace cowlab::live {

bool parse_output(const std::vector<std::string>& a, size_t& i, Output& out) {
    if (a[i] == "--json") {
        out.json = true;
        return true;
    }
    if (a[i] == "--record" && i + 1 < a.size()) {
        out.record = a[++i];
        return true;
    }
    return false;
}

bool parse_size(const std::string& s, u64& out) {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (!end || end == s.c_str() || !(v > 0) || v > 1e15) return false;
    std::string unit(end);
    double mult = 1;
    if (unit == "K" || unit == "k" || unit == "KiB") mult = 1024;
    else if (unit == "M" || unit == "m" || unit == "MiB") mult = 1024.0 * 1024;
    else if (unit == "G" || unit == "g" || unit == "GiB") mult = 1024.0 * 1024 * 1024;
    else if (!unit.empty()) return false;
    if (v * mult > 1e15) return false;
    out = u64(v * mult);
    out = (out + 4095) & ~u64{4095};
    return true;
}

bool parse_count(const std::string& s, long long lo, long long hi, long long& out) {
    char* end = nullptr;
    errno = 0;
    out = std::strtoll(s.c_str(), &end, 10);
    return !s.empty() && end && !*end && errno == 0 && out >= lo && out <= hi;
}

std::string find_program(const std::string& name) {
    const char* path = std::getenv("PATH");
    std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
    std::string d;
    while (std::getline(dirs, d, ':')) {
        if (d.empty()) continue;
        const std::string f = d + "/" + name;
        if (access(f.c_str(), X_OK) == 0) return f;
    }
    return "";
}

u64 mem_available() {
    std::ifstream f("/proc/meminfo");
    std::string key;
    u64 kb = 0;
    while (f >> key >> kb) {
        if (key == "MemAvailable:") return kb * 1024;
        f.ignore(1 << 10, '\n');
    }
    return 0;
}

namespace {

std::string shown(double v, const std::string& unit) {
    if (unit == "B") return cow::format_bytes(u64(v < 0 ? 0 : v));
    char buf[48];
    if (unit.empty()) std::snprintf(buf, sizeof buf, "%.0f", v);
    else std::snprintf(buf, sizeof buf, "%.1f %s", v, unit.c_str());
    return buf;
}

std::string difference(double d, const std::string& unit) {
    char buf[48];
    if (unit == "B") std::snprintf(buf, sizeof buf, "%+.0f pages", d / 4096.0);
    else if (unit.empty()) std::snprintf(buf, sizeof buf, "%+.0f", d);
    else std::snprintf(buf, sizeof buf, "%+.1f %s", d, unit.c_str());
    return buf;
}

nlohmann::json points_json(const std::vector<std::array<double, 2>>& pts) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& p : pts) {
        nlohmann::json xy = nlohmann::json::array();
        xy.push_back(p[0]);
        xy.push_back(p[1]);
        out.push_back(std::move(xy));
    }
    return out;
}

nlohmann::json series_json(const Series& s) {
    return {{"name", s.name}, {"unit", s.unit}, {"measured", points_json(s.measured)}, {"predicted", points_json(s.predicted)}};
}

nlohmann::json report_json(const Report& r) {
    nlohmann::json rows = nlohmann::json::array();
    for (const Row& row : r.rows)
        rows.push_back({{"name", row.name}, {"measured", row.measured}, {"predicted", row.predicted}, {"unit", row.unit}});
    return {{"type", "experiment"}, {"name", r.experiment}, {"title", r.title}, {"params", r.params}, {"rows", rows}, {"notes", r.notes}};
}

}  // namespace

int emit(const Report& r, const Output& out, const std::vector<nlohmann::json>& recorded_lines) {
    int status = 0;
    if (!out.record.empty()) {
        Result<Recorder> rec = Recorder::open(out.record, "experiment", out.command);
        Status st = rec ? Status{} : rec.status();
        for (const nlohmann::json& l : recorded_lines)
            if (st) st = rec->line(l);
        if (st) st = rec->line(report_json(r));
        for (const Series& s : r.series)
            if (st) {
                nlohmann::json l = series_json(s);
                l["type"] = "series";
                st = rec->line(l);
            }
        if (st) st = rec->close();
        if (!st) {
            std::fprintf(stderr, "cowlab experiment: %s\n", st.message.c_str());
            status = 1;
        }
    }
    if (out.json) {
        nlohmann::json j = report_json(r);
        j.erase("type");
        nlohmann::json series = nlohmann::json::array();
        for (const Series& s : r.series)
            series.push_back(series_json(s));
        j["series"] = series;
        // The old top-level fields of `experiment fork --json` stay: parameters beside the rows.
        for (auto& [k, v] : r.params.items()) j[k] = v;
        std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
        return status;
    }
    std::printf("%s\n", r.title.c_str());
    std::printf("%-36s %16s %16s %14s\n", "", "measured", "engine", "difference");
    for (const Row& row : r.rows)
        std::printf("%-36s %16s %16s %14s\n", row.name.c_str(), shown(row.measured, row.unit).c_str(),
                    shown(row.predicted, row.unit).c_str(), difference(row.predicted - row.measured, row.unit).c_str());
    for (const std::string& n : r.notes) std::printf("(%s)\n", n.c_str());
    if (!out.record.empty() && status == 0) std::printf("recorded to %s\n", out.record.c_str());
    return status;
}

namespace cleanup {

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

}  // namespace cleanup

}  // namespace cowlab::live
