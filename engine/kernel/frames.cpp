// frames.cpp: the physical frame table and its block allocator.
#include "frames.h"

#include <algorithm>
#include <bit>

namespace cow {

namespace {
[[noreturn]] void broken(const char* fn, const char* what, FrameId f) {
    invariant_broken(fn, std::string(what) + " (frame " + std::to_string(f.v) + ")");
}
}  // namespace

const char* to_string(FrameKind k) {
    switch (k) {
        case FrameKind::free: return "free";
        case FrameKind::anon: return "anon";
        case FrameKind::file: return "file";
        case FrameKind::shmem: return "shmem";
        case FrameKind::zero: return "zero";
        case FrameKind::page_table: return "page_table";
        case FrameKind::huge_head: return "huge_head";
        case FrameKind::huge_tail: return "huge_tail";
        case FrameKind::huge_zero: return "huge_zero";
        case FrameKind::reserved: return "reserved";
    }
    return "?";
}

FrameTable::FrameTable(u64 frame_count) : frames_(frame_count, Frame{}), content_(frame_count, 0) {
    u64 nblocks = (frame_count + kPagesPerHuge - 1) / kPagesPerHuge;
    blocks_.resize(nblocks);
    pmd_maps_.assign(nblocks, 0);
    pte_maps_.assign(nblocks, 0);
    free_blocks_.reserve(nblocks);
    // Blocks are handed out lowest first: keep them in the list in reverse.
    for (u64 b = nblocks; b-- > 0;) {
        Block& blk = blocks_[b];
        u64 first = b * kPagesPerHuge;
        u64 n = std::min<u64>(kPagesPerHuge, frame_count - first);
        for (u64 i = 0; i < n; ++i) blk.free_bits[i / 64] |= u64{1} << (i % 64);
        blk.free = u16(n);
        if (n == kPagesPerHuge) list_add(free_blocks_, u32(b));
    }
    // A short last block can never hold a huge page: it is partial from the start.
    if (nblocks && blocks_[nblocks - 1].free < kPagesPerHuge) list_add(partial_, u32(nblocks - 1));
    free_ = frame_count;
}

void FrameTable::list_remove(std::vector<u32>& list, u32 block) {
    u32 pos = blocks_[block].pos;
    u32 last = list.back();
    list[pos] = last;
    blocks_[last].pos = pos;
    list.pop_back();
}

void FrameTable::list_add(std::vector<u32>& list, u32 block) {
    blocks_[block].pos = u32(list.size());
    list.push_back(block);
}

FrameId FrameTable::alloc(FrameKind kind) {
    u32 b;
    if (!partial_.empty()) {
        b = partial_.back();
    } else if (!free_blocks_.empty()) {
        b = free_blocks_.back();
        list_remove(free_blocks_, b);
        list_add(partial_, b);
    } else {
        return kNoFrame;
    }
    Block& blk = blocks_[b];
    for (u32 w = 0; w < blk.free_bits.size(); ++w) {
        if (blk.free_bits[w] == 0) continue;
        u32 i = w * 64 + u32(std::countr_zero(blk.free_bits[w]));
        blk.free_bits[w] &= blk.free_bits[w] - 1;
        if (--blk.free == 0) list_remove(partial_, b);
        --free_;
        FrameId f(b * u32(kPagesPerHuge) + i);
        Frame& fr = frames_.mut(f.v);
        fr = Frame{};
        fr.set_kind(kind);
        content_.mut(f.v) = 0;
        return f;
    }
    broken("FrameTable::alloc", "partial block without a free frame", FrameId(b * u32(kPagesPerHuge)));
}

FrameId FrameTable::alloc_huge(FrameKind head_kind, FrameKind tail_kind) {
    if (free_blocks_.empty()) return kNoFrame;
    u32 b = free_blocks_.back();
    list_remove(free_blocks_, b);
    Block& blk = blocks_[b];
    blk.free_bits.fill(0);
    blk.free = 0;
    free_ -= kPagesPerHuge;
    FrameId head(b * u32(kPagesPerHuge));
    for (u32 i = 0; i < kPagesPerHuge; ++i) {
        Frame& fr = frames_.mut(head.v + i);
        fr = Frame{};
        fr.set_kind(i == 0 ? head_kind : tail_kind);
        content_.mut(head.v + i) = 0;
    }
    pmd_maps_[b] = 0;
    pte_maps_[b] = 0;
    return head;
}

void FrameTable::split_huge(FrameId head) {
    u32 b = head.v / u32(kPagesPerHuge);
    if (pmd_maps_[b] != 0) broken("FrameTable::split_huge", "huge page still PMD-mapped", head);
    for (u32 i = 0; i < kPagesPerHuge; ++i) frames_.mut(head.v + i).set_kind(FrameKind::anon);
    pte_maps_[b] = 0;
}

void FrameTable::free(FrameId f) {
    if (f.v >= frames_.size()) broken("FrameTable::free", "frame out of range", f);
    Frame& fr = frames_.mut(f.v);
    if (fr.kind() == FrameKind::free) broken("FrameTable::free", "double free", f);
    if (fr.mapcount() != 0) broken("FrameTable::free", "freeing a mapped frame", f);
    fr = Frame{};
    u32 b = f.v / u32(kPagesPerHuge);
    Block& blk = blocks_[b];
    blk.free_bits[(f.v % kPagesPerHuge) / 64] |= u64{1} << (f.v % 64);
    ++blk.free;
    ++free_;
    if (blk.free == 1) list_add(partial_, b);
    if (blk.free == kPagesPerHuge) {
        list_remove(partial_, b);
        list_add(free_blocks_, b);
    }
}

void FrameTable::free_huge(FrameId head) {
    if (head.v % kPagesPerHuge) broken("FrameTable::free_huge", "head not aligned", head);
    u32 b = head.v / u32(kPagesPerHuge);
    if (pmd_maps_[b] != 0 || pte_maps_[b] != 0) broken("FrameTable::free_huge", "huge page still mapped", head);
    for (u32 i = 0; i < kPagesPerHuge; ++i) {
        if (frames_[head.v + i].mapcount() != 0) broken("FrameTable::free_huge", "subpage still mapped", head + i);
        frames_.mut(head.v + i) = Frame{};
    }
    Block& blk = blocks_[b];
    blk.free_bits.fill(~u64{0});
    blk.free = u16(kPagesPerHuge);
    free_ += kPagesPerHuge;
    list_add(free_blocks_, b);
}

u32 FrameTable::refcount(FrameId f) const {
    const Frame& fr = frames_[f.v];
    switch (fr.kind()) {
        case FrameKind::free: return 0;
        case FrameKind::file:
        case FrameKind::shmem: return fr.mapcount() + 1;  // + the page cache's reference
        case FrameKind::zero:
        case FrameKind::huge_zero:
        case FrameKind::page_table:
        case FrameKind::reserved: return 1;
        case FrameKind::anon: return fr.mapcount();
        case FrameKind::huge_head:
        case FrameKind::huge_tail: {
            // A huge page has one refcount for the whole folio: one per mapping.
            return pmd_mapcount(f) + huge_pte_maps(f);
        }
    }
    return 0;
}

u64 FrameTable::host_bytes_for(u64 frame_count) {
    const u64 nblocks = (frame_count + kPagesPerHuge - 1) / kPagesPerHuge;
    return frame_count * (sizeof(Frame) + sizeof(Content)) + nblocks * (sizeof(Block) + 3 * sizeof(u32));
}

u64 FrameTable::host_bytes() const {
    return frames_.host_bytes() + content_.host_bytes() + blocks_.capacity() * sizeof(Block) +
           (pmd_maps_.capacity() + pte_maps_.capacity()) * sizeof(u32) + (free_blocks_.capacity() + partial_.capacity()) * sizeof(u32);
}

}  // namespace cow
