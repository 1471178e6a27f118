// report.cpp: experiment reports (a table, JSON, a recording) and option parsing.
#include "report.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

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
    out = cow::page_up(out);
    return true;
}

namespace {

nlohmann::json parsed(const std::string& line) { return nlohmann::json::parse(line, nullptr, false); }

// The recording: the samples taken during the experiment, the report, its series.
Status write_recording(const Report& r, const Output& out, const std::vector<std::string>& recorded_lines) {
    Result<Recorder> rec = Recorder::open(out.record, "experiment", out.command);
    if (!rec) return rec.status();
    for (const std::string& l : recorded_lines)
        if (Status st = rec->line(l); !st) return st;
    if (Status st = rec->line(cow::rec_line::experiment(r)); !st) return st;
    for (const cow::RecSeries& s : r.series)
        if (Status st = rec->line(cow::rec_line::series(s)); !st) return st;
    return rec->close();
}

// --json: the experiment line with its series inside; the old top-level fields of
// `experiment fork --json` stay: parameters beside the rows.
void print_json(const Report& r) {
    nlohmann::json j = parsed(cow::rec_line::experiment(r));
    j.erase("type");
    nlohmann::json series = nlohmann::json::array();
    for (const cow::RecSeries& s : r.series) {
        series.push_back(parsed(cow::rec_line::series(s)));
        series.back().erase("type");
    }
    j["series"] = series;
    const nlohmann::json params = parsed(r.params);
    if (params.is_object())
        for (auto& [k, v] : params.items()) j[k] = v;
    std::printf("%s\n", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

// Right-aligned in `width` columns of a terminal: UTF-8 continuation bytes ("µ") take none.
std::string right(const std::string& text, size_t width) {
    size_t columns = 0;
    for (unsigned char c : text) columns += (c & 0xC0) != 0x80;
    return std::string(columns < width ? width - columns : 0, ' ') + text;
}

void print_table(const Report& r) {
    std::printf("%s\n", r.title.c_str());
    std::printf("%-36s %16s %16s %14s\n", "", "measured", "engine", "difference");
    for (const cow::RecRow& row : r.rows)
        std::printf("%-36s %s %s %s\n", row.name.c_str(), right(cow::format_measured(row.measured, row.unit), 16).c_str(),
                    right(cow::format_measured(row.predicted, row.unit), 16).c_str(),
                    right(cow::format_difference(row.predicted - row.measured, row.unit), 14).c_str());
    for (const std::string& n : r.notes) std::printf("(%s)\n", n.c_str());
}

}  // namespace

int emit(const Report& r, const Output& out, const std::vector<std::string>& recorded_lines) {
    int status = 0;
    if (!out.record.empty())
        if (Status st = write_recording(r, out, recorded_lines); !st) {
            std::fprintf(stderr, "cowlab experiment: %s\n", st.message.c_str());
            status = 1;
        }
    if (out.json) {
        print_json(r);
        return status;
    }
    print_table(r);
    if (!out.record.empty() && status == 0) std::printf("recorded to %s\n", out.record.c_str());
    return status;
}

}  // namespace cowlab::live
