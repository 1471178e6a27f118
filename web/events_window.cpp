// events_window.cpp: EventsWindow (windows.h): the engine's event log, newest
// last, filterable by kind and process; only the visible rows are drawn
// (ImGuiListClipper).
#include <cstdio>

#include "app.h"
#include "imgui.h"

namespace cowlab {

void EventsWindow::draw(App& app) {
    if (!app.player.loaded()) return;
    const cow::EventLog& log = app.player.run().machine().events();
    ImGui::SetNextItemWidth(220);
    if (ImGui::BeginCombo("kind", kind < 0 ? "all events" : cow::to_string(cow::EventKind(kind)))) {
        if (ImGui::Selectable("all events", kind < 0)) kind = -1;
        for (int k = 0; k < cow::kEventKindCount; ++k) {
            char label[96];
            std::snprintf(label, sizeof label, "%s (%llu)", cow::to_string(cow::EventKind(k)),
                          static_cast<unsigned long long>(log.count(cow::EventKind(k))));
            if (ImGui::Selectable(label, kind == k)) kind = k;
        }
        ImGui::EndCombo();
    }
    ImGui::SameLine();
    ImGui::SetNextItemWidth(100);
    ImGui::InputInt("pid (0: all)", &pid);
    if (pid < 0) pid = 0;
    ImGui::TextDisabled("%llu events in all; the newest %llu are kept", static_cast<unsigned long long>(log.total()),
                        static_cast<unsigned long long>(log.size()));
    // The rows that pass the filter, rebuilt when anything changes.
    if (rows_version != app.player.version() || rows_kind != kind || rows_pid != pid) {
        rows.clear();
        for (cow::u64 i = 0; i < log.size(); ++i) {
            const cow::Event& e = log.at(i);
            if ((kind < 0 || int(e.kind) == kind) && (pid == 0 || e.pid == cow::Pid(pid))) rows.push_back(i);
        }
        rows_version = app.player.version();
        rows_kind = kind;
        rows_pid = pid;
    }
    const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_SizingFixedFit;
    if (!ImGui::BeginTable("events", 6, flags)) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    for (const char* h : {"#", "time", "pid", "event", "address", "frame"}) ImGui::TableSetupColumn(h);
    ImGui::TableHeadersRow();
    ImGuiListClipper clip;
    clip.Begin(int(rows.size()));
    while (clip.Step()) {
        for (int r = clip.DisplayStart; r < clip.DisplayEnd; ++r) {
            const cow::Event& e = log.at(rows[size_t(r)]);
            ImGui::TableNextRow();
            ImGui::TableNextColumn();
            ImGui::Text("%llu", static_cast<unsigned long long>(log.first_seq() + rows[size_t(r)]));
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(cow::format_value(double(e.time_ns), "us").c_str());
            ImGui::TableNextColumn();
            if (e.pid != cow::kNoPid) ImGui::Text("%u", e.pid.v);
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(cow::to_string(e.kind));
            if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", cow::describe(e.kind));
            ImGui::TableNextColumn();
            if (e.addr) ImGui::Text("0x%llx", static_cast<unsigned long long>(e.addr));
            ImGui::TableNextColumn();
            if (e.frame != cow::kNoFrame) ImGui::Text("%u", e.frame.v);
        }
    }
    if (rows_version != scrolled_version) {   // follow the newest events
        ImGui::SetScrollHereY(1.0f);
        scrolled_version = rows_version;
    }
    ImGui::EndTable();
}

}  // namespace cowlab
