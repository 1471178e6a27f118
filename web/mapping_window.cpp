// mapping_window.cpp: MappingWindow (windows.h): the mechanism. For a region of
// a few processes, each one's page-table entries as a column, the frames they
// map in the middle, and a line from each entry to its frame:
//
//   virtual page   parent (pid 1)           frames                 child (pid 2)
//   0x...4000      R- D A  -> 1,040 ───> [ frame 1,040 ×2 ] <─── R- D A  -> 1,040
//   0x...5000      RW D A  -> 1,041 ───> [ frame 1,041 ×1 ]
//                                        [ frame 2,001 ×1 ] <─── RW D A  -> 2,001
//
// The rows come from the engine's mapping query (mapping.h): a page each, a run
// of alike pages each, or parts of the range to zoom into; the query runs a part
// at a time between frames, so a 16 GiB region never stalls the lab.
#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdio>

#include "app.h"
#include "imgui.h"
#include "text.h"

namespace cowlab {

namespace {

using cow::u64;

std::string hex(u64 a) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(a));
    return b;
}

std::string count(u64 n) { return cow::format_count(n); }

// The text, or its short form where the text is wider than w pixels.
std::string fit(const std::string& text, const std::string& short_text, float w) {
    return ImGui::CalcTextSize(text.c_str()).x <= w ? text : short_text;
}

// The entry's bits as the view writes them: "RW D A", "R- D A huge", "zero page".
std::string entry_bits(u64 e) {
    if (!cow::pte::is_present(e)) return "not present";
    std::string s = (e & cow::pte::writable) ? "RW" : "R-";
    if (e & cow::pte::dirty) s += " D";
    if (e & cow::pte::accessed) s += " A";
    if (e & cow::pte::huge) s += " huge";
    if (e & cow::pte::special) s += " zero page";
    return s;
}

constexpr ImU32 kWritable = IM_COL32(110, 200, 120, 255);   // a write goes through
constexpr ImU32 kReadOnly = IM_COL32(235, 150, 60, 255);    // a write traps (COW)
constexpr ImU32 kBoxBg = IM_COL32(38, 42, 52, 255);
constexpr ImU32 kBoxEdge = IM_COL32(90, 96, 112, 255);
constexpr ImU32 kFocus = IM_COL32(255, 255, 255, 255);
constexpr ImU32 kDim = IM_COL32(150, 150, 150, 255);
constexpr const char* kLegend =
    "RW writable   R- read-only (a write traps)   D dirty   A accessed   mapped by N: the entries that map the frame";

ImU32 frame_colour_u32(const cow::Machine& m, cow::FrameId f) {
    return ImGui::ColorConvertFloat4ToU32(frame_colour(cow::frame_code(m.frames(), f)));
}

// What the lesson calls a process ("pid 7" if it names it not), and "" for none of its processes.
std::string process_name(const App& app, cow::Pid pid, bool fallback = true) {
    for (const auto& [n, p] : app.player.run().named_processes())
        if (p == pid) return n;
    return fallback ? "pid " + std::to_string(pid.v) : std::string();
}

// The VMA of pid that holds addr, or the process's largest.
std::pair<u64, u64> vma_around(const cow::Machine& m, cow::Pid pid, u64 addr) {
    const cow::Mm* mm = m.address_space(pid);
    if (!mm || mm->vmas.empty()) return {0, 0};
    const cow::Vma* best = &mm->vmas.front();
    for (const cow::Vma& v : mm->vmas) {
        if (addr && v.contains(addr)) return {v.start, v.end};
        if (v.pages() > best->pages()) best = &v;
    }
    return {best->start, best->end};
}

}  // namespace

