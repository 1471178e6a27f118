// recording.cpp: reading recordings (the format: recording.h; the writer: recording_write.cpp).
#include "recording.h"

#include "json_reader.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

namespace cow {

using nlohmann::json;

const RecProc* RecSample::find(int pid) const {
    for (const RecProc& p : procs)
        if (p.pid == pid) return &p;
    return nullptr;
}

namespace {

// A list of [t, value] pairs; absent: out stays empty.
JsonStatus points_of(const JsonReader& L, const json& o, const char* field, std::vector<std::array<double, 2>>& out) {
    const json* a = nullptr;
    if (JsonStatus st = L.array(o, field, a); !st) return L.error(field, "must be a list of [t, value] pairs");
    for (std::size_t i = 0; a && i < a->size(); ++i) {
        const json& p = (*a)[i];
        if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number())
            return L.error(field, "must be a list of [t, value] pairs");
        out.push_back({p[0].get<double>(), p[1].get<double>()});
    }
    return {};
}

std::string host_text(const json& h) {
    if (!h.is_object()) return "";
    auto str = [&](const char* k) { return h.contains(k) && h[k].is_string() ? h[k].get<std::string>() : std::string(); };
    std::string out = str("hostname");
    if (!str("kernel").empty()) {
        if (!out.empty()) out += ": ";
        out += "Linux ";
        out += str("kernel");
    }
    if (!str("machine").empty()) {
        out += ' ';
        out += str("machine");
    }
    if (h.contains("cpus") && h["cpus"].is_number()) out += ", " + std::to_string(h["cpus"].get<long>()) + " CPUs";
    if (h.contains("mem_total") && h["mem_total"].is_number_unsigned()) out += ", " + format_bytes(h["mem_total"].get<u64>()) + " RAM";
    return out;
}

JsonStatus read_proc(const JsonReader& L, const json& o, RecProc& p) {
    if (!o.is_object()) return L.error("processes", "must hold objects");
    if (JsonStatus st = L.whole(o, "pid", p.pid, kRequired); !st) return st;
    if (JsonStatus st = L.str(o, "problem", p.problem); !st) return st;
    if (JsonStatus st = L.str(o, "error", p.error); !st) return st;
    if (!p.problem.empty()) return {};
    for (const auto& [field, out] : std::initializer_list<std::pair<const char*, u64*>>{
             {"rss", &p.rss}, {"pss", &p.pss}, {"uss", &p.uss}, {"shared_clean", &p.shared_clean},
             {"shared_dirty", &p.shared_dirty}, {"private_clean", &p.private_clean}, {"private_dirty", &p.private_dirty},
             {"anon_huge", &p.anon_huge}, {"swap", &p.swap}, {"vm_pte", &p.vm_pte}, {"min_flt", &p.min_flt},
             {"maj_flt", &p.maj_flt}})
        if (JsonStatus st = L.count(o, field, *out, {.required = std::string(field) == "rss"}); !st) return st;
    if (JsonStatus st = L.whole(o, "ppid", p.ppid); !st) return st;
    if (JsonStatus st = L.str(o, "name", p.name); !st) return st;
    return L.str(o, "state", p.state);
}

}  // namespace

bool Recording::decode_runs(const std::string& runs, std::string& out, u64 limit) {
    out.clear();
    u64 n = 0;
    bool have_digits = false;
    for (char c : runs) {
        if (c >= '0' && c <= '9') {
            n = n * 10 + u64(c - '0');
            have_digits = true;
            if (n > limit) return false;
            continue;
        }
        if (!have_digits || (c != '.' && c != 'x' && c != 's' && c != 'w')) return false;
        if (out.size() + n > limit) return false;
        out.append(size_t(n), c);
        n = 0;
        have_digits = false;
    }
    return !have_digits;
}

