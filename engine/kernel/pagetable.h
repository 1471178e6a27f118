// pagetable.h: x86-64 four-level page tables and their entries.
//
// A virtual address splits into four 9-bit table indices and a page offset:
//
//   47      39 38      30 29      21 20      12 11         0
//   +---------+----------+----------+----------+------------+
//   |  PGD    |   PUD    |   PMD    |   PTE    |   offset   |
//   +---------+----------+----------+----------+------------+
//
// Every table is one 4 KiB page-table page of 512 entries, and lives in a
// physical frame of kind page_table: fork copies these, not the pages they map.
// An entry is 64 bits laid out as on x86-64:
//
//   63    52 51                      12 11  9  8  7  6  5  4  3  2  1  0
//   +-------+--------------------------+--+--+--+--+--+--+--+--+--+--+--+
//   |       |        frame (PFN)       |SD|SP|  |PS| D| A|  |  | U|RW| P|
//   +-------+--------------------------+--+--+--+--+--+--+--+--+--+--+--+
//
//   P present, RW writable, U user, A accessed, D dirty, PS huge (a PMD entry
//   mapping 2 MiB), SP special (the zero page: no struct page behind it),
//   SD soft-dirty (bit 11, _PAGE_SOFT_DIRTY).
//
// In upper-level entries (PGD, PUD, PMD without PS) the PFN field holds the
// index of the next table in the machine's table pool, whose physical frame is
// `PageTables::frame(id)`; a leaf entry's PFN field is the mapped frame.
//
// This header is the data: the entries and the pool. The walk over them is
// the machine's (pagetable.cpp): Machine::pmd_entry looks up, and
// pmd_alloc / pte_alloc create missing tables from an Allocator the caller
// passes, as xv6's walk(pagetable, va, alloc), so that the walk holds no
// policy: a fault's allocator may OOM-kill, fork's may not (oom.cpp).
#pragma once

#include <array>
#include <vector>

#include "chunked.h"
#include "types.h"

namespace cow {

namespace pte {
constexpr u64 present = u64{1} << 0;
constexpr u64 writable = u64{1} << 1;
constexpr u64 user = u64{1} << 2;
constexpr u64 accessed = u64{1} << 5;
constexpr u64 dirty = u64{1} << 6;
constexpr u64 huge = u64{1} << 7;
constexpr u64 special = u64{1} << 9;
constexpr u64 soft_dirty = u64{1} << 11;
constexpr u64 pfn_mask = ((u64{1} << 40) - 1) << 12;

inline FrameId pfn(u64 e) { return FrameId(u32((e & pfn_mask) >> 12)); }
inline u64 make(FrameId frame, u64 flags) { return (u64(frame.v) << 12) | flags; }
inline bool is_present(u64 e) { return e & present; }
}  // namespace pte

using TableId = u32;
constexpr TableId kNoTable = 0xffffffffu;

namespace pte {
// An entry above the leaves (PGD, PUD, a PMD that is not huge) holds the id of
// the next table where a leaf holds a frame.
inline TableId table(u64 e) { return TableId((e & pfn_mask) >> 12); }
inline u64 make_table(TableId t, u64 flags) { return (u64(t) << 12) | flags; }
}  // namespace pte

inline u32 pgd_index(u64 a) { return u32((a >> 39) & 511); }
inline u32 pud_index(u64 a) { return u32((a >> 30) & 511); }
inline u32 pmd_index(u64 a) { return u32((a >> 21) & 511); }
inline u32 pte_index(u64 a) { return u32((a >> 12) & 511); }

// The pool of page-table pages of the whole machine. Tables never move once
// created (std::deque), so a pointer to an entry stays valid while the table
// lives; the pool copies by value for snapshots.
class PageTables {
public:
    using Table = std::array<u64, kEntriesPerTable>;

    TableId create(FrameId frame);
    void destroy(TableId id);
    // A table to write (copied first if a copy of these tables shares it) or to read.
    Table& operator[](TableId id) { return tables_.mut(id); }
    const Table& operator[](TableId id) const { return tables_[id]; }
    FrameId frame(TableId id) const { return frames_[id]; }
    u64 live() const { return tables_.size() - free_.size(); }
    u64 host_bytes() const { return tables_.host_bytes() + (frames_.capacity() + free_.capacity()) * sizeof(u32); }
    template <class Fn>
    void for_each_chunk(Fn&& fn) const { tables_.for_each_chunk(fn); }

private:
    ChunkedArray<Table, 4> tables_;   // 16 tables (64 KiB) a chunk, shared by copies until written
    std::vector<FrameId> frames_;
    std::vector<TableId> free_;
};

}  // namespace cow
