// frames.h: physical memory: 4 KiB frames, their counts, and the allocator.
//
// Each frame is 6 bytes of state: 4 of counts and kind, 2 of content.
//
//   31                        8 7    4 3    0      15             0
//   +-------------------------+------+------+     +---------------+
//   |         mapcount        | kind | flag |     |    content    |
//   +-------------------------+------+------+     +---------------+
//
//   mapcount  how many page-table entries map this frame (page_mapcount for a
//             small page; for a subpage of a huge page, its PTE mappings: the
//             PMD mappings of the whole huge page are counted once, per block)
//   kind      free, anonymous, file page cache, shmem, zero page, page table,
//             huge head / huge tail (an anonymous transparent huge page)
//   flags     dirty (PG_dirty: a page-cache page that must be written back)
//   content   a version number standing for the page's bytes: a write stores
//             a fresh number (16 bits, never 0; it wraps after 65,535 writes),
//             a copy copies it, a zeroed page holds 0
//
// The reference count is derived, as the kernel's is for these pages:
// mapcount plus one for the page cache (file/shmem) plus one for the kernel's
// own pages (zero page, page tables).
//
// Frames are grouped in 2 MiB blocks of 512. The allocator serves 4 KiB
// frames from partly used blocks first, so that whole free blocks remain for
// huge pages (a crude stand-in for the buddy allocator's anti-fragmentation).
// The table never reclaims or kills: when it is full, alloc returns kNoFrame,
// and the machine's allocator decides what to do (oom.cpp). (frames.cpp)
#pragma once

#include <array>
#include <vector>

#include "chunked.h"
#include "types.h"

namespace cow {

enum class FrameKind : u8 {
    free = 0,
    anon,        // private anonymous page (MM_ANONPAGES)
    file,        // page cache page of a file (MM_FILEPAGES when mapped)
    shmem,       // page of a MAP_SHARED|MAP_ANONYMOUS object (MM_SHMEMPAGES)
    zero,        // the shared zero page (never counted in RSS)
    page_table,  // a page-table page (counted in VmPTE)
    huge_head,   // first frame of an anonymous transparent huge page
    huge_tail,   // frames 1..511 of it
    huge_zero,   // the huge zero page (all 512 frames)
    reserved,    // kept by the kernel at boot
};
constexpr int kFrameKindCount = 10;
const char* to_string(FrameKind k);

using Content = u16;

struct Frame {
    u32 bits = 0;     // mapcount << 8 | kind << 4 | flags

    static constexpr u32 kDirty = 1;

    u32 mapcount() const { return bits >> 8; }
    FrameKind kind() const { return FrameKind((bits >> 4) & 0xf); }
    bool dirty() const { return bits & kDirty; }
    void set_mapcount(u32 n) { bits = (bits & 0xff) | (n << 8); }
    void map() { bits += 1u << 8; }
    void unmap() { bits -= 1u << 8; }
    void set_kind(FrameKind k) { bits = (bits & ~0xf0u) | (u32(k) << 4); }
    void set_dirty(bool d) { bits = d ? (bits | kDirty) : (bits & ~kDirty); }
};
static_assert(sizeof(Frame) == 4);

constexpr u32 kMaxMapcount = (1u << 24) - 1;

class FrameTable {
public:
    FrameTable() = default;
    explicit FrameTable(u64 frame_count);

    u64 total() const { return frames_.size(); }
    u64 free_count() const { return free_; }
    u64 used_count() const { return total() - free_; }
    u64 free_huge_blocks() const { return free_blocks_.size(); }

    // One 4 KiB frame of the given kind, or kNoFrame when memory is full.
    FrameId alloc(FrameKind kind);
    // 512 contiguous frames on a 2 MiB boundary (head + tails), or kNoFrame.
    FrameId alloc_huge(FrameKind head_kind = FrameKind::huge_head,
                       FrameKind tail_kind = FrameKind::huge_tail);
    void free(FrameId f);
    void free_huge(FrameId head);

