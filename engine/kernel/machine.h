// machine.h: the simulated machine: all state, the operations, the queries.
//
// One plain value holds everything (frames, page tables, address spaces,
// processes, files, clock, events), so a snapshot is a copy and rewind is an
// assignment. Operations change it and append events; queries only read.
//
//   cow::Machine m = *cow::Machine::create(config);
//   cow::Pid p = *m.spawn(cow::default_image("redis-server"));
//   u64 buf = *m.mmap(p, {.len = 256 * cow::MiB, .name = "dataset"});
//   m.access(p, buf, 256 * cow::MiB, cow::Access::write);   // 65536 zero-fill faults
//   cow::Pid c = m.fork(p)->child;                           // page tables copied, pages shared
//   m.access(c, buf, 4096, cow::Access::write);              // one COW copy
//   m.smaps_rollup(c)->private_dirty;                        // 4096
//
// The implementation is split by concept, one file each:
//
//   process.cpp     spawn, fork (COW and eager), vfork, posix_spawn, exec, exit, wait
//   vma.cpp         mmap, munmap, mprotect, madvise; VMA layout; files; loading an image
//   pagetable.cpp   the walk (lookup, or with the caller's Allocator), split, zap, fork's copy
//   fault.cpp       accesses and the fault handler, one function per kind of fault
//   oom.cpp         frames for the kernel's paths, reclaim, the OOM killer, commit accounting
//   accounting.cpp  the queries: smaps, status, meminfo, translate, peek
//   mapping.cpp     the mapping view's query: several processes' entries side by side
//   invariants.cpp  check_invariants, one function per family of invariants
//   machine.cpp     create; events and the clock; dropping a mapping; address-space slots
//
// The headers it includes have their own: types.cpp, config.cpp, events.cpp,
// frames.cpp; framemap.cpp draws a machine's frames as one byte each.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "accounting.h"
#include "config.h"
#include "events.h"
#include "frames.h"
#include "mapping.h"
#include "pagetable.h"
#include "process.h"
#include "rng.h"
#include "vma.h"

