// address_window.cpp: AddressWindow (windows.h): the selected process's VMAs
// with their smaps figures, and its page table as a strip of cells, one per
// page of each VMA, in the engine's frame palette.
#include "app.h"
#include "imgui.h"

namespace cowlab {

void AddressWindow::draw(App& app) {
    if (!app.player.loaded()) return;
    const cow::LessonRun& run = app.player.run();
    const cow::Machine& m = run.machine();
    std::string name = app.selected;
    if (name.empty() && !run.named_processes().empty()) name = run.named_processes().front().first;
    const cow::Pid pid = run.pid_of(name);
    if (pid == cow::kNoPid) {
        ImGui::TextDisabled("Select a process in the Processes window.");
        return;
    }
    // While the player works, the smaps of before (walking a big process's page tables each slice is a stall).
    if ((smaps_version != app.player.version() && !(app.player.busy() && smaps_version >= 0)) || smaps_pid != pid) {
        smaps = m.smaps(pid);
        smaps_version = app.player.version();
        smaps_pid = pid;
    }
    if (!smaps || smaps->empty()) {
        ImGui::Text("%s (pid %u) has no address space (%s).", name.c_str(), pid.v, m.process(pid) ? cow::to_string(m.process(pid)->state) : "?");
        return;
    }
    ImGui::Text("%s (pid %u): /proc/%u/smaps", name.c_str(), pid.v, pid.v);
    const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY |
                                  ImGuiTableFlags_SizingFixedFit;
    if (!ImGui::BeginTable("vmas", 10, flags | ImGuiTableFlags_ScrollX, ImVec2(0, ImGui::GetContentRegionAvail().y * 0.6f))) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    for (const char* h : {"start", "size", "perm", "name", "Rss", "Pss", "Shared_Clean", "Shared_Dirty", "Private_Clean", "Private_Dirty"})
        ImGui::TableSetupColumn(h);
    ImGui::TableHeadersRow();
    for (const cow::VmaStats& v : *smaps) {
        ImGui::TableNextRow();
        ImGui::TableNextColumn();
        ImGui::Text("%012llx", static_cast<unsigned long long>(v.start));
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(cow::format_bytes(v.end - v.start).c_str());
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(v.perms.c_str());
        ImGui::TableNextColumn();
        ImGui::TextUnformatted(v.name.empty() ? v.kind.c_str() : v.name.c_str());
        for (cow::u64 x : {v.mem.rss, v.mem.pss(), v.mem.shared_clean, v.mem.shared_dirty, v.mem.private_clean, v.mem.private_dirty}) {
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(cow::format_bytes(x).c_str());
        }
    }
    ImGui::EndTable();
    // The page table, a cell per page: not present, zero page, shared, private, huge.
    ImGui::TextDisabled("page table: dark not present, grey zero page, yellow shared, blue private, green huge");
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    const float avail_w = ImGui::GetContentRegionAvail().x, avail_h = ImGui::GetContentRegionAvail().y;
    const float cell = 3.0f;
    const int cols = std::max(1, int(avail_w / cell));
    const int max_cells = std::max(1, cols * int(avail_h / cell));
    cow::u64 total = 0;
    for (const cow::VmaStats& v : *smaps) total += (v.end - v.start) / cow::kPageSize;
    const cow::u64 step = std::max<cow::u64>(1, (total + cow::u64(max_cells) - 1) / cow::u64(max_cells));
    int i = 0;
    ImVec2 focus_at(-1, -1);   // the cell of the page picked in another view
    for (const cow::VmaStats& v : *smaps) {
        for (cow::u64 a = v.start; a < v.end && i < max_cells; a += step * cow::kPageSize, ++i) {
            const cow::u64 e = m.translate(pid, a);
            cow::FrameCode code = cow::FrameCode::free;   // not present
            if (cow::pte::is_present(e)) {
                if (e & cow::pte::special) code = cow::FrameCode::zero;
                else if (e & cow::pte::huge) code = cow::FrameCode::huge;
                else code = m.frames().total_mapcount(cow::pte::pfn(e)) >= 2 ? cow::FrameCode::shared2 : cow::FrameCode::private_page;
            }
            const ImU32 c = ImGui::ColorConvertFloat4ToU32(frame_colour(code));
            const float x = origin.x + float(i % cols) * cell, y = origin.y + float(i / cols) * cell;
            dl->AddRectFilled(ImVec2(x, y), ImVec2(x + cell - 1, y + cell - 1), c);
            if (app.focus.pid == pid && app.focus.addr >= a && app.focus.addr < a + step * cow::kPageSize) focus_at = ImVec2(x, y);
        }
    }
    if (focus_at.x >= 0) dl->AddRect(ImVec2(focus_at.x - 3, focus_at.y - 3), ImVec2(focus_at.x + cell + 2, focus_at.y + cell + 2), IM_COL32_WHITE, 0, 0, 2.0f);
    ImGui::Dummy(ImVec2(avail_w, float((i + cols - 1) / cols) * cell));
    if (step > 1) ImGui::TextDisabled("one cell per %llu pages", static_cast<unsigned long long>(step));
}

}  // namespace cowlab
