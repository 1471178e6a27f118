// recording_write.cpp: writing recordings, line by line (the format: recording.h).
#include <nlohmann/json.hpp>

#include "recording.h"

namespace cow {

using nlohmann::json;

namespace {

std::string text_of(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

json host_json(const RecHost& h) {
    json j = json::object();
    if (!h.kernel.empty()) j["kernel"] = h.kernel;
    if (!h.machine.empty()) j["machine"] = h.machine;
    if (!h.hostname.empty()) j["hostname"] = h.hostname;
    if (h.page_size) j["page_size"] = h.page_size;
    if (h.cpus) j["cpus"] = h.cpus;
    if (h.mem_total) j["mem_total"] = h.mem_total;
    return j;
}

json proc_json(const RecProc& p) {
    if (!p.problem.empty()) return {{"pid", p.pid}, {"problem", p.problem}, {"error", p.error}};
    return {{"pid", p.pid},
            {"ppid", p.ppid},
            {"name", p.name},
            {"state", p.state},
            {"rss", p.rss},
            {"pss", p.pss},
            {"uss", p.uss},
            {"shared_clean", p.shared_clean},
            {"shared_dirty", p.shared_dirty},
            {"private_clean", p.private_clean},
            {"private_dirty", p.private_dirty},
            {"anon_huge", p.anon_huge},
            {"swap", p.swap},
            {"vm_pte", p.vm_pte},
            {"min_flt", p.min_flt},
            {"maj_flt", p.maj_flt}};
}

json points_json(const std::vector<std::array<double, 2>>& pts) {
    json out = json::array();
    for (const auto& p : pts) out.push_back(json::array({p[0], p[1]}));
    return out;
}

}  // namespace

std::string Recording::encode_runs(const std::string& states) {
    std::string out;
    for (size_t i = 0; i < states.size();) {
        size_t j = i;
        while (j < states.size() && states[j] == states[i]) ++j;
        out += std::to_string(j - i);
        out += states[i];
        i = j;
    }
    return out;
}

namespace rec_line {

std::string header(const std::string& source, const std::string& command, const std::string& started, const RecHost& host) {
    json j = {{"type", "header"}, {"format", "cowlab-recording"}, {"version", 1}, {"source", source}, {"command", command}};
    if (!started.empty()) j["started"] = started;
    j["host"] = host_json(host);
    return text_of(j);
}

std::string sample(const RecSample& s) {
    json procs = json::array();
    for (const RecProc& p : s.procs) procs.push_back(proc_json(p));
    return text_of({{"type", "sample"}, {"t_s", s.t_s}, {"processes", procs}});
}

std::string pages(const RecPages& p) {
    return text_of({{"type", "pages"}, {"t_s", p.t_s}, {"pid", p.pid}, {"start", p.start}, {"map", Recording::encode_runs(p.states)}});
}

std::string experiment(const RecExperiment& e) {
    json rows = json::array();
    for (const RecRow& r : e.rows) rows.push_back({{"name", r.name}, {"measured", r.measured}, {"predicted", r.predicted}, {"unit", r.unit}});
    json params = json::parse(e.params, nullptr, false);
    if (params.is_discarded() || !params.is_object()) params = json::object();
    return text_of({{"type", "experiment"}, {"name", e.name}, {"title", e.title}, {"params", params}, {"rows", rows}, {"notes", e.notes}});
}

std::string series(const RecSeries& s) {
    return text_of({{"type", "series"}, {"name", s.name}, {"unit", s.unit}, {"measured", points_json(s.measured)},
                    {"predicted", points_json(s.predicted)}});
}

std::string end(u64 samples) { return text_of({{"type", "end"}, {"samples", samples}}); }

}  // namespace rec_line

}  // namespace cow