namespace cow {

enum class Access : u8 { read, write };

enum class Advice : u8 {
    dontneed,     // MADV_DONTNEED: drop the pages; anonymous memory reads back as zeros
    dontfork,     // MADV_DONTFORK: the child does not get this range
    dofork,       // MADV_DOFORK
    wipeonfork,   // MADV_WIPEONFORK: the child gets it zero-filled
    keeponfork,   // MADV_KEEPONFORK
    hugepage,     // MADV_HUGEPAGE
    nohugepage,   // MADV_NOHUGEPAGE
};
const char* to_string(Advice a);

struct MmapArgs {
    u64 len = 0;
    u8 prot = prot::read | prot::write;
    bool shared = false;           // MAP_SHARED (else MAP_PRIVATE)
    FileId file = kNoFile;         // kNoFile: anonymous
    u64 offset = 0;                // into the file, page aligned
    std::string name;              // anonymous: shown as [anon:name]
};

struct AccessResult {
    u64 pages = 0;                 // pages touched
    u64 minor_faults = 0, major_faults = 0;
    u64 zero_page_maps = 0, zero_fills = 0;
    u64 cow_copies = 0, cow_reuses = 0;
    u64 thp_faults = 0, thp_splits = 0, thp_copies = 0;
    u64 file_faults = 0;
    u64 file_copies = 0;           // first writes to private file pages (data segments)
    u64 time_ns = 0;
};

struct ForkResult {
    Pid child = kNoPid;
    u64 time_ns = 0;
    u64 ptes_copied = 0;           // present entries copied (4 KiB or PMD)
    u64 pt_pages = 0;              // page-table pages allocated for the child (PGD included)
    u64 huge_pmds = 0;             // of the entries, huge PMDs (each with a page table deposited, in pt_pages)
    u64 pages_copied = 0;          // eager fork only
};

// A fork made a part at a time (the lab runs a fork of a 16 GiB process
// between frames): fork_begin makes the child's empty address space,
// fork_step copies VMAs and page tables until so many entries are copied and
// its last call makes the child a process (done; r is the fork's result).
// Between steps the machine is whole, the address space being built used by
// no process; nothing but reads may happen to the machine meanwhile. A fork
// made so ends exactly as fork() does.
struct ForkJob {
    Pid parent = kNoPid;
    bool eager = false;
    bool done = false;
    ForkResult r;                  // r.child: the pid the child will have
    u64 pages_done = 0, pages_total = 0;   // progress: pages of the VMAs whose tables are copied
    // Where the copy is.
    MmId mm;
    size_t vma = 0;                // index in the parent's VMAs
    bool in_vma = false;           // that VMA is in the child, its tables copied up to addr
    u64 addr = 0;
    u64 nvmas = 0, t0 = 0, pages_before_vma = 0;
};

// smaps_rollup a part at a time: the lab's figures after a step walk each
// process's page tables (a 16 GiB process: 4,194,304 entries). Nothing may
// change the machine between the parts.
struct RollupJob {
    Pid pid = kNoPid;
    MemStats s;
    bool done = false;
    size_t vma = 0;                // where the walk is
    u64 addr = 0;
};

// An address space unmapped a part at a time before exit or exec releases it.
struct UnmapJob {
    Pid pid = kNoPid;
    u64 pages_done = 0, pages_total = 0;   // progress: pages unmapped of the process's RSS
    bool zapping = true;           // false: the rest is the release's
    size_t vma = 0;                // where the unmap is
    u64 addr = 0;
};

// An exit made a part at a time, as a fork is (ForkJob): exit_step unmaps so
// many pages of the address space at a time; its last call is the exit. Ends
// exactly as exit() does; between steps the process is alive, part unmapped.
struct ExitJob {
    Pid pid = kNoPid;
    int code = 0;
    bool done = false;
    UnmapJob unmap;
};

// An exec so: exec_begin loads the new image (where exec can fail), exec_step
// unmaps the old address space a part at a time; its last call is the exec.
struct ExecJob {
    Pid pid = kNoPid;
    Image image;
    MmId mm;                       // the new address space, used by no process until the end
    bool done = false;
    UnmapJob unmap;
};

struct WaitResult {
    Pid pid = kNoPid;
    int status = 0;
};

class Machine {
public:
    static Result<Machine> create(const MachineConfig& config);
    Machine() = default;   // an empty machine without memory: use create()

    // ---- processes (process.cpp)
    Result<Pid> spawn(const Image& image, Pid parent = kNoPid);
    Result<ForkResult> fork(Pid parent);
    Result<ForkResult> fork_eager(Pid parent);   // "fork without COW": copy every private page now
    Result<ForkJob> fork_begin(Pid parent, bool eager);   // the same, a part at a time: see ForkJob
    Status fork_step(ForkJob& job, u64 max_entries);
    Result<ExitJob> exit_begin(Pid pid, int code);   // exit, a part at a time: see ExitJob
    Status exit_step(ExitJob& job, u64 max_pages);
    Result<ExecJob> exec_begin(Pid pid, const Image& image);   // exec, a part at a time: see ExecJob
    Status exec_step(ExecJob& job, u64 max_pages);
    Result<ForkResult> vfork(Pid parent);
    Result<ForkResult> posix_spawn(Pid parent, const Image& image);
    Status exec(Pid pid, const Image& image);
    Status exit(Pid pid, int code);
    Result<WaitResult> wait(Pid parent, Pid child = kNoPid);
    Status set_oom_score_adj(Pid pid, int adj);

