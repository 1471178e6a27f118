// metrics_window.cpp: MetricsWindow (windows.h): figures over time: memory
// after each step of the lesson, and a BGSAVE's COW size as the save went on.
#include <algorithm>
#include <cstdio>

#include "app.h"
#include "imgui.h"

namespace cowlab {

void MetricsWindow::draw(App& app) {
    const Player& P = app.player;
    if (!P.loaded()) return;
    const std::vector<Player::StepRecord>& h = P.history();
    const float w = ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ScrollbarSize, ph = 70.0f;
    auto plot = [&](const char* label, const std::vector<float>& v, const char* unit, bool asked = false) {
        if (v.empty()) return;
        if (asked) {   // the step asks it: not drawn until the step has run
            ImGui::TextDisabled("%s: ? (what this step asks you to predict)", label);
            return;
        }
        const float hi = *std::max_element(v.begin(), v.end());
        char overlay[96];
        std::snprintf(overlay, sizeof overlay, "%s: %.1f %s now, %.1f %s at most", label, v.back(), unit, hi, unit);
        ImGui::PlotLines(("##" + std::string(label)).c_str(), v.data(), int(v.size()), 0, overlay, 0.0f, hi > 0 ? hi * 1.1f : 1.0f, ImVec2(w, ph));
    };
    std::vector<float> used, anon, tables;
    for (const Player::StepRecord& r : h) {
        used.push_back(float(double(r.metrics.meminfo.used) / double(cow::MiB)));
        anon.push_back(float(double(r.metrics.meminfo.anon_pages) / double(cow::MiB)));
        tables.push_back(float(double(r.metrics.meminfo.page_tables) / double(cow::KiB)));
    }
    ImGui::TextDisabled("After each step of the lesson (%zu steps run)", h.size());
    plot("memory used", used, "MiB", P.hides("used"));
    plot("anonymous memory", anon, "MiB", P.hides("used") || P.hides("anon_pages"));
    plot("page tables", tables, "KiB", P.hides("page_tables"));
    // COW faults per simulated second, between one step and the next.
    std::vector<float> rate;
    for (size_t i = 1; i < h.size(); ++i) {
        cow::u64 copies = 0, before = 0;
        for (const cow::ProcMetrics& q : h[i].metrics.procs) copies += q.counters.cow_copies;
        for (const cow::ProcMetrics& q : h[i - 1].metrics.procs) before += q.counters.cow_copies;
        const double dt = double(h[i].metrics.time_ns - h[i - 1].metrics.time_ns) / 1e9;
        rate.push_back(dt > 0 && copies >= before ? float(double(copies - before) / dt) : 0.0f);
    }
    bool copies_asked = false;
    if (!h.empty())
        for (const cow::ProcMetrics& q : h.back().metrics.procs) copies_asked |= P.hides("cow_copies", q.name);
    plot("COW faults per simulated second", rate, "/s", copies_asked);
    // Rss and Pss of each process, step by step.
    if (!h.empty())
        for (const cow::ProcMetrics& last : h.back().metrics.procs) {
            std::vector<float> rss, pss;
            for (const Player::StepRecord& r : h)
                for (const cow::ProcMetrics& q : r.metrics.procs)
                    if (q.name == last.name) {
                        rss.push_back(float(double(q.mem.rss) / double(cow::MiB)));
                        pss.push_back(float(double(q.mem.pss()) / double(cow::MiB)));
                    }
            plot((last.name + " Rss").c_str(), rss, "MiB", P.hides("rss", last.name));
            plot((last.name + " Pss").c_str(), pss, "MiB", P.hides("pss", last.name));
        }
    const std::vector<cow::BgsaveSample>& s = P.run().bgsave_series();
    if (!s.empty()) {
        ImGui::Spacing();
        ImGui::TextDisabled("The last BGSAVE, %.2f s of saving, %zu samples", s.back().t_s, s.size());
        std::vector<float> cow_mib;
        for (const cow::BgsaveSample& x : s) cow_mib.push_back(float(double(x.child_private_dirty) / double(cow::MiB)));
        plot("COW size (the child's Private_Dirty)", cow_mib, "MiB");
    }
}

}  // namespace cowlab
