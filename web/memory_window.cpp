// memory_window.cpp: MemoryWindow (windows.h): physical memory, one cell per
// frame, drawn by a shader (pagemap.h), with the palette's legend and who maps
// the frame under the mouse.
#include <cstdio>

#include "app.h"
#include "imgui.h"

namespace cowlab {

namespace {

// Calls fn(name, pid, address, vma) for each page of a named process that maps
// frame f (a reverse walk of their page tables) until fn returns false, looking
// at 4,000,000 pages at most so that a hover stays instant. False: it stopped short.
template <class Fn>
bool for_each_mapper(const App& app, cow::FrameId f, Fn&& fn) {
    const cow::LessonRun& run = app.player.run();
    const cow::Machine& m = run.machine();
    cow::u64 budget = 4'000'000;
    for (const auto& [name, pid] : run.named_processes()) {
        const cow::Mm* mm = m.address_space(pid);
        if (!mm) continue;
        for (const cow::Vma& v : mm->vmas)
            for (cow::u64 a = v.start; a < v.end; a += cow::kPageSize) {
                if (!budget--) return false;
                const cow::u64 e = m.translate(pid, a);
                if (!cow::pte::is_present(e) || (e & cow::pte::special)) continue;
                cow::FrameId mapped = cow::pte::pfn(e);
                if (e & cow::pte::huge) mapped = mapped + cow::u32(cow::pte_index(a));
                if (mapped == f && !fn(name, pid, a, v)) return true;
            }
    }
    return true;
}

}  // namespace

// Which named processes map frame f, and at which address (cached until the frame or the machine changes).
const std::vector<std::string>& MemoryWindow::mappers(const App& app, cow::FrameId f) {
    std::vector<std::string>& lines = mapper_lines;
    if (mappers_version == app.player.version() && mappers_frame == f) return lines;
    mappers_version = app.player.version();
    mappers_frame = f;
    lines.clear();
    const bool all = for_each_mapper(app, f, [&](const std::string& name, cow::Pid pid, cow::u64 a, const cow::Vma& v) {
        char buf[160];
        std::snprintf(buf, sizeof buf, "mapped by %s (pid %u) at 0x%llx %s", name.c_str(), pid.v,
                      static_cast<unsigned long long>(a), v.name.c_str());
        lines.push_back(buf);
        return lines.size() < 8;
    });
    if (!all) lines.push_back("(the processes are too large to search them all)");
    return lines;
}

std::pair<cow::Pid, cow::u64> MemoryWindow::first_mapper(const App& app, cow::FrameId f) const {
    std::pair<cow::Pid, cow::u64> found{cow::kNoPid, 0};
    for_each_mapper(app, f, [&](const std::string&, cow::Pid pid, cow::u64 a, const cow::Vma&) {
        found = {pid, a};
        return false;
    });
    return found;
}

void MemoryWindow::draw(App& app) {
    const Player& P = app.player;
    if (!P.loaded()) return;
    const cow::Machine& m = P.run().machine();
    // While the player works the map follows it five times a second, not every slice.
    upload_age_s += ImGui::GetIO().DeltaTime;
    const bool due = !P.busy() || upload_age_s >= 0.2;
    if ((app.page_map_version != P.version() && due) || selected_shown != app.selected) {
        upload_age_s = 0;
        app.page_map.upload(m);
        app.page_map.upload_selection(m, P.run().pid_of(app.selected));
        app.page_map_version = P.version();
        selected_shown = app.selected;
    }
    if (!app.selected.empty()) {
        ImGui::TextDisabled("bright: frames %s maps (select it again in Processes to show all)", app.selected.c_str());
    }
    for (int c = 1; c < cow::kFrameCodeCount; ++c) {
        if (c == int(cow::FrameCode::reserved)) continue;
        ImGui::ColorButton(("##c" + std::to_string(c)).c_str(), frame_colour(cow::FrameCode(c)), ImGuiColorEditFlags_NoTooltip, ImVec2(10, 10));
        ImGui::SameLine(0, 4);
        ImGui::TextUnformatted(cow::to_string(cow::FrameCode(c)));
        ImGui::SameLine(0, 12);
    }
    ImGui::NewLine();
    if (app.focus.serial != focus_serial) {   // a page picked in another view: its frame outlined, in view
        focus_serial = app.focus.serial;
        app.page_map.marked = app.focus.frame == cow::kNoFrame ? -1 : long(app.focus.frame.v);
        app.page_map.scroll_to_mark = true;
    }
    const long hover = app.page_map.draw(std::max(60.0f, ImGui::GetContentRegionAvail().y));
    if (app.page_map.clicked >= 0 && app.page_map.clicked < long(m.frames().total())) {
        // A frame picked here: the first named process that maps it, shown in the mapping view too.
        const cow::FrameId f = cow::FrameId(cow::u32(app.page_map.clicked));
        const auto [pid, addr] = first_mapper(app, f);
        app.focus_on(pid, addr, f);
        focus_serial = app.focus.serial;
        app.page_map.marked = long(f.v);
        if (pid != cow::kNoPid) app.mapping_window.show_page(app, pid, addr);
    }
    if (hover >= 0 && hover < long(m.frames().total())) {
        const cow::FrameTable& fr = m.frames();
        const cow::FrameId f = cow::FrameId(hover);
        ImGui::BeginTooltip();
        ImGui::Text("frame %ld (physical address 0x%llx)", hover, static_cast<unsigned long long>(f.v) << 12);
        ImGui::Text("%s: kind %s, mapcount %u, refcount %u%s", cow::to_string(cow::frame_code(fr, f)),
                    cow::to_string(fr[f].kind()), fr.total_mapcount(f), fr.refcount(f), fr[f].dirty() ? ", dirty" : "");
        for (const std::string& line : mappers(app, f)) ImGui::TextUnformatted(line.c_str());
        ImGui::EndTooltip();
    }
}

}  // namespace cowlab