    // ---- memory (vma.cpp, fault.cpp)
    Result<u64> mmap(Pid pid, const MmapArgs& args);
    Status munmap(Pid pid, u64 addr, u64 len);
    Status mprotect(Pid pid, u64 addr, u64 len, u8 prot);
    Status madvise(Pid pid, u64 addr, u64 len, Advice advice);
    Result<AccessResult> access(Pid pid, u64 addr, u64 len, Access kind);
    // Touch a list of pages (addresses rounded down), e.g. a workload's random writes.
    Result<AccessResult> access_pages(Pid pid, const std::vector<u64>& addrs, Access kind);
    Result<FileId> create_file(const std::string& name, u64 bytes);

    // ---- queries (accounting.cpp)
    const Process* process(Pid pid) const;
    std::vector<Pid> pids() const;                 // every process not yet reaped
    const Mm* address_space(Pid pid) const;
    Result<std::vector<VmaStats>> smaps(Pid pid) const;
    Result<MemStats> smaps_rollup(Pid pid) const;   // rollup_begin, then rollup_step to the end
    Result<RollupJob> rollup_begin(Pid pid) const;
    void rollup_step(RollupJob& job, u64 max_pages) const;   // about max_pages of the walk (whole 2 MiB ranges)
    Result<ProcStatus> status(Pid pid) const;
    MemInfo meminfo() const;
    u64 used_bytes() const;   // meminfo().used, without its walk of every frame
    // What a read of this address would return (a content version), without faulting.
    Result<u32> peek(Pid pid, u64 addr) const;
    // The leaf entry mapping addr (a PTE, or the PMD of a huge page), 0 if none.
    u64 translate(Pid pid, u64 addr) const;
    // Several processes' entries over a range, side by side (mapping.cpp, mapping.h).
    Result<Mapping> mapping(const MappingRequest& request) const;
    Result<MappingScan> mapping_begin(const MappingRequest& request) const;
    void mapping_step(MappingScan& scan, u64 max_pages) const;   // about max_pages (whole 2 MiB ranges)
    // mark[f] = value for every frame the process maps (the zero page left out; frames past mark's end too).
    void mark_frames(Pid pid, std::vector<u8>& mark, u8 value) const;
    // Every invariant of the machine; the message says which broke and where.
    Status check_invariants() const;
    u64 host_bytes() const;                        // host memory the state uses
    // Host memory of several machines (copies of one another, snapshots of a
    // run), the chunks they share (chunked.h) counted once.
    static u64 host_bytes_together(const std::vector<const Machine*>& machines);
    static u64 host_bytes_at_create(const MachineConfig& config);   // ... as create() makes it

    const MachineConfig& config() const { return cfg_; }
    const FrameTable& frames() const { return frames_; }
    const PageTables& tables() const { return tables_; }
    const EventLog& events() const { return events_; }
    const File& file(FileId id) const { return files_[id.v]; }
    u64 now_ns() const { return now_ns_; }
    u64 committed_pages() const { return committed_; }
    u64 commit_limit_pages() const;
    FrameId zero_frame() const { return zero_frame_; }
    // The one random generator, seeded by config().seed: workloads and lessons
    // draw their random choices from it, so a copy of the machine repeats them.
    Rng& rng() { return rng_; }

private:

    // oom.cpp: frames for the kernel's paths, reclaim, the OOM killer, commit
    //
    // A path that needs frames makes an Allocator and hands it down, as xv6's
    // walk(pagetable, va, alloc) is handed `alloc`: the page-table walk
    // allocates through it and holds no policy of its own. The allocator says
    // whom the frames are for (the events carry that pid) and what it may do
    // when memory is full: reclaim, then, a fault's, OOM-kill; fork's fails.
    struct Allocator {
        Pid pid = kNoPid;
        bool may_oom = false;
    };
    static Allocator fault_allocator(Pid pid) { return {pid, true}; }
    static Allocator fork_allocator(Pid child) { return {child, false}; }
    // A frame, or kNoFrame: memory is full and the allocator may not OOM-kill,
    // nothing is killable, or the OOM killer chose alloc.pid itself (the fault
    // unwinds, then the process is killed).
    FrameId alloc_frame(FrameKind kind, const Allocator& alloc);
    bool reclaim(u64 want);
    enum class OomVictim : u8 { none, other, self };
    OomVictim oom_kill(Pid faulting);
    long badness(const Process& p) const;
    // Charges pages to mm's commit; the mode 2 user reserve is taken from reserve_mm
    // (the kernel passes the parent's mm at fork).
    Status charge(Mm& mm, u64 pages, const Mm* reserve_mm = nullptr);
    void uncharge(Mm& mm, u64 pages);

