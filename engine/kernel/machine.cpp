// machine.cpp: creating a machine; events and the clock; dropping a frame's
// mapping; address-space slots; the state's host memory.
#include <algorithm>

#include "machine.h"

namespace cow {

Result<Machine> Machine::create(const MachineConfig& config) {
    if (Status st = validate(config); !st) return st;
    Machine m;
    m.cfg_ = config;
    m.frames_ = FrameTable(config.ram_bytes / kPageSize);
    m.events_ = EventLog(config.event_capacity);
    m.rng_ = Rng{config.seed};
    m.procs_.resize(1);  // pid 0 is never a process
    for (u64 i = 0; i < config.kernel_reserved_bytes / kPageSize; ++i) m.frames_.alloc(FrameKind::reserved);
    m.zero_frame_ = m.frames_.alloc(FrameKind::zero);
    return m;
}

// ---------------------------------------------------------------- events, time

void Machine::emit(EventKind k, Pid pid, u64 addr, FrameId frame, u64 arg) {
    events_.push(now_ns_, addr, arg, pid, frame, k);
}

void Machine::advance(double ns) {
    frac_ns_ += ns;
    u64 whole = u64(frac_ns_);
    now_ns_ += whole;
    frac_ns_ -= double(whole);
}

Status Machine::check_pid(Pid pid, const char* op, bool need_running) const {
    if (pid == kNoPid || pid.v >= procs_.size() || proc(pid).state == ProcState::reaped)
        return fail(Errc::no_such_process, std::string(op) + ": no process " + std::to_string(pid.v));
    const Process& p = proc(pid);
    if (need_running && p.state != ProcState::running)
        return fail(Errc::not_running, std::string(op) + ": process " + std::to_string(pid.v) + " is " +
                                           to_string(p.state));
    return {};
}

// ---------------------------------------------------------------- frames

// Drop one PTE mapping of a frame; free it when nothing holds it any more.
void Machine::put_frame(FrameId f) {
    Frame& fr = frames_[f];
    FrameKind k = fr.kind();
    if (fr.mapcount() == 0) invariant_broken("Machine::put_frame", "unmapping an unmapped frame " + std::to_string(f.v));
    frames_.unmap(f);
    if (k == FrameKind::huge_head || k == FrameKind::huge_tail) {
        FrameId head = FrameTable::huge_head_of(f);
        if (frames_.pmd_mapcount(head) == 0 && frames_.huge_pte_maps(head) == 0) {
            frames_.free_huge(head);
            emit(EventKind::frame_free, kNoPid, 0, head, kHugeSize);
        }
        return;
    }
    if (fr.mapcount() != 0) return;
    if (k == FrameKind::anon) {
        frames_.free(f);
        emit(EventKind::frame_free, kNoPid, 0, f);
    }
    // file and shmem pages stay in their page cache
}

// ---------------------------------------------------------------- address spaces

MmId Machine::new_mm() {
    MmId id;
    if (!free_mms_.empty()) {
        id = free_mms_.back();
        free_mms_.pop_back();
        mm_at(id) = Mm{};
    } else {
        id = MmId(u32(mms_.size()));
        mms_.emplace_back();
    }
    mm_at(id).live = true;
    mm_at(id).users = 1;
    return id;
}

Content Machine::file_page_content(const File& f, u64 index) const {
    // Stands for the file's bytes on disk: fixed per file and page, never 0.
    return Content(((f.seed * 2654435761u) ^ u32(index * 40503u)) | 0x8000u);
}

u64 Machine::host_bytes_at_create(const MachineConfig& config) {
    return sizeof(Machine) + FrameTable::host_bytes_for(config.ram_bytes / kPageSize) + u64(config.event_capacity) * sizeof(Event);
}

u64 Machine::host_bytes() const {
    u64 n = sizeof(Machine) + frames_.host_bytes() + tables_.host_bytes();
    n += events_.host_bytes();
    for (const Mm& mm : mms_) n += sizeof(Mm) + mm.vmas.capacity() * sizeof(Vma) + mm.deposited.size() * 48;
    for (const File& f : files_) n += sizeof(File) + f.cache.capacity() * sizeof(FrameId);
    n += procs_.size() * sizeof(Process);
    return n;
}

u64 Machine::host_bytes_together(const std::vector<const Machine*>& machines) {
    std::vector<std::pair<const void*, u64>> chunks;
    u64 n = 0;
    for (const Machine* m : machines) {
        u64 chunked = 0;
        const auto add = [&](const void* p, u64 bytes) {
            chunks.emplace_back(p, bytes);
            chunked += bytes;
        };
        m->frames_.for_each_chunk(add);
        m->tables_.for_each_chunk(add);
        m->events_.for_each_chunk(add);
        n += m->host_bytes() - chunked;
    }
    std::sort(chunks.begin(), chunks.end());
    for (size_t i = 0; i < chunks.size(); ++i)
        if (i == 0 || chunks[i].first != chunks[i - 1].first) n += chunks[i].second;
    return n;
}

}  // namespace cow
