// report.h: what every `cowlab experiment` shares: the measured-vs-engine
// report and its three outputs (a table, JSON, a recording), and option
// parsing helpers. Cleanup on Ctrl-C is host/proc/cleanup.h.
//
//   Report r;
//   r.name = "fork";
//   r.rows.push_back({"child Private_Dirty", measured, predicted, "B"});
//   return emit(r, out);      // out: --json and --record FILE, parsed by parse_output
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cleanup.h"
#include "recorder.h"
#include "system.h"

namespace cowlab::live {

// An experiment's report: the recording's experiment line (name, title, params,
// rows measured beside the engine's prediction, notes printed under the table)
// and its series over time; the row types are the recording format's.
struct Report : cow::RecExperiment {
    std::vector<cow::RecSeries> series;
    void set_params(const nlohmann::json& j) { params = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace); }
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
// (Lines of the recording format: cow::rec_line::sample, ::pages.)
int emit(const Report& r, const Output& out, const std::vector<std::string>& recorded_lines = {});

// "256M", "1.5G", "4096", "64K" -> bytes rounded up to 4 KiB; false when not a size.
bool parse_size(const std::string& s, u64& out);

}  // namespace cowlab::live