    // machine.cpp: events, time, frames dropped, address-space slots
    void put_frame(FrameId f);           // drop one mapping; free when nothing maps it
    void emit(EventKind k, Pid pid, u64 addr = 0, FrameId frame = kNoFrame, u64 arg = 0);
    void advance(double ns);
    Status check_pid(Pid pid, const char* op, bool need_running = true) const;
    Process& proc(Pid pid) { return procs_[pid.v]; }
    const Process& proc(Pid pid) const { return procs_[pid.v]; }
    Content next_content() {   // 1 .. 65535, then around again: a written page never reads as zeros
        content_seq_ = content_seq_ == 0xffff ? 1 : content_seq_ + 1;
        return Content(content_seq_);
    }
    Content file_page_content(const File& f, u64 index) const;
    MmId new_mm();
    void release_mm(MmId mm);
    UnmapJob unmap_begin(Pid pid) const;
    bool unmap_step(UnmapJob& job, u64 max_entries);
    Mm& mm_at(MmId id) { return mms_[id.v]; }
    const Mm& mm_at(MmId id) const { return mms_[id.v]; }

    Result<ForkResult> fork_whole(Pid parent, bool eager);

    // pagetable.cpp
    // The walk. pmd_entry looks up (nullptr: a level is missing); pmd_alloc and
    // pte_alloc create the missing tables from the caller's allocator (nullptr:
    // no memory).
    TableId pmd_table(const Mm& mm, u64 addr) const;
    u64* pmd_entry(Mm& mm, u64 addr);
    const u64* pmd_entry(const Mm& mm, u64 addr) const;
    u64* pmd_alloc(Mm& mm, u64 addr, const Allocator& alloc);
    u64* pte_alloc(Mm& mm, u64 addr, const Allocator& alloc);
    TableId alloc_table(Mm& mm, bool counted, const Allocator& alloc);
    void zap_range(Mm& mm, u64 start, u64 end, Pid pid);       // unmap pages in [start,end)
    void free_tables(Mm& mm);
    void split_pmd(Mm& mm, u64 addr, Pid pid);
    void unmap_leaf(Mm& mm, u64 entry, bool huge);
    u64 copy_range(Mm& dst, Mm& src, const Vma& vma, bool eager, ForkResult& r, Pid child, Status& st, u64& a,
                   u64 max_entries);
    // One VMA being copied at fork: copy_page_range()'s state.
    struct ForkCopy {
        Mm& dst;
        const Vma& vma;
        bool eager;                      // fork without COW: copy private anonymous pages now
        ForkResult& r;
        Allocator alloc;                 // fork's: reclaims, never OOM-kills
        Status& st;                      // set on failure (no memory)
    };
    bool copy_huge_pmd(ForkCopy& c, u64* sp, u64* dpmd, u64 haddr);
    u64 copy_ptes(ForkCopy& c, u64* s, u64* d, u32 first, u32 last);

    // vma.cpp
    Vma* find_vma(Mm& mm, u64 addr);
    const Vma* find_vma(const Mm& mm, u64 addr) const;
    Result<u64> get_unmapped_area(Mm& mm, u64 len, u64 align);
    void insert_vma(Mm& mm, Vma v);
    void split_vma_at(Mm& mm, u64 addr);
    Status check_range(u64 addr, u64 len, const char* op) const;
    Status load_image(Mm& mm, const Image& image);
    void drop_vma_object(const Vma& v);
    void free_unused_tables(Mm& mm, u64 start, u64 end);
    void warm_image(Pid pid, const Image& image);
    void teardown(Pid pid, int status);
    FileId file_by_name(const std::string& name, u64 pages);

