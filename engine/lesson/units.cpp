// units.cpp: the table of units and the functions that read it.
#include "units.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
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

namespace {

// The digits of a whole number with its thousands grouped ("-1,234").
std::string group(const std::string& digits) {
    size_t start = digits.size() && digits[0] == '-' ? 1 : 0, dot = digits.find('.');
    if (dot == std::string::npos) dot = digits.size();
    std::string out = digits.substr(0, start);
    for (size_t i = start; i < dot; ++i) {
        if (i > start && (dot - i) % 3 == 0) out += ',';
        out += digits[i];
    }
    return out + digits.substr(dot);
}

}  // namespace

std::string format_number(double v) {
    if (!std::isfinite(v)) return std::isnan(v) ? "not a number" : v > 0 ? "infinity" : "-infinity";
    char buf[400];
    const double a = std::fabs(v);
    if (std::fabs(v - std::round(v)) < 1e-9 * std::max(1.0, a) || a >= 100) {
        std::snprintf(buf, sizeof buf, "%.0f", std::round(v));
        return group(std::string(buf) == "-0" ? "0" : buf);
    }
    // Three significant digits in fixed notation, trailing zeros dropped.
    const int decimals = std::clamp(2 - int(std::floor(std::log10(a))), 1, 12);
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    std::string t = buf;
    while (t.size() > 1 && t.back() == '0') t.pop_back();
    if (t.back() == '.') t.pop_back();
    return t;
}

std::string format_value(double v, const std::string& unit) {
    const Unit* u = find_unit(unit);
    if (!u || !u->display) return format_number(v);
    const double x = v / u->factor;
    char buf[64];
    if (std::fabs(x - std::round(x)) < 1e-9 || std::fabs(x) >= 100) return format_number(std::round(x)) + " " + u->symbol;
    if (std::fabs(x) >= 0.1) {   // one decimal: "4.2 MiB"
        std::snprintf(buf, sizeof buf, "%.1f %s", x, u->symbol);
        return buf;
    }
    return format_number(x) + " " + u->symbol;   // not "0.0 KiB" for a few bytes: "0.000977 KiB"
}

bool parse_number(const std::string& text, double& out) {
    if (text.size() > 64) return false;
    std::string t;
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        const bool between_digits = i > 0 && i + 1 < text.size() && std::isdigit(static_cast<unsigned char>(text[i - 1])) &&
                                    std::isdigit(static_cast<unsigned char>(text[i + 1]));
        if (c == ',' && between_digits) continue;   // thousands grouped
        if (c == ' ' || c == '\t') {
            if (between_digits) return false;        // "1 2": two numbers
            continue;
        }
        t += c;
    }
    if (t.empty()) return false;
    char* end = nullptr;
    const double v = std::strtod(t.c_str(), &end);
    if (!end || *end || !std::isfinite(v)) return false;
    // strtod also reads "inf", "nan" and hexadecimal: a person types digits.
    for (char c : t)
        if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E') return false;
    out = v;
    return true;
}

std::string format_count(u64 n) { return group(std::to_string(n)); }

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
