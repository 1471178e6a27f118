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
    const std::vector<Player::StepPoint>& h = P.history();
    const float w = ImGui::GetContentRegionAvail().x - ImGui::GetStyle().ScrollbarSize, ph = 70.0f;
    auto plot = [&](const char* label, const std::vector<float>& v, const char* unit) {
        if (v.empty()) return;
        const float hi = *std::max_element(v.begin(), v.end());
        char overlay[96];
        std::snprintf(overlay, sizeof overlay, "%s: %.1f %s now, %.1f %s at most", label, v.back(), unit, hi, unit);
        ImGui::PlotLines(("##" + std::string(label)).c_str(), v.data(), int(v.size()), 0, overlay, 0.0f, hi > 0 ? hi * 1.1f : 1.0f, ImVec2(w, ph));
    };
    std::vector<float> used, anon, tables;
    for (const Player::StepPoint& p : h) {
        used.push_back(float(double(p.used) / double(cow::MiB)));
        anon.push_back(float(double(p.anon) / double(cow::MiB)));
        tables.push_back(float(double(p.page_tables) / double(cow::KiB)));
    }
    ImGui::TextDisabled("After each step of the lesson (%zu steps run)", h.size());
    plot("memory used", used, "MiB");
    plot("anonymous memory", anon, "MiB");
    plot("page tables", tables, "KiB");
    // COW faults per simulated second, between one step and the next.
    std::vector<float> rate;
    for (size_t i = 1; i < h.size(); ++i) {
        cow::u64 copies = 0, before = 0;
        for (const Player::ProcPoint& q : h[i].procs) copies += q.cow_copies;
        for (const Player::ProcPoint& q : h[i - 1].procs) before += q.cow_copies;
        const double dt = double(h[i].time_ns - h[i - 1].time_ns) / 1e9;
        rate.push_back(dt > 0 && copies >= before ? float(double(copies - before) / dt) : 0.0f);
    }
    plot("COW faults per simulated second", rate, "/s");
    // Rss and Pss of each process, step by step.
    if (!h.empty())
        for (const Player::ProcPoint& last : h.back().procs) {
            std::vector<float> rss, pss;
            for (const Player::StepPoint& p : h)
                for (const Player::ProcPoint& q : p.procs)
                    if (q.name == last.name) {
                        rss.push_back(float(double(q.rss) / double(cow::MiB)));
                        pss.push_back(float(double(q.pss) / double(cow::MiB)));
                    }
            plot((last.name + " Rss").c_str(), rss, "MiB");
            plot((last.name + " Pss").c_str(), pss, "MiB");
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