    // A frame to change (its chunk copied first if a copy of the table shares it), or to read.
    Frame& operator[](FrameId f) { return frames_.mut(f.v); }
    const Frame& operator[](FrameId f) const { return frames_[f.v]; }
    Content& content(FrameId f) { return content_.mut(f.v); }
    Content content(FrameId f) const { return content_[f.v]; }
    // A hint: the frame's state and content are about to be read (a walk over
    // pages in random order misses the host's caches on every frame).
    void prefetch(FrameId f) const {
        if (f.v >= frames_.size()) return;
        __builtin_prefetch(&frames_[f.v]);
        __builtin_prefetch(&content_[f.v]);
    }

    // Add / drop one PTE mapping of a frame (a subpage of a huge page also
    // counts toward its huge page's PTE mappings).
    void map(FrameId f) {
        frames_.mut(f.v).map();
        if (in_huge_page(f)) ++pte_maps_[f.v / kPagesPerHuge];
    }
    void unmap(FrameId f) {
        frames_.mut(f.v).unmap();
        if (in_huge_page(f)) --pte_maps_[f.v / kPagesPerHuge];
    }
    // PTE mappings of all subpages of the huge page whose head is in this block.
    u32 huge_pte_maps(FrameId f) const { return pte_maps_[f.v / kPagesPerHuge]; }
    // Turn a huge page into 512 independent anonymous pages (split_huge_page).
    void split_huge(FrameId head);

    // PMD mappings of the huge page whose head is in this block.
    u32 pmd_mapcount(FrameId f) const { return pmd_maps_[f.v / kPagesPerHuge]; }
    void pmd_map(FrameId head) { ++pmd_maps_[head.v / kPagesPerHuge]; }
    void pmd_unmap(FrameId head) { --pmd_maps_[head.v / kPagesPerHuge]; }
    static FrameId huge_head_of(FrameId f) { return FrameId(f.v & ~u32(kPagesPerHuge - 1)); }
    bool in_huge_page(FrameId f) const {
        FrameKind k = frames_[f.v].kind();
        return k == FrameKind::huge_head || k == FrameKind::huge_tail;
    }
    // The kernel's page_mapcount(): PTE mappings plus PMD mappings of its huge page.
    u32 total_mapcount(FrameId f) const {
        return frames_[f.v].mapcount() + (in_huge_page(f) ? pmd_mapcount(f) : 0);
    }
    // The kernel's page_count() for the pages this model has (see above).
    u32 refcount(FrameId f) const;

    // Bytes of host memory this table uses (for the memory-per-page benchmark).
    u64 host_bytes() const;
    // The chunks copies of this table share (fn(address, bytes)): see chunked.h.
    template <class Fn>
    void for_each_chunk(Fn&& fn) const {
        frames_.for_each_chunk(fn);
        content_.for_each_chunk(fn);
    }
    static u64 host_bytes_for(u64 frame_count);   // of a new table of so many frames
    // The per-frame state as stored, and the PMD mapcounts per 2 MiB block:
    // for readers that follow the table as it changes (framemap.h).
    const ChunkedArray<Frame, 14>& states() const { return frames_; }
    const std::vector<u32>& pmd_maps() const { return pmd_maps_; }
    // Whether every frame of 2 MiB block b (frames b * 512 ..) is free: walks skip it.
    bool block_free(u32 b) const { return b < blocks_.size() && blocks_[b].free == kPagesPerHuge; }

private:
    struct Block {
        std::array<u64, kPagesPerHuge / 64> free_bits{};  // 1 = free
        u16 free = 0;
        u32 pos = 0;  // position in free_blocks_ or partial_ (whichever holds it)
    };
    void list_remove(std::vector<u32>& list, u32 block);
    void list_add(std::vector<u32>& list, u32 block);
    void set_used(FrameId f);

    // Per frame, in chunks of 16,384 frames that copies of the table share until one writes.
    ChunkedArray<Frame, 14> frames_;
    ChunkedArray<Content, 14> content_;   // apart from frames_, so that a frame costs 6 bytes, not 8
    std::vector<Block> blocks_;
    std::vector<u32> pmd_maps_;      // per 2 MiB block
    std::vector<u32> pte_maps_;      // per 2 MiB block: PTE mappings of a huge page's subpages
    std::vector<u32> free_blocks_;   // blocks with 512 free frames
    std::vector<u32> partial_;       // blocks with 1..511 free frames
    u64 free_ = 0;
};

}  // namespace cow