// The processes and the range shown when a step is shown: the step's mapping
// spec if it resolves (before a step runs, the last step's that does), else
// the named processes with the region the last step's events touched.
void MappingWindow::choose(App& app) {
    const cow::LessonRun& run = app.player.run();
    const cow::Machine& m = run.machine();
    names.clear();
    zoom.clear();
    const auto& steps = app.player.lesson().steps;
    for (int k = std::min(app.player.current(), int(steps.size()) - 1); k >= 0; --k) {
        if (!steps[size_t(k)].mapping) continue;
        cow::Result<cow::LessonRun::MappingView> v = run.mapping_view(*steps[size_t(k)].mapping);
        if (!v) continue;
        names = v->names;
        zoom.push_back({v->region_from, v->region_to});
        if (v->to < v->region_to) zoom.push_back({v->region_from, v->to});
        return;
    }
    std::vector<cow::Pid> pids;
    for (const auto& [name, pid] : run.named_processes())
        if (m.address_space(pid) && names.size() < 4) {
            names.push_back(name);
            pids.push_back(pid);
        }
    if (pids.empty()) return;
    // The first address the last step's events touched in a shown process.
    const cow::EventLog& log = m.events();
    const u64 first = run.state().step_first_event;
    u64 addr = 0;
    for (u64 i = first > log.first_seq() ? first - log.first_seq() : 0; i < log.size() && !addr; ++i) {
        const cow::Event& e = log.at(i);
        if (e.addr && std::find(pids.begin(), pids.end(), e.pid) != pids.end()) addr = e.addr;
    }
    const auto [from, to] = vma_around(m, pids.front(), addr);
    if (from < to) zoom.push_back({from, to});
}

cow::MappingRequest MappingWindow::request(const App& app) const {
    cow::MappingRequest q;
    for (const std::string& n : names)
        if (const cow::Pid p = app.player.run().pid_of(n); p != cow::kNoPid && app.player.run().machine().address_space(p)) q.pids.push_back(p);
    if (!zoom.empty()) {
        q.from = zoom.back().first;
        q.to = zoom.back().second;
    }
    q.max_rows = kMaxRows;
    return q;
}

// Keeps `shown` the answer to the current request; `finish`: at once, else a
// few milliseconds of the query a frame. True when `shown` is current.
bool MappingWindow::refresh(App& app, bool finish) {
    const cow::Player& P = app.player;
    const std::string key = P.lesson().id + "/" + std::to_string(P.current()) + (P.ran() ? "r" : "");
    if (key != chosen_key && !P.busy()) {
        chosen_key = key;
        choose(app);
    }
    const cow::MappingRequest q = request(app);
    if (q.pids.empty() || q.from >= q.to) {
        bool any = false;
        for (const auto& [name, pid] : P.run().named_processes()) any |= P.run().machine().address_space(pid) != nullptr;
        note = any ? "Tick a process above to see its page-table entries." : "No process of this lesson has an address space yet.";
        shown = {};
        return true;
    }
    auto same = [&](const cow::MappingRequest& a) { return a.pids == q.pids && a.from == q.from && a.to == q.to; };
    if (shown_version == P.version() && same(shown.request)) return true;
    if (P.busy() && !finish && !shown.row.empty()) return false;   // the step is working: the rows of before
    if (!scan || scan_version != P.version() || !same(scan->request)) {
        cow::Result<cow::MappingScan> s = P.run().machine().mapping_begin(q);
        if (!s) {
            note = s.message();
            shown = {};
            return true;
        }
        scan = std::move(s.value());
        scan_version = P.version();
    }
    const auto t0 = std::chrono::steady_clock::now();
    while (!scan->done && (finish || std::chrono::steady_clock::now() - t0 < std::chrono::milliseconds(4)))
        P.run().machine().mapping_step(*scan, 65536);
    if (!scan->done) return false;
    shown = std::move(scan->result);
    shown_version = scan_version;
    scan.reset();
    note.clear();
    return true;
}

