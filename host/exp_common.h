// exp_common.h: what every `cowlab experiment` shares: the measured-vs-engine
// report and its three outputs (a table, JSON, a recording), option parsing
// helpers, and cleanup that also runs on Ctrl-C.
//
//   Report r{.experiment = "fork", .title = "..."};
//   r.rows.push_back({"child Private_Dirty", measured, predicted, "B"});
//   return emit(r, out);      // out: --json and --record FILE, parsed by parse_output
#pragma once

#include <sys/types.h>

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "record.h"

namespace cowlab::live {

struct Row {
    std::string name;
    double measured = 0, predicted = 0;
    std::string unit;   // "B" (bytes: differences shown in pages), "us", "ms", "s", or "" (a count)
};

struct Series {
    std::string name, unit;
    std::vector<std::array<double, 2>> measured, predicted;   // [t_s, value]
};

struct Report {
    std::string experiment, title;
    nlohmann::json params = nlohmann::json::object();
    std::vector<Row> rows;
    std::vector<Series> series;
    std::vector<std::string> notes;   // printed under the table, kept in JSON and recordings
};

struct Output {
    bool json = false;
    std::string record;    // a recording's path, or empty
    std::string command;   // the command line, for the recording's header
};

// Consumes `--json` or `--record FILE` at a[i] (advancing i past FILE); false if a[i] is neither.
bool parse_output(const std::vector<std::string>& a, size_t& i, Output& out);

// Prints the report as a table (or JSON) and writes the recording; returns the exit status.
// Samples taken during the experiment may be passed to go into the recording first.
int emit(const Report& r, const Output& out, const std::vector<nlohmann::json>& recorded_lines = {});

// "256M", "1.5G", "4096", "64K" -> bytes rounded up to 4 KiB; false when not a size.
bool parse_size(const std::string& s, u64& out);
// A whole number in [lo, hi]; false otherwise.
bool parse_count(const std::string& s, long long lo, long long hi, long long& out);

// The executable `name` on PATH (or in /usr/local/bin, /usr/bin, /bin when PATH is unset), or "".
std::string find_program(const std::string& name);
// MemAvailable of /proc/meminfo in bytes, 0 when it cannot be read.
u64 mem_available();

// Cleanup that runs at most once, at the end or on SIGINT/SIGTERM/SIGHUP: every
// registered process is sent SIGTERM (then SIGKILL after a grace period) and reaped,
// every registered path removed (files; empty directories). Signal-safe.
namespace cleanup {
void install();                    // installs the signal handlers (idempotent)
void add_pid(pid_t pid);
void forget_pid(pid_t pid);        // reaped by the caller
void add_path(const std::string& path);
void forget_path(const std::string& path);
void run();                        // kills, reaps and removes now
}  // namespace cleanup

}  // namespace cowlab::live
