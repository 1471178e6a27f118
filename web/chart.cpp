// chart.cpp: line charts with axes (chart.h).
#include "chart.h"

#include <algorithm>
#include <cstdio>

#include "engine.h"
#include "text.h"

namespace cowlab {

namespace {

// The series colours: one table.
constexpr ImU32 kSeriesColours[] = {
    IM_COL32(110, 170, 255, 255),   // blue
    IM_COL32(255, 170, 70, 255),    // orange
    IM_COL32(120, 215, 120, 255),   // green
    IM_COL32(235, 110, 150, 255),   // pink
    IM_COL32(190, 150, 255, 255),   // violet
    IM_COL32(230, 220, 110, 255),   // yellow
    IM_COL32(110, 215, 215, 255),   // cyan
    IM_COL32(200, 200, 200, 255),   // grey
};

// How an axis's numbers are scaled and named: bytes in the unit the largest
// value needs, times likewise.
struct Scale {
    double div = 1;
    const char* name = "";
};

Scale scale_for(Unit u, double largest) {
    const double a = std::fabs(largest);
    if (u == Unit::bytes) {
        if (a >= double(cow::GiB)) return {double(cow::GiB), "GiB"};
        if (a >= double(cow::MiB)) return {double(cow::MiB), "MiB"};
        if (a >= double(cow::KiB)) return {double(cow::KiB), "KiB"};
        return {1, "B"};
    }
    if (u == Unit::ns) {
        if (a >= 1e9) return {1e9, "s"};
        if (a >= 1e6) return {1e6, "ms"};
        if (a >= 1e3) return {1e3, "\u00b5s"};
        return {1, "ns"};
    }
    if (u == Unit::seconds) return {1, "s"};
    return {};
}

// Ticks at 1, 2 or 5 times a power of ten (in the scaled unit), about `want` of them.
std::vector<double> nice_ticks(double lo, double hi, int want, bool whole) {
    std::vector<double> out;
    if (!(hi > lo)) return {lo};
    double step = (hi - lo) / std::max(1, want);
    const double p = std::pow(10.0, std::floor(std::log10(step)));
    const double m = step / p;
    step = (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
    if (whole) step = std::max(1.0, std::round(step));
    for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9 && out.size() < 50; t += step) out.push_back(t);
    return out;
}

std::string tick_text(double v, Unit u, const Scale& s) {
    if (u == Unit::step) return cow::format_number(v);
    return cow::format_number(v / s.div);
}

}  // namespace

ImU32 series_colour(size_t i) { return kSeriesColours[i % std::size(kSeriesColours)]; }

std::string format_axis_value(double v, Unit u) {
    switch (u) {
    case Unit::bytes: return cow::format_bytes(cow::u64(std::max(0.0, v)));
    case Unit::ns: {
        const Scale s = scale_for(u, v);
        return cow::format_number(v / s.div) + " " + s.name;
    }
    case Unit::seconds: return cow::format_number(v) + " s";
    case Unit::step: return "step " + cow::format_number(v);
    case Unit::count: break;
    }
    return cow::format_number(v);
}

bool draw_chart(const char* id, const Chart& c, ImVec2 size) {
    ImGui::PushID(id);
    if (size.x <= 0) size.x = ImGui::GetContentRegionAvail().x;
    if (!c.title.empty()) text_wrapped("%s", c.title.c_str());
    // The legend: a swatch and a name for each series, wrapping like words.
    const float sw = ImGui::GetTextLineHeight() * 0.8f;
    bool first = true;
    for (const Series& s : c.series) {
        const float w = sw + ImGui::GetStyle().ItemInnerSpacing.x + ImGui::CalcTextSize(s.name.c_str()).x;
        if (!first) same_line_if_room(w);
        first = false;
        const ImVec2 p = ImGui::GetCursorScreenPos();
        const float pad = (ImGui::GetTextLineHeight() - sw) / 2;
        ImGui::GetWindowDrawList()->AddRectFilled(ImVec2(p.x, p.y + pad), ImVec2(p.x + sw, p.y + pad + sw), s.colour, 2);
        ImGui::Dummy(ImVec2(sw, ImGui::GetTextLineHeight()));
        ImGui::SameLine(0, ImGui::GetStyle().ItemInnerSpacing.x);
        ImGui::TextUnformatted(s.name.c_str());
    }

    // The range of the data.
    double x0 = INFINITY, x1 = -INFINITY, y1 = 0;
    size_t points = 0;
    for (const Series& s : c.series)
        for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
            if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
            x0 = std::min(x0, s.x[i]);
            x1 = std::max(x1, s.x[i]);
            y1 = std::max(y1, s.y[i]);
            ++points;
        }
    const ImVec2 origin = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("plot", size);
    const bool hovered = ImGui::IsItemHovered();
    ImDrawList* dl = ImGui::GetWindowDrawList();
    const ImU32 axis_col = IM_COL32(150, 150, 150, 255), grid_col = IM_COL32(70, 70, 70, 255),
                text_col = ImGui::GetColorU32(ImGuiCol_Text), dim_col = ImGui::GetColorU32(ImGuiCol_TextDisabled);
    if (points == 0) {
        dl->AddRect(origin, ImVec2(origin.x + size.x, origin.y + size.y), grid_col);
        const ImVec2 t = ImGui::CalcTextSize(c.empty_text.c_str());
        dl->AddText(ImVec2(origin.x + (size.x - t.x) / 2, origin.y + (size.y - t.y) / 2), dim_col, c.empty_text.c_str());
        ImGui::PopID();
        return hovered;
    }
    if (x1 <= x0) {   // one x: a range around it, so that the point stands in the middle
        x0 -= 1;
        x1 += 1;
    }
    if (y1 <= 0) y1 = 1;
    // Ticks at round numbers of the unit shown (MiB, ms), not of bytes or ns.
    const Scale ys = scale_for(c.y.unit, y1), xs = scale_for(c.x.unit, x1);
    std::vector<double> yt = nice_ticks(0, y1 * 1.05 / ys.div, std::max(2, int(size.y / 45)), c.y.unit == Unit::count && y1 < 8);
    for (double& t : yt) t *= ys.div;
    const double ytop = std::max(y1 * 1.05, yt.back());
    std::vector<double> xt = nice_ticks(x0 / xs.div, x1 / xs.div, std::max(2, int(size.x / 90)), c.x.unit == Unit::step);
    for (double& t : xt) t *= xs.div;