// One sentence of what the rows show: how many pages share a frame, how many
// have their own, which entries trap on a write.
std::string MappingWindow::summary() const {
    u64 pages = 0, shared = 0, absent = 0, ro = 0, present = 0;
    const size_t n = shown.request.pids.size();
    std::vector<u64> own(n, 0), unmapped(n, 0);
    for (const cow::MappingRow& r : shown.row) {
        pages += r.pages();
        for (const cow::MappingFrames& f : r.frames) {
            if (std::popcount(f.sharers) >= 2) shared += f.pages;
            else own[size_t(std::countr_zero(f.sharers))] += f.pages;
        }
        for (size_t i = 0; i < n; ++i) {
            const cow::MappingCell& c = r.cells[i];
            absent += c.in_vma - std::min(c.in_vma, c.present);
            unmapped[i] += r.pages() - c.in_vma;
            present += c.present;
            ro += c.present - c.writable;
        }
    }
    std::string s = count(pages) + (pages == 1 ? " page" : " pages");
    if (n >= 2) {
        s += ": " + (shared ? count(shared) : std::string("none")) + " mapped by " + (n == 2 ? "both" : "several") + " processes to the same frame" + (shared == 1 ? "" : "s");
        std::string owners;
        for (size_t i = 0; i < n; ++i)
            if (own[i]) owners += std::string(owners.empty() ? "" : ", ") + names_shown[i] + " " + count(own[i]);
        if (!owners.empty()) s += "; in frames of their own: " + owners;
    } else {
        s += ", " + count(present) + " of them present";
    }
    s += ". " + count(ro) + " of the " + count(present) + " present entries are read-only: a write to them traps";
    if (absent) s += "; " + count(absent) + " entries are not present (no frame yet)";
    for (size_t i = 0; i < n; ++i)
        if (unmapped[i]) s += "; " + names_shown[i] + " maps nothing at " + count(unmapped[i]) + (unmapped[i] == 1 ? " page" : " pages");
    return s + ".";
}

void MappingWindow::draw_controls(App& app) {
    const cow::LessonRun& run = app.player.run();
    ImGui::TextUnformatted("Processes:");
    for (const auto& [name, pid] : run.named_processes()) {
        if (!run.machine().address_space(pid)) continue;
        bool on = std::find(names.begin(), names.end(), name) != names.end();
        ImGui::SameLine();
        if (ImGui::Checkbox(name.c_str(), &on)) {
            if (on && names.size() < cow::kMaxMappingPids) names.push_back(name);
            if (!on) names.erase(std::remove(names.begin(), names.end(), name), names.end());
            if (zoom.empty())
                if (const auto [from, to] = vma_around(run.machine(), pid, 0); from < to) zoom.push_back({from, to});
        }
    }
    if (zoom.empty()) return;
    const auto [from, to] = zoom.back();
    const std::string range = hex(from) + " to " + hex(to) + ": " + cow::format_bytes(to - from) + " of virtual memory";
    const float need = ImGui::CalcTextSize(range.c_str()).x + ImGui::CalcTextSize("Zoom out Whole region").x + 40;
    const float line_left = ImGui::GetWindowContentRegionMax().x - (ImGui::GetItemRectMax().x - ImGui::GetWindowPos().x);
    if (compact && line_left > need) ImGui::SameLine(0, 16);
    ImGui::TextUnformatted(range.c_str());
    ImGui::SameLine();
    ImGui::BeginDisabled(zoom.size() < 2);
    if (ImGui::SmallButton("Zoom out")) zoom.pop_back();
    ImGui::SameLine();
    if (ImGui::SmallButton("Whole region")) zoom.resize(1);
    ImGui::EndDisabled();
    if (compact) {   // little height: the key on demand
        ImGui::SameLine();
        ImGui::TextDisabled("(key)");
        if (ImGui::IsItemHovered()) ImGui::SetTooltip("%s", kLegend);
    }
}

