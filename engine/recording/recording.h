// recording.h: recordings of real processes, the format in one place: JSON
// lines that `cowlab live --record FILE` and `cowlab experiment ... --record
// FILE` write (through the writer below; the host only opens the file and
// turns /proc samples into RecProc rows) and the lab replays (File > Open in
// the browser), and that live mode fills sample by sample. One JSON object per
// line, each with a "type":
//
//   header      {"type":"header","format":"cowlab-recording","version":1,
//                "source":"live"|"experiment","command":"cowlab live --tree 123 ...",
//                "started":"2026-11-22T20:00:00Z",
//                "host":{"kernel":"6.1.0-13-amd64","machine":"x86_64","page_size":4096,
//                        "cpus":8,"mem_total":16777216000,"hostname":"..."}}
//   sample      {"type":"sample","t_s":0.5,"processes":[{"pid":..,"ppid":..,"name":..,"state":"S",
//                "rss":..,"pss":..,"uss":..,"shared_clean":..,"shared_dirty":..,"private_clean":..,
//                "private_dirty":..,"anon_huge":..,"swap":..,"vm_pte":..,"min_flt":..,"maj_flt":..}
//                | {"pid":..,"problem":"not permitted","error":"..."}]}      (sizes in bytes)
//   pages       {"type":"pages","t_s":..,"pid":..,"start":ADDRESS,"map":"RUNS"}
//                one region's pages from pagemap: RUNS is "<count><state>" repeated, state
//                '.' not present, 'x' mapped by this process alone, 's' shared with others,
//                'w' swapped; e.g. "512x20s3." (a hidden PFN still yields x or s)
//   experiment  {"type":"experiment","name":"fork","title":"..","params":{..},
//                "rows":[{"name":..,"measured":..,"predicted":..,"unit":"B"|"us"|"ms"|"s"|""}],
//                "notes":["..."]}
//   series      {"type":"series","name":..,"unit":..,"measured":[[t_s,v],..],"predicted":[[t_s,v],..]}
//   end         {"type":"end","samples":N}
//
// Readers skip types they do not know, so later versions can add lines.
//
//   Result<Recording> r = Recording::parse(text, "bgsave.jsonl");
//   r->samples[i].procs           // what /proc said at r->samples[i].t_s
//   r->pages_at(pid, t_s)         // the latest page states of pid's recorded regions
//   rec_line::sample(s)           // one line's text, to write (rec_line::header first, end last)
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

// One figure measured beside the engine's prediction: an experiment's row.
struct RecRow {
    std::string name;
    double measured = 0, predicted = 0;
    std::string unit;   // "B" (bytes: differences shown in pages), "us", "ms", "s", or "" (a count)
};

struct RecExperiment {
    std::string name, title;
    std::string params = "{}";         // compact JSON text of an object
    std::vector<RecRow> rows;
    std::vector<std::string> notes;
};

// A figure over time, measured and predicted.
struct RecSeries {
    std::string name, unit;
    std::vector<std::array<double, 2>> measured, predicted;   // [t_s, value]
};

// The machine a recording was made on, as its header line holds it (empty or 0: unknown).
struct RecHost {
    std::string kernel, machine, hostname;
    long page_size = 0, cpus = 0;
    u64 mem_total = 0;
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
    // The other way: one character per page ('.', 'x', 's', 'w') into runs.
    static std::string encode_runs(const std::string& states);

    // The sample shown at time t: the last one at or before t (the first one before it begins).
    size_t sample_at(double t_s) const;
    // pid's regions as of time t (the latest recorded state of each start address).
    std::vector<const RecPages*> pages_at(int pid, double t_s) const;
    double duration_s() const { return samples.empty() ? 0 : samples.back().t_s - samples.front().t_s; }
};

// The writer: each function gives one line's text, without its newline, that
// Recording::parse reads back. A recording is a header, any other lines, an end.
namespace rec_line {
// `started` (UTC, "2026-11-22T20:00:00Z") is left out when empty.
std::string header(const std::string& source, const std::string& command, const std::string& started, const RecHost& host);
std::string sample(const RecSample& s);
std::string pages(const RecPages& p);
std::string experiment(const RecExperiment& e);
std::string series(const RecSeries& s);
std::string end(u64 samples);
}  // namespace rec_line

}  // namespace cow