namespace {

// One function per line type: each reads its line into r, or says what is wrong.
JsonStatus read_header(const JsonReader& L, const json& j, Recording& r) {
    double version = 0;
    if (JsonStatus st = L.number(j, "version", version, kRequired); !st) return st;
    if (version > 1) r.warnings.push_back("written as version " + std::to_string(int(version)) + " of the format; parts this lab does not know are skipped");
    for (auto [field, out] : std::initializer_list<std::pair<const char*, std::string*>>{
             {"source", &r.source}, {"command", &r.command}, {"started", &r.started}})
        if (JsonStatus st = L.str(j, field, *out); !st) return st;
    if (j.contains("host")) r.host = host_text(j["host"]);
    return {};
}

JsonStatus read_sample(const JsonReader& L, const json& j, Recording& r) {
    RecSample s;
    const json* procs = nullptr;
    if (JsonStatus st = L.number(j, "t_s", s.t_s, kRequired); !st) return st;
    if (JsonStatus st = L.array(j, "processes", procs, kRequired); !st) return L.error("processes", "must be a list");
    for (const json& o : *procs) {
        RecProc p;
        if (JsonStatus st = read_proc(L, o, p); !st) return st;
        s.procs.push_back(std::move(p));
    }
    if (!r.samples.empty() && s.t_s < r.samples.back().t_s) return L.error("t_s", "goes back in time");
    r.samples.push_back(std::move(s));
    return {};
}

// page_budget: the pages the recording may still hold (Recording::kMaxPages in all).
JsonStatus read_pages(const JsonReader& L, const json& j, Recording& r, u64& page_budget) {
    RecPages p;
    std::string runs;
    if (JsonStatus st = L.number(j, "t_s", p.t_s, kRequired); !st) return st;
    if (JsonStatus st = L.whole(j, "pid", p.pid, kRequired); !st) return st;
    if (JsonStatus st = L.count(j, "start", p.start, kRequired); !st) return st;
    if (JsonStatus st = L.str(j, "map", runs, kRequired); !st) return st;
    if (!Recording::decode_runs(runs, p.states, page_budget))
        return L.error("map", "must be runs like \"512x20s3.\" (count and one of . x s w), within " +
                                  std::to_string(Recording::kMaxPages) + " pages in all");
    page_budget -= p.states.size();
    r.pages.push_back(std::move(p));
    return {};
}

JsonStatus read_experiment(const JsonReader& L, const json& j, Recording& r) {
    RecExperiment e;
    const json* rows = nullptr;
    if (JsonStatus st = L.str(j, "name", e.name, kRequired); !st) return st;
    if (JsonStatus st = L.str(j, "title", e.title); !st) return st;
    if (j.contains("params")) e.params = j["params"].dump(-1, ' ', false, json::error_handler_t::replace);
    if (JsonStatus st = L.array(j, "rows", rows); !st) return st;
    for (std::size_t i = 0; rows && i < rows->size(); ++i) {
        const json& o = (*rows)[i];
        RecRow row;
        if (!o.is_object()) return L.error("rows", "must hold objects");
        if (JsonStatus st = L.str(o, "name", row.name, kRequired); !st) return st;
        if (JsonStatus st = L.str(o, "unit", row.unit); !st) return st;
        if (JsonStatus st = L.number(o, "measured", row.measured, kRequired); !st) return st;
        if (JsonStatus st = L.number(o, "predicted", row.predicted, kRequired); !st) return st;
        e.rows.push_back(std::move(row));
    }
    if (j.contains("notes") && j["notes"].is_array())
        for (const json& n : j["notes"])
            if (n.is_string()) e.notes.push_back(n.get<std::string>());
    r.experiments.push_back(std::move(e));
    return {};
}

JsonStatus read_series(const JsonReader& L, const json& j, Recording& r) {
    RecSeries s;
    if (JsonStatus st = L.str(j, "name", s.name, kRequired); !st) return st;
    if (JsonStatus st = L.str(j, "unit", s.unit); !st) return st;
    if (JsonStatus st = points_of(L, j, "measured", s.measured); !st) return st;
    if (JsonStatus st = points_of(L, j, "predicted", s.predicted); !st) return st;
    r.series.push_back(std::move(s));
    return {};
}

}  // namespace

