// framemap.cpp: one byte per frame, for the page map; the palette's names.
#include "framemap.h"

#include <algorithm>

namespace cow {

namespace {
constexpr bool palette_in_code_order() {
    for (int c = 0; c < kFrameCodeCount; ++c)
        if (int(kFramePalette[c].code) != c) return false;
    return true;
}
static_assert(palette_in_code_order(), "kFramePalette must list the FrameCodes in order");
}  // namespace

const char* to_string(FrameCode c) { return int(c) < kFrameCodeCount ? frame_style(c).name : "?"; }

FrameCode frame_code(const FrameTable& frames, FrameId f) {
    const Frame& fr = frames[f];
    switch (fr.kind()) {
        case FrameKind::free: return FrameCode::free;
        case FrameKind::zero:
        case FrameKind::huge_zero: return FrameCode::zero;
        case FrameKind::page_table: return FrameCode::page_table;
        case FrameKind::reserved: return FrameCode::reserved;
        case FrameKind::huge_head:
        case FrameKind::huge_tail: {
            u32 mc = frames.total_mapcount(f);
            if (frames.pmd_mapcount(f) == 0) return mc >= 3 ? FrameCode::shared3 : mc == 2 ? FrameCode::shared2 : mc == 1 ? FrameCode::private_page : FrameCode::cache;
            return mc >= 2 ? FrameCode::huge_shared : FrameCode::huge;
        }
        case FrameKind::anon:
        case FrameKind::file:
        case FrameKind::shmem: {
            u32 mc = fr.mapcount();
            if (mc == 0) return FrameCode::cache;
            return mc >= 3 ? FrameCode::shared3 : mc == 2 ? FrameCode::shared2 : FrameCode::private_page;
        }
    }
    return FrameCode::free;
}

const std::vector<std::pair<u64, u64>>& FrameMapFollower::refresh(const Machine& m) {
    const FrameTable& frames = m.frames();
    const ChunkedArray<Frame, 14>& now = frames.states();
    const std::vector<u32>& pmd = frames.pmd_maps();
    constexpr u64 kChunk = ChunkedArray<Frame, 14>::kChunk, kBlocks = kChunk / kPagesPerHuge;
    static_assert(kChunk % kPagesPerHuge == 0, "a chunk holds whole 2 MiB blocks");
    const bool same_machine = held_.size() == now.size() && pmd_maps_.size() == pmd.size();
    changed_.clear();
    codes_.resize(frames.total());
    for (size_t c = 0; c < now.chunk_count(); ++c) {
        const u64 first = c * kChunk, last = std::min<u64>(frames.total(), first + kChunk);
        if (same_machine && held_.chunk_id(c) == now.chunk_id(c)) {
            const size_t b0 = size_t(first / kPagesPerHuge), b1 = std::min(pmd.size(), size_t(b0 + kBlocks));
            if (std::equal(pmd.begin() + long(b0), pmd.begin() + long(b1), pmd_maps_.begin() + long(b0))) continue;
        }
        for (FrameId f{u32(first)}; f.v < last; ++f.v) codes_[f.v] = u8(frame_code(frames, f));
        if (!changed_.empty() && changed_.back().second == first) changed_.back().second = last;
        else changed_.emplace_back(first, last);
    }
    held_ = now;
    pmd_maps_ = pmd;
    return changed_;
}

void fill_frame_map(const Machine& m, std::vector<u8>& out) {
    const FrameTable& frames = m.frames();
    out.resize(frames.total());
    for (FrameId f; f.v < frames.total(); ++f.v) out[f.v] = u8(frame_code(frames, f));
}

}  // namespace cow
