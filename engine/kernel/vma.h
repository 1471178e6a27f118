// vma.h: address spaces (mm) and their virtual memory areas; files.
//
// An address space is a sorted list of VMAs plus a page-table root. A VMA is
// a range with one set of permissions, one kind and one backing object:
//
//   0x555555554000 text    r-x  file private  (the image's code, page cache)
//   0x555555556000 data    rw-  file private  (COW from the page cache)
//   0x555555558000 bss     rw-  anonymous
//   0x555555559000 heap    rw-  anonymous     (brk)
//   0x7f..         anon    rw-  anonymous     (mmap)
//   0x7f..         libc    r-x  file private  (shared through the page cache)
//   0x7ffffffde000 stack   rw-  anonymous
//
// Files (and MAP_SHARED|MAP_ANONYMOUS objects, which the kernel backs with
// shmem) keep their pages in a page cache shared by every process mapping them.
//
// These are the data; the operations on them (mmap, munmap, mprotect, madvise,
// loading an image) are the machine's, in vma.cpp.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "pagetable.h"
#include "types.h"

namespace cow {

namespace prot {
constexpr u8 none = 0, read = 1, write = 2, exec = 4;
}

enum class VmaKind : u8 {
    text, rodata, data, bss, heap, stack,
    anon,          // MAP_PRIVATE|MAP_ANONYMOUS
    file_private,  // MAP_PRIVATE of a file
    shared_anon,   // MAP_SHARED|MAP_ANONYMOUS (shmem)
    file_shared,   // MAP_SHARED of a file
};
const char* to_string(VmaKind k);

namespace vmf {
constexpr u16 shared = 1 << 0;       // VM_SHARED
constexpr u16 dontfork = 1 << 1;     // VM_DONTCOPY (MADV_DONTFORK)
constexpr u16 wipeonfork = 1 << 2;   // VM_WIPEONFORK
constexpr u16 hugepage = 1 << 3;     // VM_HUGEPAGE (MADV_HUGEPAGE)
constexpr u16 nohugepage = 1 << 4;   // VM_NOHUGEPAGE
constexpr u16 account = 1 << 5;      // VM_ACCOUNT: charged to Committed_AS
constexpr u16 anon_vma = 1 << 6;     // has anonymous pages (fork must copy its PTEs)
constexpr u16 growsdown = 1 << 7;    // the stack
}  // namespace vmf

struct Vma {
    u64 start = 0, end = 0;   // [start, end), page aligned
    u8 prot = 0;
    VmaKind kind = VmaKind::anon;
    u16 flags = 0;
    FileId file = kNoFile;    // file or shmem object behind it
    u64 pgoff = 0;            // offset into the file, in pages
    std::string name;         // "[heap]", "[anon:buffer]", "/usr/lib/libc.so.6", ...

    u64 pages() const { return (end - start) >> kPageShift; }
    bool is_shared() const { return flags & vmf::shared; }
    bool is_anon() const { return file == kNoFile; }   // private anonymous
    bool contains(u64 a) const { return a >= start && a < end; }
};

struct File {
    std::string name;
    u64 pages = 0;
    bool shmem = false;                 // MAP_SHARED|MAP_ANONYMOUS object
    u32 users = 0;                      // VMAs referencing it (shmem is freed at 0)
    u32 seed = 0;                       // content of an uncached page: derived from this
    u64 committed = 0;                  // shmem: pages it charges to Committed_AS
    std::vector<FrameId> cache;         // page cache: page index -> frame or kNoFrame
};

struct Mm {
    std::vector<Vma> vmas;              // sorted by start, non-overlapping
    TableId pgd = kNoTable;
    u64 rss_anon = 0, rss_file = 0, rss_shmem = 0;   // pages (MM_*PAGES)
    u64 pt_pages = 0;                   // PTE + PMD + PUD tables (VmPTE); the PGD is not counted
    u64 committed = 0;                  // pages charged to Committed_AS
    u64 brk_start = 0, brk = 0;
    u64 mmap_base = 0;                  // top-down mmap allocations start below this
    u32 users = 0;                      // processes using it (vfork shares one)
    bool live = false;
    // Page-table pages deposited for PMD-mapped huge pages (pgtable_trans_huge_deposit),
    // keyed by the 2 MiB address: used when the PMD is split.
    std::map<u64, FrameId> deposited;

    u64 rss() const { return rss_anon + rss_file + rss_shmem; }
    u64 total_vm() const {
        u64 n = 0;
        for (const Vma& v : vmas) n += v.pages();
        return n;
    }
};

}  // namespace cow
