// recording.h: a recording of real processes (host/record.h writes the
// format: JSON lines of a header, samples, page states, experiment results),
// read back for the lab to replay, and filled sample by sample in live mode.
//
//   Result<Recording> r = Recording::parse(text, "bgsave.jsonl");
//   r->samples[i].procs           // what /proc said at r->samples[i].t_s
//   r->pages_at(pid, t_s)         // the latest page states of pid's recorded regions
//
// Bad input is an error that names the line and the reason; a last line cut
// short (a recording interrupted while writing) is dropped with a warning.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "types.h"

namespace cow {

struct RecProc {
    int pid = 0, ppid = 0;
    std::string name, state;
    std::string problem, error;   // a process that could not be read: "not permitted", ...
    u64 rss = 0, pss = 0, uss = 0, shared_clean = 0, shared_dirty = 0, private_clean = 0, private_dirty = 0;
    u64 anon_huge = 0, swap = 0, vm_pte = 0, min_flt = 0, maj_flt = 0;
    u64 shared() const { return shared_clean + shared_dirty; }
};

struct RecSample {
    double t_s = 0;
    std::vector<RecProc> procs;
    const RecProc* find(int pid) const;
};

// One region's pages: '.' not present, 'x' mapped by the process alone, 's' shared, 'w' swapped.
struct RecPages {
    double t_s = 0;
    int pid = 0;
    u64 start = 0;
    std::string states;
};

struct RecRow {
    std::string name, unit;
    double measured = 0, predicted = 0;
};

struct RecExperiment {
    std::string name, title, params;   // params: compact JSON text
    std::vector<RecRow> rows;
    std::vector<std::string> notes;
};

struct RecSeries {
    std::string name, unit;
    std::vector<std::array<double, 2>> measured, predicted;   // [t_s, value]
};

struct Recording {
    std::string file, source, command, started;
    std::string host;                  // "vm: Linux 6.1.0 x86_64, 8 CPUs, 16 GiB"
    std::vector<RecSample> samples;    // in time order
    std::vector<RecPages> pages;
    std::vector<RecExperiment> experiments;
    std::vector<RecSeries> series;
    std::vector<std::string> warnings;
    bool ended = false;                // the end line was seen

    static constexpr u64 kMaxBytes = u64{512} << 20;          // of text
    static constexpr u64 kMaxPages = u64{64} << 20;           // page states in all
    static Result<Recording> parse(const std::string& text, const std::string& file);
    // Decodes "512x20s3." into one character per page; false when malformed or beyond `limit` pages.
    static bool decode_runs(const std::string& runs, std::string& out, u64 limit);

    // The sample shown at time t: the last one at or before t (the first one before it begins).
    size_t sample_at(double t_s) const;
    // pid's regions as of time t (the latest recorded state of each start address).
    std::vector<const RecPages*> pages_at(int pid, double t_s) const;
    double duration_s() const { return samples.empty() ? 0 : samples.back().t_s - samples.front().t_s; }
};

}  // namespace cow
