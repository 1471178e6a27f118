// accounting.cpp: the queries: smaps, status, meminfo, translate, peek.
#include <algorithm>

#include "machine.h"

namespace cow {

MemStats& MemStats::operator+=(const MemStats& o) {
    size += o.size;
    rss += o.rss;
    pss_fp += o.pss_fp;
    pss_dirty_fp += o.pss_dirty_fp;
    pss_anon_fp += o.pss_anon_fp;
    pss_file_fp += o.pss_file_fp;
    pss_shmem_fp += o.pss_shmem_fp;
    shared_clean += o.shared_clean;
    shared_dirty += o.shared_dirty;
    private_clean += o.private_clean;
    private_dirty += o.private_dirty;
    referenced += o.referenced;
    anonymous += o.anonymous;
    anon_huge += o.anon_huge;
    return *this;
}

const Process* Machine::process(Pid pid) const {
    if (pid == kNoPid || pid.v >= procs_.size()) return nullptr;
    return &proc(pid);
}

std::vector<Pid> Machine::pids() const {
    std::vector<Pid> out;
    for (Pid p{1}; p.v < procs_.size(); ++p.v)
        if (proc(p).state != ProcState::reaped) out.push_back(p);
    return out;
}

const Mm* Machine::address_space(Pid pid) const {
    const Process* p = process(pid);
    if (!p || !p->alive()) return nullptr;
    return &mm_at(p->mm);
}

namespace {
// smaps_page_accumulate(): one page (or a whole exclusive huge page) of `size`
// bytes, with its Pss share, dirtiness and privacy.
void accumulate(MemStats& s, FrameKind kind, u64 size, u64 pss, bool dirty, bool priv) {
    s.pss_fp += pss;
    if (kind == FrameKind::file) s.pss_file_fp += pss;
    else if (kind == FrameKind::shmem) s.pss_shmem_fp += pss;
    else s.pss_anon_fp += pss;
    if (dirty) {
        s.pss_dirty_fp += pss;
        (priv ? s.private_dirty : s.shared_dirty) += size;
    } else {
        (priv ? s.private_clean : s.shared_clean) += size;
    }
}
}  // namespace

void Machine::account_range(const Mm& mm, const Vma& vma, MemStats& s) const {
    s.size += vma.end - vma.start;
    account_pages(mm, vma.start, vma.end, s);
}

void Machine::account_pages(const Mm& mm, u64 from, u64 to, MemStats& s) const {
    for (u64 a = from; a < to;) {
        const u64 chunk_end = std::min(to, huge_down(a) + kHugeSize);
        const u64* pmd = pmd_entry(mm, a);
        if (!pmd || !pte::is_present(*pmd)) {
            a = chunk_end;
            continue;
        }
        if (*pmd & pte::huge) {
            a = chunk_end;
            if (*pmd & pte::special) continue;            // the huge zero page is not counted
            const FrameId head = pte::pfn(*pmd);
            const bool dirty = *pmd & pte::dirty;
            s.rss += kHugeSize;
            s.anonymous += kHugeSize;
            s.anon_huge += kHugeSize;
            if (*pmd & pte::accessed) s.referenced += kHugeSize;
            if (frames_.pmd_mapcount(head) == 1 && frames_.huge_pte_maps(head) == 0) {
                accumulate(s, FrameKind::huge_head, kHugeSize, kHugeSize << kPssShift, dirty, true);
                continue;
            }
            for (u32 i = 0; i < kPagesPerHuge; ++i) {
                u32 mc = frames_.total_mapcount(head + i);
                u64 pss = kPageSize << kPssShift;
                if (mc >= 2) pss /= mc;
                accumulate(s, FrameKind::huge_head, kPageSize, pss, dirty, mc < 2);
            }
            continue;
        }
        const u64* pt = tables_[pte::table(*pmd)].data();
        for (; a < chunk_end; a += kPageSize) {
            // The frames of pages copied in random order are anywhere: fetch ahead.
            if (const u32 ahead = pte_index(a) + 16; ahead < kEntriesPerTable)
                if (pte::is_present(pt[ahead]) && !(pt[ahead] & pte::special)) frames_.prefetch(pte::pfn(pt[ahead]));
            const u64 e = pt[pte_index(a)];
            if (!pte::is_present(e) || (e & pte::special)) continue;   // vm_normal_page() == NULL
            const FrameId f = pte::pfn(e);
            const FrameKind kind = frames_[f].kind();
            s.rss += kPageSize;
            if (kind != FrameKind::file && kind != FrameKind::shmem) s.anonymous += kPageSize;
            if (e & pte::accessed) s.referenced += kPageSize;
            const u32 mc = frames_.total_mapcount(f);
            u64 pss = kPageSize << kPssShift;
            if (mc >= 2) pss /= mc;
            accumulate(s, kind, kPageSize, pss, (e & pte::dirty) || frames_[f].dirty(), mc < 2);
        }
    }
}

Result<std::vector<VmaStats>> Machine::smaps(Pid pid) const {
    if (Status st = check_pid(pid, "smaps", false); !st) return st;
    const Mm* mm = address_space(pid);
    std::vector<VmaStats> out;
    if (!mm) return out;                         // a zombie has no address space
    for (const Vma& v : mm->vmas) {
        VmaStats vs;
        vs.start = v.start;
        vs.end = v.end;
        vs.perms = {v.prot & prot::read ? 'r' : '-', v.prot & prot::write ? 'w' : '-',
                    v.prot & prot::exec ? 'x' : '-', v.is_shared() ? 's' : 'p'};
        vs.name = v.name;
        vs.kind = to_string(v.kind);
        account_range(*mm, v, vs.mem);
        out.push_back(std::move(vs));
    }
    return out;
}

Result<MemStats> Machine::smaps_rollup(Pid pid) const {
    Result<RollupJob> j = rollup_begin(pid);
    if (!j) return j.status();
    rollup_step(*j, ~u64{0});
    return j->s;
}

Result<RollupJob> Machine::rollup_begin(Pid pid) const {
    if (Status st = check_pid(pid, "smaps_rollup", false); !st) return st;
    RollupJob j;
    j.pid = pid;
    const Mm* mm = address_space(pid);
    j.done = !mm || mm->vmas.empty();   // a zombie has no address space
    if (!j.done) j.addr = mm->vmas[0].start;
    return j;
}

void Machine::rollup_step(RollupJob& j, u64 max_pages) const {
    if (j.done) return;
    const Mm* mm = address_space(j.pid);
    if (!mm) {
        j.done = true;
        return;
    }
    // Whole 2 MiB ranges, so that a huge page is counted in one piece.
    const u64 span = std::max<u64>(kHugeSize, max_pages > (~u64{0} >> kPageShift) ? ~u64{0} : huge_up(max_pages << kPageShift));
    u64 left = span;
    while (j.vma < mm->vmas.size() && left > 0) {
        const Vma& v = mm->vmas[j.vma];
        if (j.addr == v.start) j.s.size += v.end - v.start;
        const u64 stop = v.end - j.addr <= left ? v.end : std::min(v.end, huge_down(j.addr + left));
        const u64 to = stop > j.addr ? stop : std::min(v.end, huge_down(j.addr) + kHugeSize);
        account_pages(*mm, j.addr, to, j.s);
        left -= std::min(left, to - j.addr);
        j.addr = to;
        if (j.addr >= v.end && ++j.vma < mm->vmas.size()) j.addr = mm->vmas[j.vma].start;
    }
    j.done = j.vma >= mm->vmas.size();
}

Result<ProcStatus> Machine::status(Pid pid) const {
    if (Status st = check_pid(pid, "status", false); !st) return st;
    const Process& p = proc(pid);
    ProcStatus s;
    s.min_flt = p.counters.min_flt;
    s.maj_flt = p.counters.maj_flt;
    const Mm* mm = address_space(pid);
    if (!mm) return s;
    s.vm_size = mm->total_vm() * kPageSize;
    s.rss_anon = mm->rss_anon * kPageSize;
    s.rss_file = mm->rss_file * kPageSize;
    s.rss_shmem = mm->rss_shmem * kPageSize;
    s.vm_rss = s.rss_anon + s.rss_file + s.rss_shmem;
    s.vm_pte = mm->pt_pages * kPageSize;
    s.committed = mm->committed * kPageSize;
    s.oom_badness = badness(p);
    return s;
}

u64 Machine::used_bytes() const {
    const u64 reserved = cfg_.kernel_reserved_bytes / kPageSize;
    return (frames_.total() - reserved - frames_.free_count()) * kPageSize;
}

MemInfo Machine::meminfo() const {
    MemInfo m;
    const u64 reserved = cfg_.kernel_reserved_bytes / kPageSize;
    m.total = (frames_.total() - reserved) * kPageSize;
    m.free = frames_.free_count() * kPageSize;
    m.used = m.total - m.free;
    for (FrameId f; f.v < frames_.total(); ++f.v) {
        if (f.v % kPagesPerHuge == 0 && frames_.block_free(f.v / u32(kPagesPerHuge))) {   // free: nothing to count
            f.v += u32(kPagesPerHuge) - 1;
            continue;
        }
        const Frame& fr = frames_[f];
        switch (fr.kind()) {
            case FrameKind::anon:
                if (fr.mapcount()) m.anon_pages += kPageSize;
                break;
            case FrameKind::huge_head:
                if (frames_.pmd_mapcount(f)) {
                    m.anon_huge += kHugeSize;
                    m.anon_pages += kHugeSize;
                } else {
                    for (u32 i = 0; i < kPagesPerHuge; ++i)
                        if (frames_[f + i].mapcount()) m.anon_pages += kPageSize;
                }
                break;
            case FrameKind::file: m.cached += kPageSize; break;
            case FrameKind::shmem:
                m.cached += kPageSize;
                m.shmem += kPageSize;
                break;
            case FrameKind::page_table: m.page_tables += kPageSize; break;
            default: break;
        }
    }
    m.committed_as = committed_ * kPageSize;
    m.commit_limit = commit_limit_pages() * kPageSize;
    return m;
}

u64 Machine::translate(Pid pid, u64 addr) const {
    const Mm* mm = address_space(pid);
    if (!mm || addr >= kUserTop) return 0;
    const u64* pmd = pmd_entry(*mm, addr);
    if (!pmd || !pte::is_present(*pmd)) return 0;
    if (*pmd & pte::huge) return *pmd;
    return tables_[pte::table(*pmd)][pte_index(addr)];
}

Result<u32> Machine::peek(Pid pid, u64 addr) const {
    if (Status st = check_pid(pid, "peek", false); !st) return st;
    const Mm* mm = address_space(pid);
    if (!mm) return fail(Errc::not_running, "peek: process " + std::to_string(pid.v) + " has no address space");
    const Vma* v = addr < kUserTop ? find_vma(*mm, addr) : nullptr;
    if (!v) return fail(Errc::bad_address, "peek: no mapping at this address");
    const u64 e = translate(pid, addr);
    if (pte::is_present(e)) {
        if (e & pte::special) return u32{0};
        FrameId f = pte::pfn(e);
        if (e & pte::huge) f = f + u32(pte_index(addr));
        return frames_.content(f);
    }
    if (v->is_anon()) return u32{0};
    const File& file = files_[v->file.v];
    const u64 index = v->pgoff + ((addr - v->start) >> kPageShift);
    if (file.cache[index] != kNoFrame) return u32{frames_.content(file.cache[index])};
    return file.shmem ? u32{0} : file_page_content(file, index);
}

}  // namespace cow