Result<Recording> Recording::parse(const std::string& text, const std::string& file) {
    Recording r;
    r.file = file;
    if (text.size() > kMaxBytes)
        return fail(Errc::invalid_argument, file + ": " + format_bytes(text.size()) + " is more than a recording may be (" + format_bytes(kMaxBytes) + ")");
    u64 page_budget = kMaxPages;
    size_t number = 0;
    bool header = false;
    for (size_t at = 0; at < text.size();) {
        size_t nl = text.find('\n', at);
        const bool last = nl == std::string::npos;
        if (last) nl = text.size();
        std::string_view raw(text.data() + at, nl - at);
        at = nl + 1;
        ++number;
        while (!raw.empty() && (raw.back() == '\r' || raw.back() == ' ' || raw.back() == '\t')) raw.remove_suffix(1);
        if (raw.empty()) continue;
        json j = json::parse(raw.begin(), raw.end(), nullptr, false);
        if (j.is_discarded() || !j.is_object()) {
            if (last && header) {   // cut short while being written
                r.warnings.push_back("line " + std::to_string(number) + " is incomplete (the recording was interrupted?); it was left out");
                break;
            }
            return fail(Errc::malformed, file + ": line " + std::to_string(number) + " is not a JSON object");
        }
        // Messages in the quoted style: "line 2: \"t_s\" is missing".
        const JsonReader L(JsonStyle::quoted, "line " + std::to_string(number));
        std::string type;
        JsonStatus st = L.str(j, "type", type, kRequired);
        if (!st) return fail(Errc::malformed, file + ": " + st.message);
        if (!header) {
            if (type != "header" || !j.contains("format") || !j["format"].is_string() || j["format"] != "cowlab-recording")
                return fail(Errc::malformed, file + ": not a cowlab recording (its first line must be the header {\"type\":\"header\",\"format\":\"cowlab-recording\",...})");
            st = read_header(L, j, r);
            header = true;
        } else if (type == "sample") {
            st = read_sample(L, j, r);
        } else if (type == "pages") {
            st = read_pages(L, j, r, page_budget);
        } else if (type == "experiment") {
            st = read_experiment(L, j, r);
        } else if (type == "series") {
            st = read_series(L, j, r);
        } else if (type == "end") {
            r.ended = true;
        } else if (type == "header") {
            return fail(Errc::malformed, file + ": line " + std::to_string(number) + ": a second header");
        }   // other types: a later version's; skipped
        if (!st) return fail(Errc::malformed, file + ": " + st.message);
    }
    if (!header) return fail(Errc::malformed, file + ": empty: a recording starts with its header line");
    if (!r.ended) r.warnings.push_back("the recording has no end line: it was interrupted, or is still being written");
    if (r.samples.empty() && r.experiments.empty()) r.warnings.push_back("the recording holds no samples and no experiment");
    return r;
}

size_t Recording::sample_at(double t_s) const {
    if (samples.empty()) return 0;
    auto it = std::upper_bound(samples.begin(), samples.end(), t_s, [](double t, const RecSample& s) { return t < s.t_s; });
    return it == samples.begin() ? 0 : size_t(it - samples.begin()) - 1;
}

std::vector<const RecPages*> Recording::pages_at(int pid, double t_s) const {
    std::map<u64, const RecPages*> latest;
    for (const RecPages& p : pages)
        if (p.pid == pid && (p.t_s <= t_s || !latest.count(p.start))) latest[p.start] = &p;
    std::vector<const RecPages*> out;
    for (auto& [start, p] : latest) out.push_back(p);
    return out;
}

}  // namespace cow
