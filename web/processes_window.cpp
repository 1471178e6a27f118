// processes_window.cpp: ProcessesWindow (windows.h): the lesson's named
// processes with the kernel's figures; a click selects one for the other views.
#include <algorithm>
#include <functional>

#include "app.h"
#include "imgui.h"

namespace cowlab {

void ProcessesWindow::draw(App& app) {
    const Player& P = app.player;
    if (!P.loaded()) return;
    const cow::StepMetrics& m = P.metrics();
    const cow::MemInfo& mi = m.meminfo;
    ImGui::TextWrapped("RAM %s: used %s, free %s; page tables %s; Committed_AS %s of CommitLimit %s; time %s",
                       cow::format_bytes(mi.total).c_str(), cow::format_bytes(mi.used).c_str(),
                       cow::format_bytes(mi.free).c_str(), cow::format_bytes(mi.page_tables).c_str(),
                       cow::format_bytes(mi.committed_as).c_str(), cow::format_bytes(mi.commit_limit).c_str(),
                       cow::format_value(double(m.time_ns), "ms").c_str());
    const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_SizingFixedFit;
    if (!ImGui::BeginTable("procs", 10, flags)) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    for (const char* h : {"process", "pid", "state", "Rss", "Pss", "USS", "Shared", "Private_Dirty", "faults", "COW copies"})
        ImGui::TableSetupColumn(h);
    ImGui::TableHeadersRow();
    // The tree: a child below its parent, indented by its depth among the named processes.
    const cow::Machine& mach = P.run().machine();
    auto depth = [&](cow::Pid pid) {
        int d = 0;
        for (const cow::Process* q = mach.process(pid); q && q->parent != cow::kNoPid && d < 16; q = mach.process(q->parent)) ++d;
        return d;
    };
    std::vector<const cow::ProcMetrics*> order;
    std::function<void(cow::Pid)> add = [&](cow::Pid parent) {
        for (const cow::ProcMetrics& p : m.procs) {
            const cow::Process* q = mach.process(p.pid);
            const cow::Pid pp = q ? q->parent : cow::kNoPid;
            bool parent_named = false;
            for (const cow::ProcMetrics& o : m.procs) parent_named |= o.pid == pp;
            if ((parent == cow::kNoPid && !parent_named) || (parent != cow::kNoPid && pp == parent)) {
                if (std::find(order.begin(), order.end(), &p) != order.end()) continue;
                order.push_back(&p);
                add(p.pid);
            }
        }
    };
    add(cow::kNoPid);
    for (const cow::ProcMetrics* pp : order) {
        const cow::ProcMetrics& p = *pp;
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        const std::string label = std::string(size_t(2 * std::min(depth(p.pid), 8)), ' ') + (depth(p.pid) ? "└ " : "") + p.name;
        if (ImGui::Selectable(label.c_str(), app.selected == p.name, ImGuiSelectableFlags_SpanAllColumns))
            app.selected = app.selected == p.name ? std::string() : p.name;   // a second click clears it
        ImGui::TableNextColumn();
        ImGui::Text("%u", p.pid.v);
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(p.state.c_str());
        for (cow::u64 v : {p.mem.rss, p.mem.pss(), p.mem.uss(), p.mem.shared(), p.mem.private_dirty}) {
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(cow::format_bytes(v).c_str());
        }
        ImGui::TableNextColumn();
        ImGui::Text("%llu", static_cast<unsigned long long>(p.counters.min_flt + p.counters.maj_flt));
        ImGui::TableNextColumn();
        ImGui::Text("%llu", static_cast<unsigned long long>(p.counters.cow_copies));
    }
    ImGui::EndTable();
}

}  // namespace cowlab
