// app.cpp: the lab window: what the engine says about a small fork scenario,
// and physical memory drawn frame by frame.
#include "app.h"

#include <cstdio>

#include "imgui.h"
#include <nlohmann/json.hpp>

namespace cowlab {

App& app() {
    static App instance;
    return instance;
}

namespace {
cow::Machine demo_machine(cow::Pid* parent, cow::Pid* child, std::string* error) {
    cow::MachineConfig cfg;
    cfg.ram_bytes = 256 * cow::MiB;
    cow::Machine m = *cow::Machine::create(cfg);
    auto step = [&](const cow::Status& st) {
        if (!st && error->empty()) *error = st.message;
    };
    cow::Result<cow::Pid> p = m.spawn(cow::default_image("server"));
    if (!p) { *error = p.message(); return m; }
    *parent = *p;
    cow::Result<cow::u64> buf = m.mmap(*p, {.len = 64 * cow::MiB, .name = "buffer"});
    if (!buf) { *error = buf.message(); return m; }
    step(m.access(*p, *buf, 64 * cow::MiB, cow::Access::write).status());
    cow::Result<cow::ForkResult> f = m.fork(*p);
    if (!f) { *error = f.message(); return m; }
    *child = f->child;
    std::vector<cow::u64> pages;
    for (cow::u64 off = 0; off < 64 * cow::MiB; off += 10 * cow::kPageSize) pages.push_back(*buf + off);
    step(m.access_pages(*child, pages, cow::Access::write).status());
    return m;
}

void row(const char* label, const std::string& value) {
    ImGui::TableNextRow();
    ImGui::TableSetColumnIndex(0);
    ImGui::TextUnformatted(label);
    ImGui::TableSetColumnIndex(1);
    ImGui::TextUnformatted(value.c_str());
}
}  // namespace

bool App::init(std::string* gl_error) {
    machine = demo_machine(&parent, &child, &error);
    if (!page_map.init(gl_error)) return false;
    page_map.upload(machine);
    return true;
}

void App::draw() {
    const ImGuiViewport* vp = ImGui::GetMainViewport();
    ImGui::SetNextWindowPos(ImVec2(vp->WorkPos.x + 16, vp->WorkPos.y + 16), ImGuiCond_FirstUseEver);
    ImGui::SetNextWindowSize(ImVec2(std::min(vp->WorkSize.x - 32, 760.0f), vp->WorkSize.y - 32), ImGuiCond_FirstUseEver);
    ImGui::Begin("cowlab");
    ImGui::Text("cowlab %s: a copy-on-write lab", cow::version());
    ImGui::TextWrapped("A 64 MiB process wrote its whole buffer, forked, and the child wrote one page in ten. "
                       "The figures below are the engine's, computed as /proc computes them.");
    if (!error.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "engine: %s", error.c_str());
    const cow::MemInfo mi = machine.meminfo();
    if (ImGui::BeginTable("machine", 2, ImGuiTableFlags_SizingFixedFit)) {
        row("RAM", cow::format_bytes(mi.total));
        row("used / free", cow::format_bytes(mi.used) + " / " + cow::format_bytes(mi.free));
        row("page tables", cow::format_bytes(mi.page_tables));
        row("Committed_AS", cow::format_bytes(mi.committed_as));
        ImGui::EndTable();
    }
    if (ImGui::BeginTable("procs", 7, ImGuiTableFlags_Borders | ImGuiTableFlags_SizingFixedFit)) {
        for (const char* h : {"pid", "name", "Rss", "Pss", "USS", "Private_Dirty", "COW copies"}) ImGui::TableSetupColumn(h);
        ImGui::TableHeadersRow();
        for (cow::Pid pid : machine.pids()) {
            cow::Result<cow::MemStats> s = machine.smaps_rollup(pid);
            const cow::Process* p = machine.process(pid);
            if (!s || !p) continue;
            ImGui::TableNextRow();
            ImGui::TableNextColumn(); ImGui::Text("%u", pid);
            ImGui::TableNextColumn(); ImGui::TextUnformatted(p->name.c_str());
            ImGui::TableNextColumn(); ImGui::TextUnformatted(cow::format_bytes(s->rss).c_str());
            ImGui::TableNextColumn(); ImGui::TextUnformatted(cow::format_bytes(s->pss()).c_str());
            ImGui::TableNextColumn(); ImGui::TextUnformatted(cow::format_bytes(s->uss()).c_str());
            ImGui::TableNextColumn(); ImGui::TextUnformatted(cow::format_bytes(s->private_dirty).c_str());
            ImGui::TableNextColumn(); ImGui::Text("%llu", static_cast<unsigned long long>(p->counters.cow_copies));
        }
        ImGui::EndTable();
    }
    ImGui::Separator();
    ImGui::TextUnformatted("Physical memory, one cell per 4 KiB frame (wheel: zoom, drag: scroll)");
    long hover = page_map.draw(std::max(120.0f, ImGui::GetContentRegionAvail().y));
    if (hover >= 0) {
        const auto& fr = machine.frames();
        ImGui::BeginTooltip();
        ImGui::Text("frame %ld: %s", hover, cow::to_string(cow::frame_code(fr, cow::FrameId(hover))));
        ImGui::Text("kind %s, mapcount %u, refcount %u", cow::to_string(fr[cow::FrameId(hover)].kind()),
                    fr.total_mapcount(cow::FrameId(hover)), fr.refcount(cow::FrameId(hover)));
        ImGui::EndTooltip();
    }
    ImGui::End();
    ++frames_drawn;
}

std::string App::info_json() const {
    const cow::MemInfo mi = machine.meminfo();
    nlohmann::json j = {
        {"version", cow::version()},
        {"ram_bytes", mi.total},
        {"total_frames", machine.frames().total()},
        {"free_frames", machine.frames().free_count()},
        {"processes", machine.pids().size()},
        {"committed_as", mi.committed_as},
    };
    if (!error.empty()) j["error"] = error;
    return j.dump();
}

}  // namespace cowlab
