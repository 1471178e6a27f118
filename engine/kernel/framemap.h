// framemap.h: physical memory as one byte per frame, for pictures.
//
// The lab's page map is drawn by a shader from this buffer
// (shaders/pagemap.frag holds its twin of these codes: keep them in step).
//
//   0 free          3 shared by 3+       6 page table     9 reserved (kernel)
//   1 private       4 zero page          7 huge page (PMD-mapped)
//   2 shared by 2   5 page cache, unmapped   8 huge page, shared
#pragma once

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
const char* to_string(FrameCode c);

FrameCode frame_code(const FrameTable& frames, FrameId f);

// Fills out[0 .. frames.total()) with one FrameCode per frame.
void fill_frame_map(const Machine& m, std::vector<u8>& out);

}  // namespace cow
