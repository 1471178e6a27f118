// font_glyphs.h: the characters the lab's font atlas holds (main.cpp) and, from the same
// list, the glyphs the build keeps of DejaVu Sans Mono before embedding it in the web lab
// (CMakeLists.txt reads the pairs below with a regular expression: keep them as hex pairs,
// first and last code point of a range, ending with 0). A character outside them is drawn as '?'.
//
// What the lab's own text uses (lessons, windows, units) is ASCII, µ, the tree's └ and ✓; Latin-1
// stays for names a recording or the user brings; dashes, arrows and the light box-drawing
// lines for text to come.
#pragma once

#include "imgui.h"

namespace cowlab {

// ImGui keeps the pointer: the array must outlive the fonts.
inline constexpr ImWchar kGlyphRanges[] = {
    0x0020, 0x007E,   // ASCII
    0x00A0, 0x00FF,   // Latin-1 (µ, ×, °, accented letters of names)
    0x2013, 0x2014,   // en and em dash
    0x2190, 0x2193,   // arrows
    0x2713, 0x2717,   // check and cross marks
    0x2500, 0x2503,   // box drawing: light and heavy lines
    0x250C, 0x251C,   // box drawing: corners and the tree's ├ └
    0x2524, 0x2524,   // ┤
    0x252C, 0x252C,   // ┬
    0x2534, 0x2534,   // ┴
    0x253C, 0x253C,   // ┼
    0,
};

}  // namespace cowlab
