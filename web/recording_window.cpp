// recording_window.cpp: RecordingWindow (windows.h): a recording of real
// processes, replayed (or, in live mode, filled as it is sampled): its
// controls and experiment (draw), the process table at the time shown
// (draw_processes), the selected process's pages (draw_pages), figures over
// time (draw_metrics). The replay's Play and the live samples advance in
// App::update.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "app.h"
#include "imgui.h"
#include "text.h"

namespace cowlab {

namespace {

constexpr size_t kMaxCells = size_t{4} << 20;   // pages drawn at most (the map's texture height)

const cow::RecSample* shown_sample(const App::Replay& r) {
    if (r.rec.samples.empty()) return nullptr;
    return &r.rec.samples[r.rec.sample_at(r.rec.samples.front().t_s + r.t)];
}

// Two lines in one plot: measured (solid) and the engine's (lighter), against time.
void plot_pair(const char* label, const std::vector<std::array<double, 2>>& a, const std::vector<std::array<double, 2>>& b,
               const std::string& unit, double t_now) {
    const float w = ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ScrollbarSize, h = 90.0f;
    double t0 = 1e300, t1 = -1e300, hi = 0;
    for (const auto* v : {&a, &b})
        for (const auto& p : *v) {
            t0 = std::min(t0, p[0]);
            t1 = std::max(t1, p[0]);
            hi = std::max(hi, p[1]);
        }
    if (t0 > t1) return;
    if (t1 <= t0) t1 = t0 + 1;
    if (hi <= 0) hi = 1;
    ImGui::TextUnformatted(label);
    const ImVec2 o = ImGui::GetCursorScreenPos();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddRectFilled(o, ImVec2(o.x + w, o.y + h), IM_COL32(30, 32, 38, 255));
    auto xy = [&](const std::array<double, 2>& p) {
        return ImVec2(o.x + float((p[0] - t0) / (t1 - t0)) * (w - 2) + 1, o.y + h - 2 - float(p[1] / (hi * 1.1)) * (h - 4));
    };
    const ImU32 colours[2] = {IM_COL32(250, 190, 70, 255), IM_COL32(110, 170, 240, 255)};
    for (int k = 0; k < 2; ++k) {
        const auto& v = k == 0 ? a : b;
        for (size_t i = 1; i < v.size(); ++i) dl->AddLine(xy(v[i - 1]), xy(v[i]), colours[k], 2.0f);
        if (v.size() == 1) dl->AddCircleFilled(xy(v[0]), 3.0f, colours[k]);
    }
    if (t_now >= t0 && t_now <= t1) {
        const float x = o.x + float((t_now - t0) / (t1 - t0)) * (w - 2) + 1;
        dl->AddLine(ImVec2(x, o.y), ImVec2(x, o.y + h), IM_COL32(200, 200, 200, 90));
    }
    ImGui::Dummy(ImVec2(w, h));
    const std::string top = cow::format_measured(hi, unit);
    ImGui::TextColored(ImVec4(0.98f, 0.75f, 0.27f, 1), "%s", b.empty() ? "recorded" : "measured");
    if (!b.empty()) {
        ImGui::SameLine();
        ImGui::TextColored(ImVec4(0.43f, 0.67f, 0.94f, 1), "engine");
    }
    ImGui::SameLine();
    ImGui::TextDisabled("top %s, %.2f s", top.c_str(), t1 - t0);
}

}  // namespace

void RecordingWindow::draw(App& app) {
    App::Replay& R = app.replay;
    const cow::Recording& rec = R.rec;
    app.draw_notices();
    const bool live = bool(R.live_sampler);
    ImGui::PushTextWrapPos(0);
    ImGui::Text("%s %s", live ? "Live:" : "Recording:", rec.file.c_str());
    ImGui::TextDisabled("%s%s%s", rec.command.c_str(), rec.host.empty() ? "" : "  |  ", rec.host.c_str());
    if (!rec.started.empty()) ImGui::TextDisabled("started %s", rec.started.c_str());
    ImGui::PopTextWrapPos();
    for (const std::string& w : rec.warnings) ImGui::TextColored(ImVec4(1.0f, 0.72f, 0.45f, 1.0f), "%s", w.c_str());

    if (!live && ImGui::Button("Close recording")) {
        app.close_recording();
        return;
    }
    if (!live) {
        ImGui::SameLine();
        if (ImGui::Button("Open another...")) app.pick_recording();
    }
    // The time shown: a slider over the samples, Play runs it at its own pace.
    if (!rec.samples.empty()) {
        const double total = rec.duration_s();
        if (!live) {
            if (ImGui::Button(R.playing ? "Pause" : "Play")) {
                if (!R.playing && R.t >= total) R.t = 0;
                R.playing = !R.playing;
            }
            ImGui::SameLine();
        } else {
            ImGui::Checkbox("follow", &R.follow);
            ImGui::SameLine();
        }
        float t = float(R.t);
        ImGui::SetNextItemWidth(-1);
        if (ImGui::SliderFloat("##time", &t, 0.0f, float(std::max(total, 1e-3)), "t = %.2f s")) {
            R.t = double(t);
            R.playing = false;
            R.follow = false;
            ++R.version;
        }
        const size_t i = rec.sample_at(rec.samples.front().t_s + R.t);
        ImGui::TextDisabled("sample %zu of %zu, %.2f s recorded", i + 1, rec.samples.size(), total);
    }
    for (const cow::RecExperiment& e : rec.experiments) {
        ImGui::Separator();
        ImGui::PushTextWrapPos(0);
        ImGui::TextUnformatted(e.title.empty() ? e.name.c_str() : e.title.c_str());
        ImGui::PopTextWrapPos();
        const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_SizingStretchProp;
        if (ImGui::BeginTable(("exp" + e.name).c_str(), 4, flags)) {
            for (const char* h : {"", "measured", "engine", "difference"}) ImGui::TableSetupColumn(h);
            ImGui::TableHeadersRow();
            for (const cow::RecRow& row : e.rows) {
                ImGui::TableNextRow();
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(row.name.c_str());
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(cow::format_measured(row.measured, row.unit).c_str());
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(cow::format_measured(row.predicted, row.unit).c_str());
                ImGui::TableNextColumn();
                ImGui::TextUnformatted(cow::format_difference(row.predicted - row.measured, row.unit).c_str());
            }
            ImGui::EndTable();
        }
        ImGui::PushTextWrapPos(0);
        for (const std::string& n : e.notes) ImGui::TextDisabled("(%s)", n.c_str());
        ImGui::PopTextWrapPos();
    }
    ImGui::Separator();
    ImGui::PushTextWrapPos(0);
    ImGui::TextDisabled(
        "Measured on a real kernel from /proc: Rss counts every page a process maps; Pss divides a shared page among "
        "its sharers; USS (Private_Clean + Private_Dirty) is what exiting would free; Private_Dirty of a forked child "
        "is the memory copy-on-write has copied for it. Select a process to see its pages.");
    ImGui::PopTextWrapPos();
}

void RecordingWindow::draw_processes(App& app) {
    App::Replay& R = app.replay;
    const cow::RecSample* s = shown_sample(R);
    if (!s) {
        ImGui::TextDisabled("This recording has no samples of processes.");
        return;
    }
    const cow::Recording& rec = R.rec;
    const size_t at = size_t(s - rec.samples.data());
    const cow::RecSample* prev = at ? &rec.samples[at - 1] : nullptr;
    cow::u64 rss = 0, pss = 0, uss = 0;
    for (const cow::RecProc& p : s->procs) {
        rss += p.rss;
        pss += p.pss;
        uss += p.uss;
    }
    text_wrapped("t = %.2f s: %zu process%s; Rss %s in all (shared pages counted once per process), Pss %s (counted once), USS %s",
                       s->t_s - rec.samples.front().t_s, s->procs.size(), s->procs.size() == 1 ? "" : "es", cow::format_bytes(rss).c_str(),
                       cow::format_bytes(pss).c_str(), cow::format_bytes(uss).c_str());
    const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_SizingFixedFit;
    if (!ImGui::BeginTable("recprocs", 9, flags)) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    for (const char* h : {"process", "pid", "state", "Rss", "Pss", "USS", "Shared", "Private_Dirty", "faults/s"}) ImGui::TableSetupColumn(h);
    ImGui::TableHeadersRow();
    // A child below its parent (among the recorded processes).
    std::vector<std::pair<const cow::RecProc*, int>> order;
    std::function<void(int, int)> add = [&](int parent, int depth) {
        for (const cow::RecProc& p : s->procs) {
            const bool parent_known = s->find(p.ppid) != nullptr && p.ppid != p.pid;
            if ((parent == 0 && !parent_known) || (parent != 0 && p.ppid == parent && p.pid != parent)) {
                bool seen = false;
                for (const auto& o : order) seen |= o.first == &p;
                if (seen || depth > 16) continue;
                order.push_back({&p, depth});
                add(p.pid, depth + 1);
            }
        }
    };
    add(0, 0);
    for (const auto& [pp, depth] : order) {
        const cow::RecProc& p = *pp;
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        const std::string label = std::string(size_t(2 * std::min(depth, 8)), ' ') + (depth ? "└ " : "") +
                                  (p.name.empty() ? "?" : p.name) + "##" + std::to_string(p.pid);
        if (ImGui::Selectable(label.c_str(), R.pid == p.pid, ImGuiSelectableFlags_SpanAllColumns)) {
            R.pid = p.pid;
            ++R.version;
        }
        ImGui::TableNextColumn();
        ImGui::Text("%d", p.pid);
        ImGui::TableNextColumn();
        if (!p.problem.empty()) {
            ImGui::TextColored(ImVec4(1.0f, 0.72f, 0.45f, 1.0f), "%s", p.problem.c_str());
            if (ImGui::IsItemHovered() && !p.error.empty()) ImGui::SetTooltip("%s", p.error.c_str());
            continue;
        }
        ImGui::TextUnformatted(p.state.c_str());
        for (cow::u64 v : {p.rss, p.pss, p.uss, p.shared(), p.private_dirty}) {
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(cow::format_bytes(v).c_str());
        }
        ImGui::TableNextColumn();
        const cow::RecProc* before = prev ? prev->find(p.pid) : nullptr;
        const double dt = prev ? s->t_s - prev->t_s : 0;
        if (before && before->problem.empty() && dt > 0 && p.min_flt >= before->min_flt)
            ImGui::Text("%.0f", double(p.min_flt - before->min_flt) / dt);
        else ImGui::TextDisabled("-");
    }
    ImGui::EndTable();
}

void RecordingWindow::draw_pages(App& app) {
    App::Replay& R = app.replay;
    const cow::Recording& rec = R.rec;
    const double t = (rec.samples.empty() ? 0 : rec.samples.front().t_s) + R.t;
    const std::vector<const cow::RecPages*> regions = rec.pages_at(R.pid, t);
    if (regions.empty()) {
        text_wrapped("No page states were recorded for pid %d. Experiments record the pages of their buffer; "
                           "live mode records the anonymous memory of the processes it follows.", R.pid);
        return;
    }
    if (R.pages_version != R.version || app.page_map_version != R.version) {
        codes.clear();
        starts.clear();
        for (const cow::RecPages* p : regions) {
            if (codes.size() >= kMaxCells) break;
            starts.push_back({codes.size(), p});
            for (char c : p->states) {
                if (codes.size() >= kMaxCells) break;
                codes.push_back(c == 'x' ? cow::u8(cow::FrameCode::private_page)
                                : c == 's' ? cow::u8(cow::FrameCode::shared2)
                                : c == 'w' ? cow::u8(cow::FrameCode::cache)
                                           : cow::u8(cow::FrameCode::free));
            }
        }
        app.page_map.upload_codes(codes);
        R.pages_version = app.page_map_version = R.version;
    }
    cow::u64 n[4] = {0, 0, 0, 0};
    for (cow::u8 c : codes) n[c == cow::u8(cow::FrameCode::private_page) ? 1 : c == cow::u8(cow::FrameCode::shared2) ? 2 : c == cow::u8(cow::FrameCode::cache) ? 3 : 0]++;
    text_wrapped("pid %d: %zu region(s), %zu pages: %llu mapped by it alone, %llu shared, %llu swapped, %llu not present%s",
                       R.pid, regions.size(), codes.size(), static_cast<unsigned long long>(n[1]), static_cast<unsigned long long>(n[2]),
                       static_cast<unsigned long long>(n[3]), static_cast<unsigned long long>(n[0]),
                       codes.size() >= kMaxCells ? " (the first 4 Mi pages shown)" : "");
    const std::pair<ImVec4, const char*> legend[] = {{frame_colour(cow::FrameCode::private_page), "this process alone (copied or never shared)"},
                                                    {frame_colour(cow::FrameCode::shared2), "shared (still copy-on-write)"},
                                                    {frame_colour(cow::FrameCode::cache), "swapped"},
                                                    {frame_colour(cow::FrameCode::free), "not present"}};
    for (const auto& [colour, text] : legend) {
        ImGui::ColorButton(text, colour, ImGuiColorEditFlags_NoTooltip, ImVec2(10, 10));
        ImGui::SameLine(0, 4);
        ImGui::TextUnformatted(text);
        ImGui::SameLine(0, 12);
    }
    ImGui::NewLine();
    const long hover = app.page_map.draw(std::max(60.0f, ImGui::GetContentRegionAvail().y));
    if (hover >= 0 && size_t(hover) < codes.size()) {
        const cow::RecPages* region = nullptr;
        size_t first = 0;
        for (const auto& [at, p] : starts)
            if (size_t(hover) >= at) {
                region = p;
                first = at;
            }
        if (region) {
            const size_t i = size_t(hover) - first;
            const char c = i < region->states.size() ? region->states[i] : '.';
            ImGui::SetTooltip("page at 0x%llx: %s", static_cast<unsigned long long>(region->start + i * 4096),
                              c == 'x' ? "mapped by this process alone" : c == 's' ? "shared with another process" : c == 'w' ? "swapped out" : "not present");
        }
    }
}

void RecordingWindow::draw_metrics(App& app) {
    App::Replay& R = app.replay;
    const cow::Recording& rec = R.rec;
    const double t0 = rec.samples.empty() ? 0 : rec.samples.front().t_s;
    for (const cow::RecSeries& s : rec.series) {
        // Series are in seconds since their own start.
        plot_pair(s.name.c_str(), s.measured, s.predicted, s.unit, -1);
        ImGui::Spacing();
    }
    if (rec.samples.size() < 2) {
        if (rec.series.empty()) ImGui::TextDisabled("Figures over time need at least two samples.");
        return;
    }
    const cow::RecSample* last = &rec.samples.back();
    // The selected process first, then the others.
    std::vector<int> pids;
    if (last->find(R.pid)) pids.push_back(R.pid);
    for (const cow::RecProc& p : last->procs)
        if (p.pid != R.pid && p.problem.empty() && pids.size() < 8) pids.push_back(p.pid);
    for (int pid : pids) {
        std::vector<std::array<double, 2>> rss, pd;
        std::string name;
        for (const cow::RecSample& s : rec.samples)
            if (const cow::RecProc* p = s.find(pid); p && p->problem.empty()) {
                rss.push_back({s.t_s - t0, double(p->rss)});
                pd.push_back({s.t_s - t0, double(p->private_dirty)});
                name = p->name;
            }
        plot_pair((name + " (" + std::to_string(pid) + "): Rss").c_str(), rss, {}, "B", R.t);
        plot_pair((name + " (" + std::to_string(pid) + "): Private_Dirty").c_str(), pd, {}, "B", R.t);
        ImGui::Spacing();
    }
}

}  // namespace cowlab
