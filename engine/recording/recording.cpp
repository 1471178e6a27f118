// recording.cpp: reading recordings (the format: recording.h; the writer: recording_write.cpp).
#include "recording.h"

#include <algorithm>
#include <cmath>
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

// Field readers: each says which field of which line is wrong and why.
struct Line {
    const json& j;
    size_t number;
    std::string where() const { return "line " + std::to_string(number); }
    Status bad(const std::string& field, const std::string& why) const {
        return fail(Errc::malformed, where() + ": \"" + field + "\" " + why);
    }
    Status number_of(const json& o, const char* field, double& out, bool required = true) const {
        auto it = o.find(field);
        if (it == o.end()) return required ? bad(field, "is missing") : Status{};
        if (!it->is_number()) return bad(field, "must be a number");
        out = it->get<double>();
        if (!std::isfinite(out)) return bad(field, "must be finite");
        return {};
    }
    Status count_of(const json& o, const char* field, u64& out, bool required = false) const {
        auto it = o.find(field);
        if (it == o.end()) return required ? bad(field, "is missing") : Status{};
        if (it->is_number_unsigned()) out = it->get<u64>();
        else if (it->is_number_float() && it->get<double>() >= 0 && it->get<double>() < 1.8e19) out = u64(it->get<double>());
        else return bad(field, "must be a number of at least 0");
        return {};
    }
    Status int_of(const json& o, const char* field, int& out, bool required = false) const {
        double v = 0;
        if (Status st = number_of(o, field, v, required); !st) return st;
        if (o.contains(field)) {
            if (v != std::floor(v) || v < 0 || v > 2147483647.0) return bad(field, "must be a whole number");
            out = int(v);
        }
        return {};
    }
    Status text_of(const json& o, const char* field, std::string& out, bool required = false) const {
        auto it = o.find(field);
        if (it == o.end()) return required ? bad(field, "is missing") : Status{};
        if (!it->is_string()) return bad(field, "must be text");
        out = it->get<std::string>();
        return {};
    }
    Status points_of(const json& o, const char* field, std::vector<std::array<double, 2>>& out) const {
        auto it = o.find(field);
        if (it == o.end()) return {};
        if (!it->is_array()) return bad(field, "must be a list of [t, value] pairs");
        for (const json& p : *it) {
            if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number())
                return bad(field, "must be a list of [t, value] pairs");
            out.push_back({p[0].get<double>(), p[1].get<double>()});
        }
        return {};
    }
};

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

Status read_proc(const Line& L, const json& o, RecProc& p) {
    if (!o.is_object()) return L.bad("processes", "must hold objects");
    if (Status st = L.int_of(o, "pid", p.pid, true); !st) return st;
    if (Status st = L.text_of(o, "problem", p.problem); !st) return st;
    if (Status st = L.text_of(o, "error", p.error); !st) return st;
    if (!p.problem.empty()) return {};
    for (const auto& [field, out] : std::initializer_list<std::pair<const char*, u64*>>{
             {"rss", &p.rss}, {"pss", &p.pss}, {"uss", &p.uss}, {"shared_clean", &p.shared_clean},
             {"shared_dirty", &p.shared_dirty}, {"private_clean", &p.private_clean}, {"private_dirty", &p.private_dirty},
             {"anon_huge", &p.anon_huge}, {"swap", &p.swap}, {"vm_pte", &p.vm_pte}, {"min_flt", &p.min_flt},
             {"maj_flt", &p.maj_flt}})
        if (Status st = L.count_of(o, field, *out, std::string(field) == "rss"); !st) return st;
    if (Status st = L.int_of(o, "ppid", p.ppid); !st) return st;
    if (Status st = L.text_of(o, "name", p.name); !st) return st;
    return L.text_of(o, "state", p.state);
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
Status read_header(const Line& L, const json& j, Recording& r) {
    double version = 0;
    if (Status st = L.number_of(j, "version", version); !st) return st;
    if (version > 1) r.warnings.push_back("written as version " + std::to_string(int(version)) + " of the format; parts this lab does not know are skipped");
    for (auto [field, out] : std::initializer_list<std::pair<const char*, std::string*>>{
             {"source", &r.source}, {"command", &r.command}, {"started", &r.started}})
        if (Status st = L.text_of(j, field, *out); !st) return st;
    if (j.contains("host")) r.host = host_text(j["host"]);
    return {};
}

Status read_sample(const Line& L, const json& j, Recording& r) {
    RecSample s;
    if (Status st = L.number_of(j, "t_s", s.t_s); !st) return st;
    if (!j.contains("processes") || !j["processes"].is_array()) return L.bad("processes", "must be a list");
    for (const json& o : j["processes"]) {
        RecProc p;
        if (Status st = read_proc(L, o, p); !st) return st;
        s.procs.push_back(std::move(p));
    }
    if (!r.samples.empty() && s.t_s < r.samples.back().t_s) return L.bad("t_s", "goes back in time");
    r.samples.push_back(std::move(s));
    return {};
}

// page_budget: the pages the recording may still hold (Recording::kMaxPages in all).
Status read_pages(const Line& L, const json& j, Recording& r, u64& page_budget) {
    RecPages p;
    std::string runs;
    if (Status st = L.number_of(j, "t_s", p.t_s); !st) return st;
    if (Status st = L.int_of(j, "pid", p.pid, true); !st) return st;
    if (Status st = L.count_of(j, "start", p.start, true); !st) return st;
    if (Status st = L.text_of(j, "map", runs, true); !st) return st;
    if (!Recording::decode_runs(runs, p.states, page_budget))
        return L.bad("map", "must be runs like \"512x20s3.\" (count and one of . x s w), within " +
                                std::to_string(Recording::kMaxPages) + " pages in all");
    page_budget -= p.states.size();
    r.pages.push_back(std::move(p));
    return {};
}

Status read_experiment(const Line& L, const json& j, Recording& r) {
    RecExperiment e;
    if (Status st = L.text_of(j, "name", e.name, true); !st) return st;
    if (Status st = L.text_of(j, "title", e.title); !st) return st;
    if (j.contains("params")) e.params = j["params"].dump(-1, ' ', false, json::error_handler_t::replace);
    if (j.contains("rows")) {
        if (!j["rows"].is_array()) return L.bad("rows", "must be a list");
        for (const json& o : j["rows"]) {
            RecRow row;
            if (!o.is_object()) return L.bad("rows", "must hold objects");
            if (Status st = L.text_of(o, "name", row.name, true); !st) return st;
            if (Status st = L.text_of(o, "unit", row.unit); !st) return st;
            if (Status st = L.number_of(o, "measured", row.measured); !st) return st;
            if (Status st = L.number_of(o, "predicted", row.predicted); !st) return st;
            e.rows.push_back(std::move(row));
        }
    }
    if (j.contains("notes") && j["notes"].is_array())
        for (const json& n : j["notes"])
            if (n.is_string()) e.notes.push_back(n.get<std::string>());
    r.experiments.push_back(std::move(e));
    return {};
}

Status read_series(const Line& L, const json& j, Recording& r) {
    RecSeries s;
    if (Status st = L.text_of(j, "name", s.name, true); !st) return st;
    if (Status st = L.text_of(j, "unit", s.unit); !st) return st;
    if (Status st = L.points_of(j, "measured", s.measured); !st) return st;
    if (Status st = L.points_of(j, "predicted", s.predicted); !st) return st;
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
        const Line L{j, number};
        std::string type;
        if (Status st = L.text_of(j, "type", type, true); !st) return fail(st.err, file + ": " + st.message);
        Status st;
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
        if (!st) return fail(st.err, file + ": " + st.message);
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