    // fault.cpp
    // fallback: no huge page could be had, fault a 4 KiB page instead (never leaves fault_page).
    enum class FaultOutcome : u8 { done, killed, fallback };
    // One fault, as the handler of its kind sees it (Linux's struct vm_fault).
    struct Fault {
        Pid pid;
        Mm& mm;
        Vma& vma;
        u64 addr;                        // page aligned
        bool write;
        AccessResult& r;
        Allocator alloc;                 // the fault's: reclaims, then OOM-kills
    };
    Status touch(Pid pid, u64 addr, u64 len, Access kind, AccessResult& r, Vma** hint = nullptr);
    void count_access(Pid pid, const AccessResult& r);
    FaultOutcome access_range(Pid pid, Mm& mm, Vma& vma, u64 a, u64 end, Access kind, AccessResult& r);
    const u64* pte_entry(const Mm& mm, u64 addr) const;
    FaultOutcome fault_page(Pid pid, Mm& mm, Vma& vma, u64 addr, Access kind, AccessResult& r);
    FaultOutcome fault_pte(Fault& f, u64* pte);
    FaultOutcome fault_anon(Fault& f, u64* pte);
    FaultOutcome fault_huge_anon(Fault& f, u64* pmd);
    FaultOutcome fault_huge_wp(Fault& f, u64* pmd);
    bool deposit_table(Fault& f, u64 haddr);
    FaultOutcome fault_file(Fault& f, u64* pte);
    bool fault_around(Fault& f, u64* pte, const File& file);
    FrameId file_page(Fault& f, File& file);
    FaultOutcome fault_file_copy(Fault& f, u64* pte, FrameId page);
    FaultOutcome fault_write_notify(Fault& f, u64* pte);
    FaultOutcome fault_cow(Fault& f, u64* pte);
    FaultOutcome fault_cow_zero(Fault& f, u64* pte);
    bool thp_enabled(const Vma& vma) const;
    void segfault(Pid pid, u64 addr);
    void kill_process(Pid pid, int signal);

    // accounting.cpp
    void account_range(const Mm& mm, const Vma& vma, MemStats& s) const;   // the VMA's size and its pages
    void account_pages(const Mm& mm, u64 from, u64 to, MemStats& s) const;   // pages in [from, to) of one VMA

    // invariants.cpp: check_invariants, family by family
    struct Census;
    Status check_mm(MmId id, Census& c) const;
    Status check_tables(const Mm& mm, Census& c) const;
    Status check_huge_pmd(const Mm& mm, u64 base, u64 pmd, Census& c) const;
    Status check_pte_table(const Mm& mm, u64 base, TableId t, Census& c) const;
    Status check_frames(Census& c) const;
    Status check_frame(FrameId f, Census& c) const;
    Status check_totals(const Census& c) const;

    MachineConfig cfg_{};
    FrameTable frames_;
    PageTables tables_;
    std::deque<Mm> mms_;                 // deques: references stay valid as they grow
    std::vector<MmId> free_mms_;
    std::deque<Process> procs_;          // indexed by pid; procs_[0] unused
    std::vector<File> files_;
    EventLog events_;
    FrameId zero_frame_ = kNoFrame;
    FrameId huge_zero_ = kNoFrame;
    u64 committed_ = 0;                  // Committed_AS in pages
    u64 shmem_committed_ = 0;            // the part of it held by shmem objects
    u64 now_ns_ = 0;
    double frac_ns_ = 0;
    u32 content_seq_ = 0;
    Rng rng_;                            // every random choice (rng.h)
    u32 live_procs_ = 0;
};

}  // namespace cow