void MappingWindow::draw(App& app) {
    if (!app.player.loaded()) return;
    const bool current = refresh(app, false);
    compact = ImGui::GetContentRegionAvail().y < 330;
    draw_controls(app);
    if (!note.empty()) {
        text_wrapped("%s", note.c_str());
        return;
    }
    if (shown.row.empty()) {
        if (!current) ImGui::TextDisabled("Reading the page tables...");
        return;
    }
    const cow::Machine& m = app.player.run().machine();
    names_shown.clear();
    for (cow::Pid p : shown.request.pids) names_shown.push_back(process_name(app, p));
    text_wrapped("%s", summary().c_str());
    draw_events(app);
    if (shown.rows != cow::Mapping::Rows::pages && !compact)
        ImGui::TextDisabled(shown.rows == cow::Mapping::Rows::runs ? "A row is a run of alike pages: click one to see its pages."
                                                                  : "A row is a part of the range, counted: click one to zoom in.");
    if (!compact) {
        ImGui::PushStyleColor(ImGuiCol_Text, ImGui::GetStyleColorVec4(ImGuiCol_TextDisabled));
        text_wrapped("%s", kLegend);
        ImGui::PopStyleColor();
    }
    draw_rows(app, m);
}

// The step's events, one at a time: a sentence for each, its page and frame
// picked (and zoomed to) as the student walks them with the arrows.
void MappingWindow::draw_events(App& app) {
    const cow::Player& P = app.player;
    const cow::EventLog& log = P.run().machine().events();
    if (story_version != P.version()) {
        story_version = P.version();
        story.clear();
        event_at = -1;
        const cow::u64 first = P.run().state().step_first_event;
        if (P.ran())
            for (cow::u64 i = first > log.first_seq() ? first - log.first_seq() : 0; i < log.size(); ++i)
                if (cow::is_story(log.at(i).kind)) story.push_back(i);
        lost = P.ran() && first < log.first_seq() ? log.first_seq() - first : 0;
    }
    if (story.empty()) return;
    auto name = [&](cow::Pid pid) { return process_name(app, pid); };
    int moved = 0;
    ImGui::AlignTextToFramePadding();
    ImGui::Text("This step's events: %s%s", count(story.size()).c_str(), lost ? " (the oldest are no longer kept)" : "");
    ImGui::SameLine();
    ImGui::BeginDisabled(event_at <= 0);
    if (ImGui::ArrowButton("##prev_event", ImGuiDir_Left)) moved = -1;
    ImGui::EndDisabled();
    app.note_control("mapping:prev-event");
    ImGui::SameLine();
    ImGui::BeginDisabled(event_at + 1 >= int(story.size()));
    if (ImGui::ArrowButton("##next_event", ImGuiDir_Right)) moved = 1;
    ImGui::EndDisabled();
    app.note_control("mapping:next-event");
    if (story.size() > 16) {   // a big step: jump to any one
        ImGui::SameLine();
        ImGui::SetNextItemWidth(std::min(220.0f, ImGui::GetContentRegionAvail().x));
        int k = std::max(event_at, 0) + 1;
        if (ImGui::SliderInt("##event", &k, 1, int(story.size()), "event %d")) {
            event_at = k - 2;
            moved = 1;
        }
    }
    if (moved) {
        event_at = std::clamp(event_at + moved, 0, int(story.size()) - 1);
        const cow::Event& e = log.at(story[size_t(event_at)]);
        app.focus_on(e.pid, cow::page_down(e.addr), e.frame);
        const bool in_view = !zoom.empty() && e.addr >= zoom.back().first && e.addr < zoom.back().second;
        if (e.addr && !in_view) show_page(app, e.pid, e.addr);
    }
    if (event_at >= 0) {
        const cow::Event& e = log.at(story[size_t(event_at)]);
        text_wrapped("%d of %s: %s.", event_at + 1, count(story.size()).c_str(), cow::explain(e, name).c_str());
    } else if (!compact) {
        ImGui::TextDisabled("Walk them with the arrows: each is one thing the kernel did.");
    }
}

