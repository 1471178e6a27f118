// app.cpp: the lab: the window layout, URL parameters, and what the page hears.
#include "app.h"

#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "imgui.h"
#include "text.h"
#include "platform.h"

namespace cowlab {

// The one lab: the platform loop and the page's C API (api.cpp) reach it here.
// Built on first use, so never before the engine's own tables.
App& app() {
    static App instance;
    return instance;
}

// The lab's player works between frames, within what the platform's memory allows, and
// refuses an operation over more than 2^26 pages (256 GiB of 4 KiB pages, far past every
// built-in lesson's maximum: a hostile or careless lesson's 64 TiB read is said so at once).
App::App() {
    player.set_sliced(true);
    player.set_work_limit(cow::u64{1} << 26);
    player.set_memory_limit(platform::engine_memory_limit());
    if (platform::engine_memory_limit()) player.set_snapshot_budget(platform::engine_memory_limit() / 4);
}

void App::init() {
    std::string error;
    if (!page_map.init(&error)) gl_error = "the page map cannot be drawn: " + error;
    if (!player.loaded()) {
        if (cow::Status st = player.load(kDefaultLesson, {}); !st) notices.push_back(st.message);
    }
    lesson_window.lessons = Player::catalogue();
}

namespace {
std::string url_decode(const std::string& s) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') out += ' ';
        else if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
                 std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
            out += char(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16));
            i += 2;
        } else out += s[i];
    }
    return out;
}

using cow::parse_number;
}  // namespace

void App::open_query(const std::string& query) {
    std::string lesson = kDefaultLesson, step_text;
    std::vector<std::pair<std::string, std::string>> rest;
    std::string q = query.size() > 4096 ? query.substr(0, 4096) : query;
    if (!q.empty() && q[0] == '?') q.erase(0, 1);
    for (size_t at = 0; at <= q.size();) {
        size_t amp = q.find('&', at);
        if (amp == std::string::npos) amp = q.size();
        std::string part = q.substr(at, amp - at);
        at = amp + 1;
        if (part.empty()) continue;
        size_t eq = part.find('=');
        std::string key = url_decode(part.substr(0, eq)), value = eq == std::string::npos ? "" : url_decode(part.substr(eq + 1));
        if (key == "lesson") lesson = value;
        else if (key == "recording") continue;   // the page fetches it (cowlab-page.js)
        else if (key == "step") step_text = value;
        else if (key == "embed") embed = value == "1" || value == "true";
        else if (key == "view") {
            if (value == "mapping" || value == "memory" || value == "address" || value == "metrics" || value == "events")
                show_view = value == "mapping" ? "Mapping" : value == "memory" ? "Physical memory" : value == "address" ? "Address space" : value == "metrics" ? "Metrics" : "Events";
            else notices.push_back("URL: view=" + value + " is not one of mapping, memory, address, metrics, events; ignored");
        }
        else rest.push_back({key, value});
    }
    std::vector<LessonInfo> all = Player::catalogue();
    bool known = false;
    for (const LessonInfo& l : all) known |= l.id == lesson;
    if (!known) {
        notices.push_back("URL: there is no lesson '" + lesson + "'; showing " + kDefaultLesson + " instead");
        lesson = kDefaultLesson;
    }
    // Load with defaults first to learn the parameters, then apply the valid ones.
    if (cow::Status st = player.load(lesson, {}); !st) {
        notices.push_back("URL: " + st.message);
        return;
    }
    std::map<std::string, double> params;
    for (const auto& [key, value] : rest) {
        const cow::LessonParam* p = player.lesson().param(key);
        double v = 0;
        if (!p) notices.push_back("URL: lesson " + lesson + " has no parameter '" + key + "'; ignored");
        else if (!parse_number(value, v)) notices.push_back("URL: " + key + "=" + value + " is not a number; ignored");
        else if (std::string why = cow::param_out_of_range(*p, v); !why.empty()) notices.push_back("URL: " + why + "; ignored");
        else params[key] = v;
    }
    int step = 0;
    if (!step_text.empty()) {
        double s = 0;
        const int steps = int(player.lesson().steps.size());
        if (!parse_number(step_text, s) || s != std::floor(s) || s < 1 || s > steps)
            notices.push_back("URL: step=" + step_text + " is not a step of this lesson (1 to " + std::to_string(steps) + "); ignored");
        else step = int(s) - 1;
    }
    if (cow::Status st = player.load(lesson, params, step); !st) {
        notices.push_back("URL: " + st.message + "; using the lesson's defaults");
        if (cow::Status again = player.load(lesson, {}); !again) notices.push_back(again.message);
    }
}

