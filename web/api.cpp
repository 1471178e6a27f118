// api.cpp: the C functions the page calls (window.cowlab in web/static/).
// A returned string stays valid until the next call of any of them (ccall copies it).
// Actions return {"ok": true} or {"error": "why"}; they never abort.
#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "app.h"

namespace {

std::string g_returned;   // what the last call returned (valid until the next)

const char* keep(std::string s) {
    g_returned = std::move(s);
    return g_returned.c_str();
}

// An action's status for the page; an error is shown in the lab too (`shown`: what it says there).
const char* status_json(const cow::Status& st, const std::string& shown = "") {
    if (st) return keep(R"({"ok":true})");
    cowlab::app().notices.push_back(shown.empty() ? st.message : shown);
    return keep(nlohmann::json{{"error", st.message}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// The page's calls see the player's work done: an action returns when its
// step has run (the lab's own controls run it sliced between frames instead).
cowlab::Player& player() {
    cowlab::app().player.finish();
    return cowlab::app().player;
}
// An action's status once its work is done (sliced, a refusal arrives with the work).
const char* acted(const cow::Status& st) {
    cowlab::app().player.finish();
    const cow::Status refused = cowlab::app().player.take_refusal();
    if (refused.ok() || !st.ok()) return status_json(st);
    const std::string shown = cowlab::app().player.notice();   // the learner's words for it
    cowlab::app().player.clear_notice();
    return status_json(refused, shown);
}

}  // namespace

extern "C" {

const char* cowlab_version() { return cow::version(); }
const char* cowlab_info_json() { return keep(cowlab::app().info_json()); }
int cowlab_frame_count() { return int(cowlab::app().frames_drawn); }

const char* cowlab_lessons_json() {
    nlohmann::json j = nlohmann::json::array();
    for (const cowlab::LessonInfo& l : cowlab::Player::catalogue())
        j.push_back({{"id", l.id}, {"title", l.title}, {"summary", l.summary}, {"level", l.level}});
    return keep(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// id: a built-in lesson; params_json: {"name": number, ...} or ""; step: 1-based.
const char* cowlab_load_lesson(const char* id, const char* params_json, int step) {
    std::map<std::string, double> params;
    if (params_json && *params_json) {
        nlohmann::json j = nlohmann::json::parse(params_json, nullptr, false);
        if (j.is_discarded() || !j.is_object()) return status_json(cow::fail(cow::Errc::invalid_argument, "parameters must be a JSON object"));
        for (auto it = j.begin(); it != j.end(); ++it) {
            if (!it->is_number()) return status_json(cow::fail(cow::Errc::invalid_argument, "parameter " + it.key() + " must be a number"));
            params[it.key()] = it->get<double>();
        }
    }
    return acted(cowlab::app().player.load(id ? id : "", params, step - 1));
}

const char* cowlab_load_lesson_text(const char* json_text, const char* name) {
    return acted(cowlab::app().player.load_text(json_text ? json_text : "", name ? name : "lesson.json", {}));
}

const char* cowlab_open_query(const char* query) {
    cowlab::app().open_query(query ? query : "");
    player();
    return keep(nlohmann::json{{"notices", cowlab::app().notices}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

const char* cowlab_set_param(const char* name, double value) {
    return acted(player().set_param(name ? name : "", value));
}
const char* cowlab_next() { return acted(player().next()); }
const char* cowlab_back() { return acted(player().back()); }
const char* cowlab_reset() { return acted(player().reset()); }
const char* cowlab_go_to(int step) { return acted(player().go_to(step - 1)); }
const char* cowlab_answer(int checkpoint, double guess) {
    return acted(player().answer(checkpoint, guess));
}
const char* cowlab_withdraw(int checkpoint) { return acted(player().withdraw(checkpoint)); }
const char* cowlab_state_json() { return keep(player().state_json()); }
const char* cowlab_metrics_json() { return keep(player().metrics_json()); }
const char* cowlab_share_query() { return keep(player().share_query()); }

// Whether the lab's player is working between frames (this call does not wait for it).
int cowlab_busy() { return cowlab::app().player.busy() ? 1 : 0; }

// Where the controls were drawn: {"param:keys": [x0, y0, x1, y1], ...} in CSS pixels.
const char* cowlab_controls_json() {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [name, r] : cowlab::app().controls) j[name] = {r.x0, r.y0, r.x1, r.y1};
    return keep(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// Time spent in the frame function since the last call (ms): {"frames", "mean_ms", "max_ms",
// "lab_max_ms", "lab_max_parts"}: lab_max_ms leaves out GL drawing and the swap; its parts
// are that frame's update (of it the engine's work slice) and windows.
const char* cowlab_frame_stats_json() {
    cowlab::App& a = cowlab::app();
    nlohmann::json j = {{"frames", a.frame_ms_count},
                        {"mean_ms", a.frame_ms_count ? a.frame_ms_total / double(a.frame_ms_count) : 0.0},
                        {"max_ms", a.frame_ms_max},
                        {"lab_max_ms", a.lab_ms_max},
                        {"lab_max_parts", {{"update", a.lab_max_update_ms}, {"work", a.lab_max_work_ms}, {"windows", a.lab_max_draw_ms}}}};
    a.frame_ms_total = a.frame_ms_max = a.lab_ms_max = 0;
    a.lab_max_update_ms = a.lab_max_work_ms = a.lab_max_draw_ms = 0;
    a.frame_ms_count = 0;
    return keep(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// A recording's text (bytes, not NUL-terminated: the page passes a file's
// contents through the heap) replayed in place of the lesson.
const char* cowlab_open_recording(const char* bytes, int length, const char* name) {
    if (!bytes || length < 0) return status_json(cow::fail(cow::Errc::invalid_argument, "no recording was given"));
    return status_json(cowlab::app().open_recording(std::string(bytes, size_t(length)), name && *name ? name : "recording.jsonl"));
}
// A message shown in the lab (the page reports its own problems this way).
const char* cowlab_notice(const char* text) {
    cowlab::app().notices.push_back(text ? text : "");
    return status_json({});
}
const char* cowlab_close_recording() {
    cowlab::app().close_recording();
    return status_json({});
}
// Seeks the replay (seconds from its first sample) and selects a process (0: keep).
const char* cowlab_replay_seek(double t, int pid) {
    cowlab::App::Replay& r = cowlab::app().replay;
    if (!r.open) return status_json(cow::fail(cow::Errc::invalid_argument, "no recording is open"));
    if (!(t >= 0) || !std::isfinite(t)) return status_json(cow::fail(cow::Errc::invalid_argument, "time must be 0 or more seconds"));
    r.t = std::min(t, r.rec.duration_s());
    r.playing = false;
    if (pid) r.pid = pid;
    ++r.version;
    return status_json({});
}
// What the replay shows: {open, file, source, t, duration_s, sample, samples, pid, processes, experiments, warnings}.
const char* cowlab_recording_json() {
    const cowlab::App::Replay& r = cowlab::app().replay;
    nlohmann::json j = {{"open", r.open}};
    if (r.open) {
        const cow::Recording& rec = r.rec;
        j["file"] = rec.file;
        j["source"] = rec.source;
        j["command"] = rec.command;
        j["host"] = rec.host;
        j["t"] = r.t;
        j["duration_s"] = rec.duration_s();
        j["samples"] = rec.samples.size();
        j["pid"] = r.pid;
        j["warnings"] = rec.warnings;
        nlohmann::json procs = nlohmann::json::array();
        if (!rec.samples.empty()) {
            const size_t i = rec.sample_at(rec.samples.front().t_s + r.t);
            j["sample"] = i;
            for (const cow::RecProc& p : rec.samples[i].procs)
                procs.push_back({{"pid", p.pid}, {"ppid", p.ppid}, {"name", p.name}, {"rss", p.rss}, {"pss", p.pss},
                                 {"uss", p.uss}, {"private_dirty", p.private_dirty}, {"problem", p.problem}});
        }
        j["processes"] = procs;
        cow::u64 pages = 0;
        for (const cow::RecPages* p : rec.pages_at(r.pid, (rec.samples.empty() ? 0 : rec.samples.front().t_s) + r.t)) pages += p->states.size();
        j["pages_shown"] = pages;
        nlohmann::json exps = nlohmann::json::array();
        for (const cow::RecExperiment& e : rec.experiments) exps.push_back({{"name", e.name}, {"rows", e.rows.size()}});
        j["experiments"] = exps;
    }
    return keep(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// Cells of the physical-memory map, in CSS pixels per frame (1 .. 48).
const char* cowlab_set_zoom(double px) {
    if (!(px >= 1 && px <= 48)) return status_json(cow::fail(cow::Errc::invalid_argument, "zoom must be 1 .. 48 pixels per frame"));
    cowlab::app().page_map.cell_px = float(px);
    cowlab::app().page_map.first_frame = 0;
    return status_json({});
}

// What the mapping view shows (its query finished first): the processes, the
// range, and its rows, each with every process's entries and the frames they map.
const char* cowlab_mapping_json() {
    player();
    return keep(cowlab::app().mapping_window.json(cowlab::app()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// {"processes": ["parent", "child"], "from": address, "to": address}: what the
// mapping view shows; a field left out keeps what it shows now.
const char* cowlab_set_mapping(const char* text) {
    cowlab::App& a = cowlab::app();
    player();
    nlohmann::json j = nlohmann::json::parse(text ? text : "", nullptr, false);
    if (!j.is_object()) return status_json(cow::fail(cow::Errc::invalid_argument, "setMapping: give an object {processes, from, to}"));
    (void)a.mapping_window.json(a);   // the defaults of this step are chosen first
    std::vector<std::string> names = a.mapping_window.names;
    if (j.contains("processes")) {
        const nlohmann::json& p = j["processes"];
        if (!p.is_array() || p.empty() || p.size() > cow::kMaxMappingPids)
            return status_json(cow::fail(cow::Errc::invalid_argument, "setMapping: processes must be 1 to 8 names"));
        names.clear();
        for (const nlohmann::json& n : p) {
            if (!n.is_string() || a.player.run().pid_of(n.get<std::string>()) == cow::kNoPid)
                return status_json(cow::fail(cow::Errc::invalid_argument, "setMapping: no process named " + n.dump()));
            names.push_back(n.get<std::string>());
        }
    }
    auto whole = a.mapping_window.zoom;
    if (j.contains("from") || j.contains("to")) {
        if (!j.value("from", nlohmann::json()).is_number_unsigned() || !j.value("to", nlohmann::json()).is_number_unsigned())
            return status_json(cow::fail(cow::Errc::invalid_argument, "setMapping: from and to must both be addresses (whole numbers)"));
        const cow::u64 from = j["from"].get<cow::u64>(), to = j["to"].get<cow::u64>();
        if ((from | to) & (cow::kPageSize - 1) || from >= to || to > cow::kUserTop)
            return status_json(cow::fail(cow::Errc::bad_address, "setMapping: from and to must be page aligned, from below to, in user space"));
        if (whole.empty()) whole.push_back({from, to});
        else whole.resize(1);
        if (whole.front() != std::make_pair(from, to)) whole.push_back({from, to});
    }
    a.mapping_window.names = names;
    a.mapping_window.zoom = whole;
    return status_json({});
}

// view: "mapping", "memory", "address", "metrics" or "events": the tab shown beside the lesson.
const char* cowlab_show_view(const char* view) {
    const std::string v = view ? view : "";
    if (cowlab::app().replay.open) {
        if (v != "pages" && v != "metrics") return status_json(cow::fail(cow::Errc::invalid_argument, "a recording shows the views pages and metrics, not '" + v + "'"));
        cowlab::app().show_view = v == "pages" ? "Pages" : "Metrics";
        return status_json({});
    }
    const char* label = v == "mapping" ? "Mapping" : v == "memory" ? "Physical memory" : v == "address" ? "Address space" : v == "metrics" ? "Metrics" : v == "events" ? "Events" : nullptr;
    if (!label) return status_json(cow::fail(cow::Errc::invalid_argument, "no view '" + v + "' (mapping, memory, address, metrics, events)"));
    cowlab::app().show_view = label;
    return status_json({});
}

}  // extern "C"