void MappingWindow::draw_rows(App& app, const cow::Machine& m) {
    const size_t n = shown.request.pids.size();
    const float line = ImGui::GetTextLineHeight(), pad = 4.0f;
    const float W = ImGui::GetContentRegionAvail().x;
    const float addr_w = ImGui::CalcTextSize("0x7fffffffffff ").x;
    const float gap = 28.0f, scrollbar = ImGui::GetStyle().ScrollbarSize + 4.0f;
    const size_t left = (n + 1) / 2, right = n / 2;
    // The frames column takes a quarter, the entries share the rest; at a narrow width both shrink.
    const float frames_w = std::clamp(W * 0.26f, 120.0f, 260.0f);
    const float entry_w = std::clamp((W - addr_w - frames_w - 2 * gap - scrollbar) / float(std::max<size_t>(n, 1)), 70.0f, 240.0f);
    // Columns: address, the left processes, frames, the right processes.
    std::vector<float> col_x(n);
    float x = addr_w;
    for (size_t i = 0; i < left; ++i, x += entry_w) col_x[i] = x;
    const float frames_x = x + gap;
    x = frames_x + frames_w + gap;
    for (size_t i = 0; i < right; ++i, x += entry_w) col_x[left + i] = x;
    // The header: each process's name, pid and the page-table page that holds its first entry.
    const ImVec2 h0 = ImGui::GetCursorScreenPos();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    dl->AddText(h0, kDim, "virtual page");
    dl->AddText(ImVec2(h0.x + frames_x, h0.y), kDim, "physical frames");
    for (size_t i = 0; i < n; ++i) {
        const std::string t = fit(names_shown[i] + " (pid " + std::to_string(shown.request.pids[i].v) + ")", names_shown[i], entry_w);
        dl->AddText(ImVec2(h0.x + col_x[i], h0.y), IM_COL32_WHITE, t.c_str());
        const cow::FrameId tf = shown.row.front().cells[i].table_frame;
        const std::string pt = tf == cow::kNoFrame ? fit("no page table here", "no table", entry_w)
                                                   : fit("page table: frame " + count(tf.v), "table " + count(tf.v), entry_w);
        if (!compact) dl->AddText(ImVec2(h0.x + col_x[i], h0.y + line), kDim, pt.c_str());   // compact: in the entries' tooltips
    }
    ImGui::Dummy(ImVec2(W, (compact ? 1 : 2) * line + pad));
    // At least two rows of entries: in a short window the window scrolls to them.
    const float rows_h = std::max(ImGui::GetContentRegionAvail().y, 2 * (2 * line + 2 * pad) + 16);
    if (!ImGui::BeginChild("##mappingrows", ImVec2(0, rows_h), false)) {
        ImGui::EndChild();
        return;
    }
    dl = ImGui::GetWindowDrawList();
    const Layout L{col_x, entry_w, frames_x, frames_w, line, pad, 2 * line + 2 * pad, left};
    for (size_t r = 0; r < shown.row.size(); ++r) draw_row(app, m, r, L);
    ImGui::EndChild();
}

void MappingWindow::draw_row(App& app, const cow::Machine& m, size_t r, const Layout& L) {
    const cow::MappingRow& row = shown.row[r];
    const size_t groups = std::max<size_t>(row.frames.size(), 1);
    const float row_h = std::max(L.box_h, float(groups) * (L.box_h + 2)) + 6;
    const ImVec2 o = ImGui::GetCursorScreenPos();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    ImGui::PushID(int(r));
    // The virtual page (or range) of the row.
    dl->AddText(ImVec2(o.x, o.y + L.pad), IM_COL32_WHITE, hex(row.from).c_str());
    if (row.pages() > 1) dl->AddText(ImVec2(o.x, o.y + L.pad + L.line), kDim, (count(row.pages()) + " pages").c_str());
    // The frames, one box per group, stacked; then each process's entry and its line to them.
    std::vector<ImVec2> fbox(row.frames.size());
    for (size_t g = 0; g < row.frames.size(); ++g) fbox[g] = draw_frame(app, m, r, g, o, L);
    for (size_t i = 0; i < row.cells.size(); ++i) draw_entry(app, r, i, o, L, fbox);
    ImGui::SetCursorScreenPos(o);
    ImGui::Dummy(ImVec2(ImGui::GetContentRegionAvail().x, row_h));
    ImGui::PopID();
}

