// units.cpp: the table of units and the functions that read it.
#include "units.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace cow {

const std::vector<Unit>& unit_table() {
    static const std::vector<Unit> t = {
        // name        symbol       factor               display constant
        {"B", "B", 1, true, false},
        {"KiB", "KiB", double(KiB), true, true},
        {"MiB", "MiB", double(MiB), true, true},
        {"GiB", "GiB", double(GiB), true, true},
        {"TiB", "TiB", double(1024 * GiB), false, true},
        {"pages", "pages", double(kPageSize), true, false},
        {"page", "page", double(kPageSize), false, true},
        {"PAGE_SIZE", "PAGE_SIZE", double(kPageSize), false, true},
        {"HPAGE", "HPAGE", double(kHugeSize), false, true},
        {"ns", "ns", 1, true, false},
        {"us", "µs", 1e3, true, false},
        {"ms", "ms", 1e6, true, false},
        {"s", "s", 1e9, true, false},
        {"%", "%", 0.01, true, false},
        {"x", "x", 1, true, false},
        {"faults", "faults", 1, true, false},
        {"processes", "processes", 1, true, false},
    };
    return t;
}

const Unit* find_unit(const std::string& name) {
    for (const Unit& u : unit_table())
        if (name == u.name) return &u;
    return nullptr;
}

bool valid_display_unit(const std::string& name) {
    const Unit* u = find_unit(name);
    return name.empty() || (u && u->display);
}

std::string format_value(double v, const std::string& unit) {
    char buf[64];
    const Unit* u = find_unit(unit);
    if (u && u->display) {
        const double x = v / u->factor;
        if (std::fabs(x - std::round(x)) < 1e-9 || std::fabs(x) >= 100) std::snprintf(buf, sizeof buf, "%.0f %s", x, u->symbol);
        else std::snprintf(buf, sizeof buf, "%.1f %s", x, u->symbol);
        return buf;
    }
    if (std::fabs(v - std::round(v)) < 1e-9) std::snprintf(buf, sizeof buf, "%.0f", v);
    else std::snprintf(buf, sizeof buf, "%.3g", v);
    return buf;
}

std::string format_count(u64 n) {
    std::string digits = std::to_string(n), out;
    for (size_t i = 0; i < digits.size(); ++i) {
        if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out;
}

double unit_factor(const std::string& unit) {
    const Unit* u = find_unit(unit);
    return u && u->display ? u->factor : 1;
}

const char* unit_symbol(const std::string& unit) {
    const Unit* u = find_unit(unit);
    return u ? u->symbol : unit.c_str();
}

Result<double> unit_value(const std::string& name) {
    const Unit* u = find_unit(name);
    if (u && u->constant) return u->factor;
    return fail(Errc::invalid_argument, "unknown name '" + name + "'");
}

std::string format_measured(double v, const std::string& unit) {
    if (unit == "B") return format_bytes(u64(std::max(0.0, v)));
    char buf[48];
    if (unit.empty()) std::snprintf(buf, sizeof buf, "%.0f", v);
    else std::snprintf(buf, sizeof buf, "%.1f %s", v, unit_symbol(unit));
    return buf;
}

std::string format_difference(double d, const std::string& unit) {
    char buf[48];
    if (unit == "B") std::snprintf(buf, sizeof buf, "%+.0f pages", d / double(kPageSize));
    else if (unit.empty()) std::snprintf(buf, sizeof buf, "%+.0f", d);
    else std::snprintf(buf, sizeof buf, "%+.1f %s", d, unit_symbol(unit));
    return buf;
}

}  // namespace cow
