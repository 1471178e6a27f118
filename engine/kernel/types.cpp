// types.cpp: the vocabulary's few functions: error names, byte counts, and
// the report of a broken invariant.
#include "types.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace cow {

void invariant_broken(const char* function, const std::string& what) {
    std::fprintf(stderr, "cowlab engine: invariant broken in %s: %s\n", function, what.c_str());
    std::abort();
}

const char* errc_name(Errc e) {
    switch (e) {
        case Errc::ok: return "ok";
        case Errc::invalid_argument: return "invalid_argument";
        case Errc::no_such_process: return "no_such_process";
        case Errc::not_running: return "not_running";
        case Errc::no_memory: return "no_memory";
        case Errc::bad_address: return "bad_address";
        case Errc::limit: return "limit";
        case Errc::no_child: return "no_child";
        case Errc::killed: return "killed";
        case Errc::not_permitted: return "not_permitted";
        case Errc::malformed: return "malformed";
        case Errc::over_budget: return "over_budget";
    }
    return "?";
}

std::string format_bytes(u64 bytes) {
    static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int u = 0;
    double v = double(bytes);
    while (v >= 1024 && u < 5) { v /= 1024; ++u; }
    char buf[32];
    if (u == 0 || v == std::floor(v)) std::snprintf(buf, sizeof buf, "%.0f %s", v, units[u]);
    else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

}  // namespace cow
