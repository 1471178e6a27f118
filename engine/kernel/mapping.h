// mapping.h: the mapping view's query: a few processes' page-table entries
// over one range of virtual pages, side by side, and the frames they map.
//
//      parent (pid 1)                frames                 child (pid 2)
//   0x...4000 P R- D A  ─────>  #1,040 anon  map 2  <─────  P R- D A 0x...4000
//   0x...5000 P RW D A  ─────>  #1,041 anon  map 1
//                               #2,001 anon  map 1  <─────  P RW D A 0x...5000
//
// After fork both entries of a page point at one frame, read-only; after the
// child's write, the child's entry points at a copy, writable, and each frame
// is mapped once.
//
// A range of 16 GiB holds 4,194,304 pages, so the answer comes in rows:
//   - one row per page when the range has at most max_rows pages;
//   - else one row per run of pages that look alike in every process (same
//     entry bits, same kind and map count of frame, the same processes sharing
//     it), when there are at most max_rows runs: "1,023 entries -> 1,023
//     frames mapped by both";
//   - else max_rows equal parts of the range (a power of two pages each), each
//     summarised: how many of its pages each process maps, writable, and which
//     processes share their frames. The viewer zooms into one to see more.
//
//   MappingRequest q{{parent, child}, from, to};
//   Result<Mapping> m = machine.mapping(q);             // all at once, or:
//   Result<MappingScan> s = machine.mapping_begin(q);   // a part at a time
//   while (!s->done) machine.mapping_step(*s, 65536);   // about 65,536 pages a call
//   Mapping rows = std::move(s->result);
//
// Nothing may change the machine between the parts. (mapping.cpp)
#pragma once

#include <vector>

#include "frames.h"
#include "types.h"

namespace cow {

struct MappingRequest {
    std::vector<Pid> pids;       // 1 to kMaxMappingPids processes, in the order shown
    u64 from = 0, to = 0;        // virtual range [from, to), page aligned
    u32 max_rows = 64;           // 1 ..
};
constexpr size_t kMaxMappingPids = 8;

// One process's entries in a row.
struct MappingCell {
    u64 first_entry = 0;         // the leaf entry of the row's first page (a PTE or a huge PMD), 0: none
    FrameId first_frame = kNoFrame;   // the frame that page reads (a huge page's subpage), kNoFrame: none
    FrameId table_frame = kNoFrame;   // the page-table page that holds that entry (a PMD table's for a huge one)
    bool first_in_vma = false;   // that page lies inside one of the process's mappings
    // Of the row's pages:
    u64 in_vma = 0, present = 0, writable = 0, dirty = 0, huge = 0, zero = 0;
    u64 alone = 0;               // present and mapped by no other page-table entry (map count 1)
    int group = -1;              // run rows: the index in Row::frames of the frames it maps, -1: none
};

// Frames of a row that the same processes map (a "group"): the processes of
// `sharers` (bits in request order) map them at the same virtual page.
struct MappingFrames {
    u32 sharers = 0;
    u64 pages = 0;               // virtual pages of the row whose frame this group holds
    FrameId lowest = kNoFrame, highest = kNoFrame;
    FrameId first = kNoFrame;    // the frame of the group's first page
    FrameKind kind = FrameKind::free;   // ... its kind, map count and content version
    u32 mapcount = 0;
    Content content = 0;
};

struct MappingRow {
    u64 from = 0, to = 0;        // [from, to)
    bool alike = true;           // every page of the row looks alike (one page, or a run)
    std::vector<MappingCell> cells;     // one per request pid
    std::vector<MappingFrames> frames;  // in the order their first page meets them
    u64 pages() const { return (to - from) >> 12; }
};

struct Mapping {
    MappingRequest request;
    enum class Rows : u8 { pages, runs, parts } rows = Rows::pages;
    std::vector<MappingRow> row;
    u64 runs = 0;                // runs of alike pages in the range (counted to the end)
};

// The scan behind mapping(): see the top of this file.
struct MappingScan {
    MappingRequest request;
    Mapping result;
    bool done = false;
    u64 addr = 0;                // where the scan is
    u64 part_pages = 0;          // pages per part, if the rows become parts
    // Runs while there are at most max_rows of them; parts always.
    std::vector<MappingRow> runs, parts;
    std::vector<u64> last_sig;   // the signature of the last page (one word per pid)
    std::vector<size_t> vma_at;  // per pid: the first of its VMAs that ends past addr
};

}  // namespace cow
