// chart.h: the lab's line charts, drawn with ImGui's draw lists: axes with
// ticks in the quantity's units, a legend, a cursor, a hover read-out, and
// said states for no data and one point. (ImPlot would do this, but Debian
// does not package it and nothing is vendored here: this is the small part of
// it the lab needs.)
//
//   Chart c{"Memory after each step", {"step", Unit::step}, {"", Unit::bytes}};
//   c.series.push_back({"used", xs, ys, colour});
//   c.cursor = current_step;
//   draw_chart("mem", c, ImVec2(width, 180));
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "imgui.h"

namespace cowlab {

// What an axis counts, and so how its ticks read.
enum class Unit {
    count,   // 1,024
    bytes,   // ticks in B, KiB, MiB or GiB, whichever the range needs
    ns,      // simulated time: ticks in ns, µs, ms or s
    seconds, // seconds
    step,    // a lesson's steps, numbered from 1: whole ticks only
};

struct Axis {
    std::string label;
    Unit unit = Unit::count;
};

struct Series {
    std::string name;
    std::vector<double> x, y;   // of equal length, x rising
    ImU32 colour = IM_COL32(120, 180, 255, 255);
};

struct Chart {
    std::string title;
    Axis x, y;
    std::vector<Series> series;
    double cursor = NAN;        // an x to mark (the step shown); NaN: none
    std::string empty_text = "No figures yet: run a step.";
};

// Draws the chart in a box of `size` (x <= 0: the width available) and
// returns whether the mouse is over it.
bool draw_chart(const char* id, const Chart& c, ImVec2 size);

// A value on an axis of this unit, with its unit: "4.0 MiB", "12 ms", "step 3".
std::string format_axis_value(double v, Unit u);

// The series colours, in order (distinct on the lab's dark background).
ImU32 series_colour(size_t i);

}  // namespace cowlab