// Group g of row r's frames: a box with the frame (or the range of them), its kind and map count.
ImVec2 MappingWindow::draw_frame(App& app, const cow::Machine& m, size_t r, size_t g, ImVec2 o, const Layout& L) {
    const cow::MappingRow& row = shown.row[r];
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const cow::MappingFrames& f = row.frames[g];
    const ImVec2 a(o.x + L.frames_x, o.y + float(g) * (L.box_h + 2)), b(a.x + L.frames_w, a.y + L.box_h);
        std::string l1, l2;
    const float tw = L.frames_w - 16;
    if (f.pages == 1) l1 = fit("frame " + count(f.first.v) + "  " + cow::to_string(f.kind), "frame " + count(f.first.v), tw);
    else l1 = fit(count(f.pages) + " frames, " + count(f.lowest.v) + " to " + count(f.highest.v), count(f.pages) + " frames", tw);
    if (!row.alike) l2 = std::popcount(f.sharers) >= 2 ? "shared" : "one process's";
    else if (f.pages == 1)
        l2 = fit("mapped by " + std::to_string(f.mapcount) + "  content v" + std::to_string(f.content), "mapped by " + std::to_string(f.mapcount), tw);
    else l2 = fit("each mapped by " + std::to_string(f.mapcount), "mapped by " + std::to_string(f.mapcount), tw);
    ImGui::SetCursorScreenPos(a);
    ImGui::PushID(int(g) + 1000);
    if (ImGui::InvisibleButton("##frame", ImVec2(L.frames_w, L.box_h))) {
        if (row.pages() > 1) zoom_into(row);
        else app.focus_on(shown.request.pids[size_t(std::countr_zero(f.sharers))], row.from, f.first);
    }
    if (r < 8) app.note_control("mapping:r" + std::to_string(r) + ":f" + std::to_string(g));
    const bool hov = ImGui::IsItemHovered(), foc = app.focus.frame == f.first;
    ImGui::PopID();
    dl->AddRectFilled(a, b, kBoxBg, 3);
    dl->AddRectFilled(a, ImVec2(a.x + 6, b.y), frame_colour_u32(m, f.first), 3);
    dl->AddRect(a, b, foc ? kFocus : hov ? IM_COL32(200, 200, 220, 255) : kBoxEdge, 3, 0, foc ? 2.5f : 1.0f);
    dl->AddText(ImVec2(a.x + 12, a.y + L.pad), IM_COL32_WHITE, l1.c_str());
    dl->AddText(ImVec2(a.x + 12, a.y + L.pad + L.line), kDim, l2.c_str());
    if (hov) {
        ImGui::BeginTooltip();
        ImGui::Text("%s frames mapped by:", count(f.pages).c_str());
        for (size_t i = 0; i < row.cells.size(); ++i)
            if (f.sharers & (1u << i)) ImGui::BulletText("%s", names_shown[i].c_str());
        ImGui::Text("first frame %s: %s, mapped by %u entries", count(f.first.v).c_str(), cow::to_string(f.kind), f.mapcount);
        ImGui::EndTooltip();
    }
    return a;
}