cow::Status App::open_recording(const std::string& text, const std::string& name) {
    cow::Result<cow::Recording> r = cow::Recording::parse(text, name);
    if (!r) return r.status();
    replay = Replay{};
    replay.rec = std::move(r.value());
    replay.open = true;
    if (!replay.rec.samples.empty() && !replay.rec.samples.front().procs.empty()) replay.pid = replay.rec.samples.front().procs.front().pid;
    if (!replay.rec.pages.empty()) replay.pid = replay.rec.pages.front().pid;
    replay.version = 1;
    page_map_version = -1;
    show_view = replay.rec.pages.empty() ? "Metrics" : "Pages";   // what the recording has to show
    std::string text_out = "Opened the recording " + name + ": " + std::to_string(replay.rec.samples.size()) + " samples";
    if (!replay.rec.experiments.empty()) text_out += ", experiment " + replay.rec.experiments.front().name;
    platform::announce(text_out + ".", nlohmann::json{{"type", "recording-opened"}, {"file", name}}.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    return {};
}

void App::close_recording() {
    if (!replay.open) return;
    replay = Replay{};
    page_map_version = -1;
    announced_version = -1;   // tell the page about the lesson again
}

void App::note_control(const std::string& name) {
    const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    controls[name] = Rect{a.x, a.y, b.x, b.y};
}

void App::update(double dt) {
    if (replay.open) update_replay(dt);
    else update_lesson(dt);
}

// Play: one step every 3 seconds, revealing answers on the way; stops at the end.
// Then the page hears of whatever changed the lesson (a click, Play, the API).
void App::update_lesson(double dt) {
    // The player's work runs in slices of a few milliseconds, the lab drawing between them.
    work_ms = 0;
    if (player.busy()) {
        const auto t0 = cow::Budget::Clock::now();
        player.work(cow::Budget::until(t0 + std::chrono::milliseconds(kWorkSliceMs)));
        work_ms = std::chrono::duration<double, std::milli>(cow::Budget::Clock::now() - t0).count();
    }
    // A page picked in one lesson means nothing in another: the pick goes with it.
    if (player.loaded() && player.lesson().id != focus_lesson) {
        focus_lesson = player.lesson().id;
        if (focus.pid != cow::kNoPid || focus.frame != cow::kNoFrame) focus_on(cow::kNoPid, 0, cow::kNoFrame);
    }
    if (!player.notice().empty()) {
        notices.push_back(player.notice());
        player.clear_notice();
        (void)player.take_refusal();   // said in the notice
    }
    if (playing && !player.busy()) {
        play_clock += dt;
        if (play_clock >= 3.0) {
            play_clock = 0;
            if (cow::Status st = player.next(); !st) notices.push_back(st.message);
            if (player.at_end()) playing = false;
        }
    }
    if (!player.busy() && player.version() != announced_version) {   // told once the work is done
        announced_version = player.version();
        std::string text;
        if (player.loaded()) {
            text = player.lesson().title + ". Step " + std::to_string(player.current() + 1) + " of " +
                   std::to_string(player.lesson().steps.size()) + ": " + player.lesson().steps[size_t(player.current())].title + ". ";
            if (player.ran()) text += player.narrative();
            for (const Player::CheckpointView& c : player.checkpoints()) {
                text += " Question: " + c.question;
                if (c.revealed) text += " Answer: " + c.answer_text + ". " + c.explain;
            }
        }
        platform::announce(text, player.state_json());
    }
}

// Live mode: a new sample every interval (the newest shown while following).
// A replay's Play: the time shown runs at the recording's own pace.
void App::update_replay(double dt) {
    Replay& R = replay;
    if (R.live_sampler) {
        R.live_clock += dt;
        if (R.live_clock >= R.live_interval_s || R.rec.samples.empty()) {
            R.live_clock = 0;
            if (cow::Status st = R.live_sampler(R.rec); !st) {
                if (notices.empty() || notices.back() != st.message) notices.push_back(st.message);
            }
            ++R.version;
            if (R.follow && !R.rec.samples.empty()) R.t = R.rec.duration_s();
        }
    } else if (R.playing && !R.rec.samples.empty()) {
        const double total = R.rec.duration_s();
        R.t += dt;
        ++R.version;
        if (R.t >= total) {
            R.t = total;
            R.playing = false;
        }
    }
}

void App::draw() {
    const ImGuiViewport* vp = ImGui::GetMainViewport();
    const float pad = embed ? 2.0f : 8.0f;
    const float W = vp->WorkSize.x, H = vp->WorkSize.y;
    const float left_w = std::max(320.0f, std::floor(W * 0.42f));
    const ImGuiWindowFlags fixed = ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoResize | ImGuiWindowFlags_NoCollapse |
                                   ImGuiWindowFlags_NoSavedSettings;
    const bool wide = W >= 760;   // side by side down to 800x600; stacked below that
    // Lesson on the left (or on top when narrow); processes and memory on the right.
    ImGui::SetNextWindowPos(ImVec2(vp->WorkPos.x + pad, vp->WorkPos.y + pad), ImGuiCond_Always);
    ImGui::SetNextWindowSize(wide ? ImVec2(left_w - 1.5f * pad, H - 2 * pad) : ImVec2(W - 2 * pad, H * 0.5f - 1.5f * pad),
                             ImGuiCond_Always);
    const bool rec = replay.open;
    if (ImGui::Begin(rec ? "Recording###left" : "Lesson###left", nullptr, fixed)) {
        if (rec) recording_window.draw(*this);
        else lesson_window.draw(*this);
    }
    ImGui::End();
    const ImVec2 right_pos = wide ? ImVec2(vp->WorkPos.x + left_w + 0.5f * pad, vp->WorkPos.y + pad)
                                  : ImVec2(vp->WorkPos.x + pad, vp->WorkPos.y + H * 0.5f + 0.5f * pad);
    const ImVec2 right_size = wide ? ImVec2(W - left_w - 1.5f * pad, H - 2 * pad) : ImVec2(W - 2 * pad, H * 0.5f - 1.5f * pad);
    const float proc_h = std::floor(right_size.y * (wide ? 0.42f : 0.36f));   // narrow: the views need the height more
    ImGui::SetNextWindowPos(right_pos, ImGuiCond_Always);
    ImGui::SetNextWindowSize(ImVec2(right_size.x, proc_h - 0.5f * pad), ImGuiCond_Always);
    if (ImGui::Begin("Processes", nullptr, fixed)) {
        if (rec) recording_window.draw_processes(*this);
        else processes_window.draw(*this);
    }
    ImGui::End();
    ImGui::SetNextWindowPos(ImVec2(right_pos.x, right_pos.y + proc_h + 0.5f * pad), ImGuiCond_Always);
    ImGui::SetNextWindowSize(ImVec2(right_size.x, right_size.y - proc_h - 0.5f * pad), ImGuiCond_Always);
    if (ImGui::Begin("Memory", nullptr, fixed) && ImGui::BeginTabBar("views")) {
        auto tab = [&](const char* label, auto&& draw_view) {
            const ImGuiTabItemFlags f = show_view == label ? ImGuiTabItemFlags_SetSelected : 0;
            if (ImGui::BeginTabItem(label, nullptr, f)) {
                draw_view();
                ImGui::EndTabItem();
            }
        };
        if (rec) {
            tab("Pages", [&] { recording_window.draw_pages(*this); });
            tab("Metrics", [&] { recording_window.draw_metrics(*this); });
        } else {
            tab("Mapping", [&] { mapping_window.draw(*this); });
            tab("Physical memory", [&] { memory_window.draw(*this); });
            tab("Address space", [&] { address_window.draw(*this); });
            tab("Metrics", [&] { metrics_window.draw(*this); });
            tab("Events", [&] { events_window.draw(*this); });
        }
        show_view.clear();
        ImGui::EndTabBar();
    }
    ImGui::End();
    ++frames_drawn;
}

void App::draw_notices() {
    for (size_t i = 0; i < notices.size();) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImVec4(1.0f, 0.72f, 0.45f, 1.0f));
        text_wrapped("%s", notices[i].c_str());
        ImGui::PopStyleColor();
        ImGui::SameLine();
        ImGui::PushID(int(i));
        if (ImGui::SmallButton("dismiss")) notices.erase(notices.begin() + long(i));
        else ++i;
        ImGui::PopID();
    }
}

void App::pick_recording() {
    if (std::string how = platform::pick_recording(); !how.empty()) notices.push_back(how);
}

std::string App::info_json() const {
    const cow::Machine& m = player.run().machine();
    const cow::MemInfo mi = m.meminfo();
    nlohmann::json j = {
        {"version", cow::version()},
        {"lesson", player.loaded() ? player.lesson().id : ""},
        {"ram_bytes", mi.total},
        {"total_frames", m.frames().total()},
        {"free_frames", m.frames().free_count()},
        {"processes", m.pids().size()},
        {"committed_as", mi.committed_as},
        {"notices", notices},
    };
    if (!gl_error.empty()) j["gl_error"] = gl_error;
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace cowlab
