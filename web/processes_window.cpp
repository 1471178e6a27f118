// processes_window.cpp: ProcessesWindow (windows.h): the lesson's named
// processes with the kernel's figures; a click selects one for the other views.
#include <algorithm>
#include <functional>

#include "app.h"
#include "imgui.h"
#include "text.h"

namespace cowlab {

namespace {

// The table's figure columns: header, the lesson query it shows (a checkpoint
// asking it hides the cell), and the text of a process's value.
struct Column {
    const char* header;
    const char* query;
    std::string (*text)(const cow::ProcMetrics&);
};
const Column kColumns[] = {
    {"Rss", "rss", [](const cow::ProcMetrics& p) { return cow::format_bytes(p.mem.rss); }},
    {"Pss", "pss", [](const cow::ProcMetrics& p) { return cow::format_bytes(p.mem.pss()); }},
    {"USS", "uss", [](const cow::ProcMetrics& p) { return cow::format_bytes(p.mem.uss()); }},
    {"Shared", "shared", [](const cow::ProcMetrics& p) { return cow::format_bytes(p.mem.shared()); }},
    {"Private_Dirty", "private_dirty", [](const cow::ProcMetrics& p) { return cow::format_bytes(p.mem.private_dirty); }},
    // Minor and major apart, as /proc/PID/stat counts them (and the lessons' prose says them).
    {"minor faults", "min_flt", [](const cow::ProcMetrics& p) { return cow::format_count(p.counters.min_flt); }},
    {"major faults", "maj_flt", [](const cow::ProcMetrics& p) { return cow::format_count(p.counters.maj_flt); }},
    {"COW copies", "cow_copies", [](const cow::ProcMetrics& p) { return cow::format_count(p.counters.cow_copies); }},
};

}  // namespace

void ProcessesWindow::draw(App& app) {
    const Player& P = app.player;
    if (!P.loaded()) return;
    const cow::StepMetrics& m = P.metrics();
    const cow::MemInfo& mi = m.meminfo;
    // A figure the step asks is "?" until the step has run. Each figure is one
    // unit for wrapping: its words joined by no-break spaces.
    auto fig = [&](const char* label, const char* query, std::string value) {
        if (query && P.hides(query)) value.assign(1, '?');   // (not = "?": GCC 12 warns of a false overlap)
        std::string out = label;
        out += ' ';
        out += value;
        return nobreak(out);
    };
    std::string line;
    for (const std::string& part : {fig("RAM", nullptr, cow::format_bytes(mi.total)), std::string(": "),
                                    fig("used", "used", cow::format_bytes(mi.used)), std::string(", "),
                                    fig("free", "used", cow::format_bytes(mi.free)), std::string("; "),
                                    fig("page tables", "page_tables", cow::format_bytes(mi.page_tables)), std::string("; "),
                                    fig("Committed_AS", "committed_as", cow::format_bytes(mi.committed_as)), std::string(" "),
                                    fig("of CommitLimit", "commit_limit", cow::format_bytes(mi.commit_limit)), std::string("; "),
                                    fig("time", nullptr, cow::format_value(double(m.time_ns), "ms"))})
        line += part;
    text_wrapped("%s", line.c_str());
    bool hidden = false;   // a "?" is on screen: say what it means
    for (const char* q : {"used", "page_tables", "committed_as", "commit_limit"}) hidden |= P.hides(q);
    for (const cow::ProcMetrics& p : m.procs)
        for (const Column& c : kColumns) hidden |= P.hides(c.query, p.name);
    if (hidden) ImGui::TextDisabled("?  what this step asks you to predict: shown once it has run");
    const ImGuiTableFlags flags = ImGuiTableFlags_Borders | ImGuiTableFlags_RowBg | ImGuiTableFlags_ScrollY | ImGuiTableFlags_ScrollX |
                                  ImGuiTableFlags_SizingFixedFit;
    if (!ImGui::BeginTable("procs", 3 + int(std::size(kColumns)), flags)) return;
    ImGui::TableSetupScrollFreeze(0, 1);
    for (const char* h : {"process", "pid", "state"}) ImGui::TableSetupColumn(h);
    for (const Column& c : kColumns) ImGui::TableSetupColumn(c.header);
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
        for (const Column& c : kColumns) {
            ImGui::TableNextColumn();
            ImGui::TextUnformatted(P.hides(c.query, p.name) ? "?" : c.text(p).c_str());
        }
    }
    ImGui::EndTable();
}

}  // namespace cowlab