// Process i's entries in row r: a box with the entry's bits and the frame it
// points at, edged green where a write goes through and orange where it traps,
// and a line to the frames it maps (fbox: where draw_frame put them).
void MappingWindow::draw_entry(App& app, size_t r, size_t i, ImVec2 o, const Layout& L, const std::vector<ImVec2>& fbox) {
    const cow::MappingRow& row = shown.row[r];
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const cow::MappingCell& c = row.cells[i];
    const bool on_left = i < L.left;
    const ImVec2 a(o.x + L.col_x[i], o.y), b(a.x + L.entry_w - 6, a.y + L.box_h);
    std::string l1, l2;
    ImU32 edge = kBoxEdge;
    const float tw = L.entry_w - 18;
    if (row.alike) {
        l1 = row.pages() == 1 ? entry_bits(c.first_entry)
                              : fit(count(row.pages()) + " entries " + entry_bits(c.first_entry), entry_bits(c.first_entry), tw);
        if (!c.first_in_vma) l1 = fit("no mapping here", "none", tw);
        if (cow::pte::is_present(c.first_entry)) {
            l2 = fit((row.pages() == 1 ? "-> frame " : "-> from frame ") + count(c.first_frame.v), "-> " + count(c.first_frame.v), tw);
            edge = (c.first_entry & cow::pte::writable) ? kWritable : kReadOnly;
        } else if (c.first_in_vma) {
            l2 = fit("no frame: a touch faults", "no frame", tw);
        }
    } else {
        l1 = fit(count(c.present) + " of " + count(row.pages()) + " present", count(c.present) + " present", tw);
        l2 = fit(count(c.writable) + " writable" + (c.huge ? ", " + count(c.huge) + " huge" : ""), count(c.writable) + " RW", tw);
    }
    ImGui::SetCursorScreenPos(a);
    ImGui::PushID(int(i) + 2000);
    if (ImGui::InvisibleButton("##entry", ImVec2(L.entry_w - 6, L.box_h))) {
        if (row.pages() > 1) zoom_into(row);
        else app.focus_on(shown.request.pids[i], row.from, c.first_frame);
    }
    if (r < 8) app.note_control("mapping:r" + std::to_string(r) + ":e" + std::to_string(i));
    const bool hov = ImGui::IsItemHovered();
    const bool foc = app.focus.pid == shown.request.pids[i] && app.focus.addr >= row.from && app.focus.addr < row.to;
    ImGui::PopID();
    dl->AddRectFilled(a, b, kBoxBg, 3);
    dl->AddRect(a, b, foc ? kFocus : hov ? IM_COL32(200, 200, 220, 255) : edge, 3, 0, foc ? 2.5f : 1.5f);
    dl->AddText(ImVec2(a.x + 6, a.y + L.pad), c.first_in_vma || !row.alike ? IM_COL32_WHITE : kDim, l1.c_str());
    dl->AddText(ImVec2(a.x + 6, a.y + L.pad + L.line), kDim, l2.c_str());
    if (hov) {
        ImGui::BeginTooltip();
        ImGui::Text("%s at %s", names_shown[i].c_str(), hex(row.from).c_str());
        ImGui::Text("entry 0x%016llx: %s", static_cast<unsigned long long>(c.first_entry), entry_bits(c.first_entry).c_str());
        if (c.table_frame != cow::kNoFrame) ImGui::Text("held in the page-table page at frame %s", count(c.table_frame.v).c_str());
        if (row.pages() > 1) ImGui::Text("click to see these %s pages", count(row.pages()).c_str());
        ImGui::EndTooltip();
    }
    // Lines: to the row's group for a run or a page, to every group it shares for a part.
    for (size_t g = 0; g < row.frames.size(); ++g) {
        if (!(row.frames[g].sharers & (1u << i))) continue;
        if (row.alike && int(g) != c.group) continue;
        const float ey = a.y + L.box_h * 0.5f, fy = fbox[g].y + L.box_h * 0.5f;
        const ImVec2 from = on_left ? ImVec2(b.x, ey) : ImVec2(a.x, ey);
        const ImVec2 to = on_left ? ImVec2(fbox[g].x, fy) : ImVec2(fbox[g].x + L.frames_w, fy);
        const ImU32 col = row.alike ? edge : kDim;
        dl->AddLine(from, to, col, 2.0f);
        const float s = on_left ? -7.0f : 7.0f;   // an arrowhead at the frame
        dl->AddTriangleFilled(to, ImVec2(to.x + s, to.y - 4), ImVec2(to.x + s, to.y + 4), col);
    }
}

