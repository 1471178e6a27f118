// metrics_window.cpp: MetricsWindow (windows.h): figures over time as charts
// (chart.h): a BGSAVE's COW size as the save went on, first when the lesson
// ran one; then, after each step of the lesson, the machine's memory, each
// process's Pss and Rss, the page tables and the COW copies. A figure the
// current step asks is left out until the step has run.
#include <algorithm>
#include <cstdio>

#include "app.h"
#include "chart.h"
#include "imgui.h"
#include "redis.h"
#include "text.h"

namespace cowlab {

namespace {

// One series over the steps run: x the step's number (from 1), y what `get` reads of it.
template <class Get>
Series over_steps(const std::vector<Player::StepRecord>& h, std::string name, size_t colour, Get get) {
    Series s{std::move(name), {}, {}, series_colour(colour)};
    for (const Player::StepRecord& r : h) {
        s.x.push_back(double(r.metrics.step + 1));
        s.y.push_back(get(r.metrics));
    }
    return s;
}

// A process's figure at each step (NaN where it did not exist).
template <class Get>
Series of_process(const std::vector<Player::StepRecord>& h, const std::string& proc, size_t colour, Get get) {
    return over_steps(h, proc, colour, [&](const cow::StepMetrics& m) {
        for (const cow::ProcMetrics& q : m.procs)
            if (q.name == proc) return get(q);
        return double(NAN);
    });
}

}  // namespace

void MetricsWindow::draw(App& app) {
    const Player& P = app.player;
    if (!P.loaded()) return;
    const std::vector<Player::StepRecord>& h = P.history();
    // The charts scroll below the view tabs, which stay in sight.
    ImGui::BeginChild("charts", ImVec2(0, 0), false);
    const float w = ImGui::GetContentRegionAvail().x, ch = std::clamp(w * 0.38f, 150.0f, 260.0f);
    const double cursor = h.empty() ? NAN : double(h.back().metrics.step + 1);
    auto asked = [&](const char* what) {
        ImGui::TextDisabled("%s: not shown until this step has run (it is what you are asked to predict).", what);
        ImGui::Spacing();
    };

    const std::vector<cow::BgsaveSample>& bg = P.run().bgsave_series();
    if (!bg.empty()) {
        Chart c{"The last BGSAVE: the child's COW size (Private_Dirty) and the parent's Rss while it saved",
                {"time since the fork", Unit::seconds}, {"", Unit::bytes}, {}};
        Series cow{"COW size (the child's Private_Dirty)", {}, {}, series_colour(1)}, rss{"the server's Rss", {}, {}, series_colour(0)};
        for (const cow::BgsaveSample& x : bg) {
            cow.x.push_back(x.t_s);
            cow.y.push_back(double(x.child_private_dirty));
            rss.x.push_back(x.t_s);
            rss.y.push_back(double(x.parent_rss));
        }
        c.series = {cow, rss};
        draw_chart("bgsave", c, ImVec2(w, ch));
        ImGui::Spacing();
    }

    const std::string runs = h.empty() ? "" : " (" + std::to_string(h.size()) + " of " + std::to_string(P.lesson().steps.size()) + " run)";
    if (P.hides("used") || P.hides("anon_pages")) {
        asked("Memory in use");
    } else {
        Chart c{"The machine's memory after each step" + runs, {"step", Unit::step}, {"", Unit::bytes}, {}, cursor};
        c.series = {over_steps(h, "used", 0, [](const cow::StepMetrics& m) { return double(m.meminfo.used); }),
                    over_steps(h, "anonymous", 1, [](const cow::StepMetrics& m) { return double(m.meminfo.anon_pages); }),
                    over_steps(h, "Committed_AS", 2, [](const cow::StepMetrics& m) { return double(m.meminfo.committed_as); })};
        draw_chart("memory", c, ImVec2(w, ch));
        ImGui::Spacing();
    }

    // The processes of the last step run, in its order.
    std::vector<std::string> procs;
    if (!h.empty())
        for (const cow::ProcMetrics& q : h.back().metrics.procs) procs.push_back(q.name);
    struct PerProcess {
        const char* query;
        const char* title;
        Unit unit;
        double (*get)(const cow::ProcMetrics&);
    };
    const PerProcess figures[] = {
        {"pss", "Pss of each process: its own pages, and its share of the shared ones", Unit::bytes,
         [](const cow::ProcMetrics& q) { return double(q.mem.pss()); }},
        {"rss", "Rss of each process: every page it maps, shared or not", Unit::bytes,
         [](const cow::ProcMetrics& q) { return double(q.mem.rss); }},
        {"cow_copies", "COW copies of each process so far", Unit::count, [](const cow::ProcMetrics& q) { return double(q.counters.cow_copies); }},
    };
    for (const PerProcess& f : figures) {
        Chart c{f.title, {"step", Unit::step}, {"", f.unit}, {}, cursor};
        std::string hidden;
        for (size_t i = 0; i < procs.size() && i < 8; ++i) {
            if (P.hides(f.query, procs[i])) hidden += (hidden.empty() ? "" : ", ") + procs[i];
            else c.series.push_back(of_process(h, procs[i], i, f.get));
        }
        if (procs.size() > 8) c.title += " (the first 8 of " + std::to_string(procs.size()) + ")";
        draw_chart(f.query, c, ImVec2(w, ch));
        if (!hidden.empty()) ImGui::TextDisabled("Left out until this step has run: %s (what you are asked to predict).", hidden.c_str());
        ImGui::Spacing();
    }

    if (P.hides("page_tables")) {
        asked("Page tables");
    } else {
        Chart c{"Page tables: the memory the kernel's page tables take", {"step", Unit::step}, {"", Unit::bytes}, {}, cursor};
        c.series = {over_steps(h, "page tables", 4, [](const cow::StepMetrics& m) { return double(m.meminfo.page_tables); })};
        draw_chart("tables", c, ImVec2(w, ch));
    }
    ImGui::EndChild();
}

}  // namespace cowlab
