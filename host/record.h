// record.h: the recording format (JSON lines) that `cowlab live --record FILE`
// and `cowlab experiment ... --record FILE` write and the lab replays
// (File > Open in the browser). One JSON object per line, each with a "type":
//
//   header      {"type":"header","format":"cowlab-recording","version":1,
//                "source":"live"|"experiment","command":"cowlab live --tree 123 ...",
//                "started":"2026-11-22T20:00:00Z",
//                "host":{"kernel":"6.1.0-13-amd64","machine":"x86_64","page_size":4096,
//                        "cpus":8,"mem_total":16777216000,"hostname":"..."}}
//   sample      {"type":"sample","t_s":0.5,"processes":[{"pid":..,"ppid":..,"name":..,"state":"S",
//                "rss":..,"pss":..,"uss":..,"shared_clean":..,"shared_dirty":..,"private_clean":..,
//                "private_dirty":..,"anon_huge":..,"vm_pte":..,"min_flt":..,"maj_flt":..}
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
#pragma once

#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine.h"
#include "procfs.h"

namespace cowlab::live {

// A process's figures as a recording holds them (or its problem), and as a sample line's row.
cow::RecProc rec_proc(int pid, const Result<ProcSample>& s);
nlohmann::json sample_json(int pid, const Result<ProcSample>& s);

// What this machine is, for the header.
nlohmann::json host_json();

class Recorder {
public:
    // Creates (or truncates) the file and writes the header line.
    static Result<Recorder> open(const std::string& path, const std::string& source, const std::string& command);
    Recorder() = default;
    Recorder(Recorder&& o) noexcept;
    Recorder& operator=(Recorder&& o) noexcept;
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;
    ~Recorder();

    // Each line is flushed as written: an interrupted recording keeps every line so far.
    Status line(const nlohmann::json& j);
    Status sample(double t_s, const std::vector<std::pair<int, Result<ProcSample>>>& rows);
    // Writes the end line and closes the file.
    Status close();
    bool is_open() const { return f_ != nullptr; }
    const std::string& path() const { return path_; }

private:
    std::FILE* f_ = nullptr;
    std::string path_;
    u64 samples_ = 0;
};

// Run-length code of page states for a "pages" line ('.', 'x', 's', 'w' per page).
std::string encode_runs(const std::string& states);

}  // namespace cowlab::live