// A run's pages are alike: zooming shows its first kMaxRows of them, a page a row;
// a part's pages are not: zooming shows the part.
void MappingWindow::zoom_into(const cow::MappingRow& row) {
    const u64 to = row.alike ? std::min(row.to, row.from + u64{kMaxRows} * cow::kPageSize) : row.to;
    zoom.push_back({row.from, to});
}

nlohmann::json MappingWindow::json(App& app) {
    refresh(app, true);
    nlohmann::json j = {{"processes", nlohmann::json::array()}, {"rows", nlohmann::json::array()}};
    if (!note.empty()) j["note"] = note;
    if (shown.row.empty()) return j;
    const cow::Machine& m = app.player.run().machine();
    for (cow::Pid p : shown.request.pids) j["processes"].push_back({{"name", process_name(app, p)}, {"pid", p.v}});
    j["from"] = shown.request.from;
    j["to"] = shown.request.to;
    j["rows_are"] = shown.rows == cow::Mapping::Rows::pages ? "pages" : shown.rows == cow::Mapping::Rows::runs ? "runs" : "parts";
    j["runs"] = shown.runs;
    for (const cow::MappingRow& r : shown.row) {
        nlohmann::json row = {{"from", r.from}, {"pages", r.pages()}, {"alike", r.alike}};
        for (const cow::MappingCell& c : r.cells)
            row["entries"].push_back({{"present", c.present}, {"writable", c.writable}, {"dirty", c.dirty}, {"huge", c.huge},
                                      {"zero", c.zero}, {"first_frame", c.first_frame == cow::kNoFrame ? -1 : long(c.first_frame.v)},
                                      {"first_writable", bool(c.first_entry & cow::pte::writable)}, {"group", c.group},
                                      {"table_frame", c.table_frame == cow::kNoFrame ? -1 : long(c.table_frame.v)}});
        for (const cow::MappingFrames& f : r.frames)
            row["frames"].push_back({{"sharers", f.sharers}, {"pages", f.pages}, {"first", f.first.v}, {"mapcount", f.mapcount},
                                     {"kind", cow::to_string(f.kind)}, {"code", cow::to_string(cow::frame_code(m.frames(), f.first))}});
        j["rows"].push_back(std::move(row));
    }
    j["summary"] = summary();
    j["step_events"] = story.size();
    if (event_at >= 0 && size_t(event_at) < story.size()) {
        const cow::Event& e = app.player.run().machine().events().at(story[size_t(event_at)]);
        auto name = [&](cow::Pid pid) { return process_name(app, pid); };
        j["event"] = {{"at", event_at + 1}, {"kind", cow::to_string(e.kind)}, {"sentence", cow::explain(e, name)}};
    }
    if (app.focus.pid != cow::kNoPid || app.focus.frame != cow::kNoFrame)
        j["focus"] = {{"pid", app.focus.pid.v}, {"addr", app.focus.addr}, {"frame", app.focus.frame == cow::kNoFrame ? -1 : long(app.focus.frame.v)}};
    return j;
}

// Zoom into a page's neighbourhood, for a focus set elsewhere (the page map).
void MappingWindow::show_page(App& app, cow::Pid pid, u64 addr) {
    const std::string name = process_name(app, pid, false);
    if (name.empty()) return;
    if (std::find(names.begin(), names.end(), name) == names.end()) {
        if (names.size() >= cow::kMaxMappingPids) names.pop_back();
        names.insert(names.begin(), name);
    }
    const auto [from, to] = vma_around(app.player.run().machine(), pid, addr);
    if (from >= to) return;
    zoom.assign(1, {from, to});
    const u64 a = std::max(from, cow::page_down(addr) - 8 * cow::kPageSize), b = std::min(to, a + 16 * cow::kPageSize);
    if (b - a < to - from) zoom.push_back({a, b});
}

}  // namespace cowlab
