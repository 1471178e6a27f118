// framemap.h: physical memory as one byte per frame, for pictures, and the
// one palette of those codes (a colour and a name per code).
//
// The lab's page map is drawn by a shader from this buffer; the shader takes
// its colours from kFramePalette as a uniform (web/pagemap.cpp uploads it), so
// shaders/pagemap.frag holds no copy. The lab's legends and its other cell
// pictures read the same table.
//
//   0 free          3 shared by 3+       6 page table     9 reserved (kernel)
//   1 private       4 zero page          7 huge page (PMD-mapped)
//   2 shared by 2   5 page cache, unmapped   8 huge page, shared
#pragma once

#include <utility>
#include <vector>

#include "machine.h"

namespace cow {

enum class FrameCode : u8 {
    free = 0,
    private_page = 1,
    shared2 = 2,
    shared3 = 3,
    zero = 4,
    cache = 5,
    page_table = 6,
    huge = 7,
    huge_shared = 8,
    reserved = 9,
};
constexpr int kFrameCodeCount = 10;
const char* to_string(FrameCode c);   // the palette's name

// A colour as the GPU takes it: red, green, blue, alpha in 0 .. 1.
struct Rgba {
    float r, g, b, a;
};
struct FrameStyle {
    FrameCode code;
    const char* name;
    Rgba colour;
};
// One entry per code, in code order (kFramePalette[c].code == c).
inline constexpr FrameStyle kFramePalette[kFrameCodeCount] = {
    {FrameCode::free, "free", {0.11f, 0.12f, 0.14f, 1}},
    {FrameCode::private_page, "private", {0.27f, 0.62f, 0.93f, 1}},
    {FrameCode::shared2, "shared by 2", {0.98f, 0.74f, 0.25f, 1}},
    {FrameCode::shared3, "shared by 3+", {0.95f, 0.42f, 0.22f, 1}},
    {FrameCode::zero, "zero page", {0.55f, 0.55f, 0.60f, 1}},
    {FrameCode::cache, "page cache, unmapped", {0.30f, 0.36f, 0.42f, 1}},
    {FrameCode::page_table, "page table", {0.70f, 0.45f, 0.90f, 1}},
    {FrameCode::huge, "huge page", {0.25f, 0.78f, 0.55f, 1}},
    {FrameCode::huge_shared, "huge page, shared", {0.85f, 0.85f, 0.35f, 1}},
    {FrameCode::reserved, "kernel", {0.40f, 0.20f, 0.20f, 1}},
};
constexpr const FrameStyle& frame_style(FrameCode c) { return kFramePalette[int(c)]; }

FrameCode frame_code(const FrameTable& frames, FrameId f);

// A machine's frame map kept up to date as it changes: refresh() recomputes
// only the chunks of 16,384 frames whose state changed since the last one (a
// chunk the copy kept here still shares is unchanged: chunked.h), so following
// a 49 GiB machine while a step works costs what the step changed.
//
//   FrameMapFollower f;
//   for (auto [a, b] : f.refresh(m)) upload(f.codes(), a, b);   // frames [a, b) changed
class FrameMapFollower {
public:
    // The ranges of frames whose codes may have changed (all of them the first
    // time, or when the machine is another one), in order.
    const std::vector<std::pair<u64, u64>>& refresh(const Machine& m);
    const std::vector<u8>& codes() const { return codes_; }

private:
    ChunkedArray<Frame, 14> held_;   // the states as the last refresh saw them
    std::vector<u32> pmd_maps_;
    std::vector<u8> codes_;
    std::vector<std::pair<u64, u64>> changed_;
};

// Fills out[0 .. frames.total()) with one FrameCode per frame.
void fill_frame_map(const Machine& m, std::vector<u8>& out);

}  // namespace cow