    // The plot area: room on the left for the y ticks, below for the x ticks and the axis's label.
    float left = 0;
    for (double t : yt) left = std::max(left, ImGui::CalcTextSize(tick_text(t, c.y.unit, ys).c_str()).x);
    const float lh = ImGui::GetTextLineHeight();
    // (a line above it for the y axis's unit)
    const ImVec2 a(origin.x + left + 8, origin.y + lh * 1.3f), b(origin.x + size.x - 8, origin.y + size.y - lh * 2.2f);
    if (b.x - a.x < 40 || b.y - a.y < 20) {
        ImGui::PopID();
        return hovered;
    }
    auto px = [&](double x) { return float(a.x + (x - x0) / (x1 - x0) * (b.x - a.x)); };
    auto py = [&](double y) { return float(b.y - y / ytop * (b.y - a.y)); };
    for (double t : yt) {
        const float y = py(t);
        dl->AddLine(ImVec2(a.x, y), ImVec2(b.x, y), grid_col);
        const std::string s = tick_text(t, c.y.unit, ys);
        dl->AddText(ImVec2(a.x - 6 - ImGui::CalcTextSize(s.c_str()).x, y - lh / 2), text_col, s.c_str());
    }
    for (double t : xt) {
        const float x = px(t);
        dl->AddLine(ImVec2(x, b.y), ImVec2(x, b.y + 4), axis_col);
        const std::string s = tick_text(t, c.x.unit, xs);
        const float w = ImGui::CalcTextSize(s.c_str()).x;
        dl->AddText(ImVec2(std::clamp(x - w / 2, origin.x, origin.x + size.x - w), b.y + 5), text_col, s.c_str());
    }
    dl->AddLine(ImVec2(a.x, a.y), ImVec2(a.x, b.y), axis_col);
    dl->AddLine(ImVec2(a.x, b.y), ImVec2(b.x, b.y), axis_col);
    // The axes' names with their units: "MiB" at the top of the y axis, "time (s)" under the x axis.
    std::string xl = c.x.label + (xs.name[0] ? std::string(" (") + xs.name + ")" : "");
    dl->AddText(ImVec2(b.x - ImGui::CalcTextSize(xl.c_str()).x, b.y + 5 + lh), dim_col, xl.c_str());
    const std::string yl = c.y.label.empty() ? ys.name : c.y.label + (ys.name[0] ? std::string(" (") + ys.name + ")" : "");
    dl->AddText(ImVec2(std::max(origin.x, a.x - ImGui::CalcTextSize(yl.c_str()).x / 2), origin.y), dim_col, yl.c_str());

    if (std::isfinite(c.cursor) && c.cursor >= x0 && c.cursor <= x1)
        dl->AddLine(ImVec2(px(c.cursor), a.y), ImVec2(px(c.cursor), b.y), IM_COL32(255, 255, 255, 110), 1.5f);
    dl->PushClipRect(ImVec2(a.x - 4, a.y - 4), ImVec2(b.x + 4, b.y + 4), true);
    for (const Series& s : c.series) {
        const size_t n = std::min(s.x.size(), s.y.size());
        ImVec2 prev;
        bool have = false;
        for (size_t i = 0; i < n; ++i) {
            if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
                have = false;
                continue;
            }
            const ImVec2 p(px(s.x[i]), py(s.y[i]));
            if (have) dl->AddLine(prev, p, s.colour, 2.0f);
            if (n <= 40) dl->AddCircleFilled(p, 2.5f, s.colour);   // few points: each one shown
            prev = p;
            have = true;
        }
    }
    dl->PopClipRect();

    // Hover: the nearest x of the data, and every series' value there.
    if (hovered) {
        const double mx = x0 + (double(ImGui::GetIO().MousePos.x) - a.x) / (b.x - a.x) * (x1 - x0);
        double best = NAN;
        for (const Series& s : c.series)
            for (double x : s.x)
                if (std::isfinite(x) && (!std::isfinite(best) || std::fabs(x - mx) < std::fabs(best - mx))) best = x;
        if (std::isfinite(best)) {
            dl->AddLine(ImVec2(px(best), a.y), ImVec2(px(best), b.y), IM_COL32(255, 255, 255, 60));
            ImGui::BeginTooltip();
            ImGui::TextUnformatted((c.x.label.empty() ? "" : c.x.label + " ").append(
                c.x.unit == Unit::step ? cow::format_number(best) : format_axis_value(best, c.x.unit)).c_str());
            for (const Series& s : c.series) {
                const auto it = std::lower_bound(s.x.begin(), s.x.end(), best);
                if (it == s.x.end() || *it != best) continue;
                const size_t i = size_t(it - s.x.begin());
                if (i >= s.y.size() || !std::isfinite(s.y[i])) continue;
                ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(s.colour), "%s: %s", s.name.c_str(),
                                   format_axis_value(s.y[i], c.y.unit).c_str());
            }
            ImGui::EndTooltip();
        }
    }
    ImGui::PopID();
    return hovered;
}

}  // namespace cowlab
