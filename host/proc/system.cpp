// system.cpp: small readers of the real machine (system.h).
#include "system.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace cowlab::live {

using cow::u64;

cow::RecHost host_info() {
    cow::RecHost h;
    utsname u{};
    if (uname(&u) == 0) {
        h.kernel = u.release;
        h.machine = u.machine;
        h.hostname = u.nodename;
    }
    h.page_size = sysconf(_SC_PAGESIZE);
    h.cpus = sysconf(_SC_NPROCESSORS_ONLN);
    const long long total_kb = proc_kb(read_file("/proc/meminfo"), "MemTotal");
    if (total_kb > 0) h.mem_total = u64(total_kb) * 1024;
    return h;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

long long proc_kb(const std::string& text, const std::string& key) {
    const size_t at = text.find("\n" + key + ":");
    const size_t p = at == std::string::npos ? (text.rfind(key + ":", 0) == 0 ? 0 : std::string::npos) : at + 1;
    if (p == std::string::npos) return -1;
    return std::atoll(text.c_str() + p + key.size() + 1);
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
    const long long kb = proc_kb(read_file("/proc/meminfo"), "MemAvailable");
    return kb > 0 ? u64(kb) * 1024 : 0;
}

}  // namespace cowlab::live
