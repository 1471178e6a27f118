// accounting.cpp: smaps, status, meminfo, peek, and the invariant checker.
#include <algorithm>
#include <cstdio>
#include <map>

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
    if (pid == kNoPid || pid >= procs_.size()) return nullptr;
    return &procs_[pid];
}

std::vector<Pid> Machine::pids() const {
    std::vector<Pid> out;
    for (Pid p = 1; p < procs_.size(); ++p)
        if (procs_[p].state != ProcState::reaped) out.push_back(p);
    return out;
}

const Mm* Machine::address_space(Pid pid) const {
    const Process* p = process(pid);
    if (!p || !p->alive()) return nullptr;
    return &mms_[p->mm];
}

namespace {
unsigned long long ull(u64 v) { return v; }

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
    for (u64 a = vma.start; a < vma.end;) {
        const u64 chunk_end = std::min(vma.end, (a & ~(kHugeSize - 1)) + kHugeSize);
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
        const u64* pt = tables_[pte::pfn(*pmd)].data();
        for (; a < chunk_end; a += kPageSize) {
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
    if (Status st = check_pid(pid, "smaps_rollup", false); !st) return st;
    MemStats s;
    const Mm* mm = address_space(pid);
    if (!mm) return s;
    for (const Vma& v : mm->vmas) account_range(*mm, v, s);
    return s;
}

Result<ProcStatus> Machine::status(Pid pid) const {
    if (Status st = check_pid(pid, "status", false); !st) return st;
    const Process& p = procs_[pid];
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

MemInfo Machine::meminfo() const {
    MemInfo m;
    const u64 reserved = cfg_.kernel_reserved_bytes / kPageSize;
    m.total = (frames_.total() - reserved) * kPageSize;
    m.free = frames_.free_count() * kPageSize;
    m.used = m.total - m.free;
    for (FrameId f = 0; f < frames_.total(); ++f) {
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
    return tables_[pte::pfn(*pmd)][pte_index(addr)];
}

Result<u32> Machine::peek(Pid pid, u64 addr) const {
    if (Status st = check_pid(pid, "peek", false); !st) return st;
    const Mm* mm = address_space(pid);
    if (!mm) return fail(Errc::not_running, "peek: process " + std::to_string(pid) + " has no address space");
    const Vma* v = addr < kUserTop ? find_vma(*mm, addr) : nullptr;
    if (!v) return fail(Errc::bad_address, "peek: no mapping at this address");
    const u64 e = translate(pid, addr);
    if (pte::is_present(e)) {
        if (e & pte::special) return u32{0};
        FrameId f = pte::pfn(e);
        if (e & pte::huge) f += pte_index(addr);
        return frames_.content(f);
    }
    if (v->is_anon()) return u32{0};
    const File& file = files_[v->file];
    const u64 index = v->pgoff + ((addr - v->start) >> kPageShift);
    if (file.cache[index] != kNoFrame) return u32{frames_.content(file.cache[index])};
    return file.shmem ? u32{0} : file_page_content(file, index);
}

// ---------------------------------------------------------------- invariants

Status Machine::check_invariants() const {
    char buf[256];
    auto bad = [&](const char* fmt, auto... args) {
        std::snprintf(buf, sizeof buf, fmt, args...);
        return fail(Errc::invalid_argument, std::string("invariant: ") + buf);
    };
    const u64 n = frames_.total();
    std::vector<u32> maps(n, 0);          // PTE mappings found per frame
    std::vector<u32> pmd_maps(n / kPagesPerHuge + 1, 0);
    std::vector<u8> is_table(n, 0);       // frame holds a live or deposited table
    u64 committed = 0;
    u64 distinct_mms_pss = 0;
    u64 mappings = 0;

    for (size_t id = 0; id < mms_.size(); ++id) {
        const Mm& mm = mms_[id];
        if (!mm.live) continue;
        u32 users = 0;
        for (Pid p = 1; p < procs_.size(); ++p)
            if (procs_[p].alive() && procs_[p].mm == id) ++users;
        if (users != mm.users) return bad("mm %zu has %u users but %u processes use it", id, mm.users, users);
        committed += mm.committed;
        // VMAs: sorted, aligned, non-overlapping.
        for (size_t i = 0; i < mm.vmas.size(); ++i) {
            const Vma& v = mm.vmas[i];
            if (v.start >= v.end || v.start % kPageSize || v.end % kPageSize || v.end > kUserTop)
                return bad("mm %zu: VMA %zu [%llx, %llx) is malformed", id, i, ull(v.start), ull(v.end));
            if (i && mm.vmas[i - 1].end > v.start) return bad("mm %zu: VMAs %zu and %zu overlap", id, i - 1, i);
        }
        // Walk the page tables.
        u64 rss_anon = 0, rss_file = 0, rss_shmem = 0, pt_pages = 0;
        if (mm.pgd != kNoTable) {
            is_table[tables_.frame(mm.pgd)] = 1;
            for (u64 i = 0; i < kEntriesPerTable; ++i) {
                const u64 e1 = tables_[mm.pgd][i];
                if (!pte::is_present(e1)) continue;
                ++pt_pages;
                is_table[tables_.frame(pte::pfn(e1))] = 1;
                for (u64 j = 0; j < kEntriesPerTable; ++j) {
                    const u64 e2 = tables_[pte::pfn(e1)][j];
                    if (!pte::is_present(e2)) continue;
                    ++pt_pages;
                    is_table[tables_.frame(pte::pfn(e2))] = 1;
                    for (u64 k = 0; k < kEntriesPerTable; ++k) {
                        const u64 e3 = tables_[pte::pfn(e2)][k];
                        if (!pte::is_present(e3)) continue;
                        const u64 base = (i << 39) | (j << 30) | (k << 21);
                        if (e3 & pte::huge) {
                            if (!mm.deposited.count(base)) return bad("mm %zu: huge PMD at %llx has no deposited table", id, ull(base));
                            const Vma* v = find_vma(mm, base);
                            if (!v || base + kHugeSize > v->end) return bad("mm %zu: huge PMD at %llx outside a VMA", id, ull(base));
                            if (e3 & pte::special) continue;
                            const FrameId head = pte::pfn(e3);
                            if (frames_[head].kind() != FrameKind::huge_head) return bad("mm %zu: huge PMD maps frame %u of kind %s", id, head, to_string(frames_[head].kind()));
                            pmd_maps[head / kPagesPerHuge]++;
                            rss_anon += kPagesPerHuge;
                            ++mappings;
                            continue;
                        }
                        ++pt_pages;
                        is_table[tables_.frame(pte::pfn(e3))] = 1;
                        for (u64 l = 0; l < kEntriesPerTable; ++l) {
                            const u64 e = tables_[pte::pfn(e3)][l];
                            if (!pte::is_present(e)) continue;
                            const u64 va = base | (l << 12);
                            const Vma* v = find_vma(mm, va);
                            if (!v) return bad("mm %zu: PTE at %llx outside every VMA", id, ull(va));
                            if ((e & pte::writable) && !(v->prot & prot::write)) return bad("mm %zu: writable PTE at %llx in a read-only VMA", id, ull(va));
                            const FrameId f = pte::pfn(e);
                            if (e & pte::special) {
                                if (f != zero_frame_) return bad("mm %zu: special PTE at %llx is not the zero page", id, ull(va));
                                continue;
                            }
                            if (f >= n) return bad("mm %zu: PTE at %llx maps frame %u beyond RAM", id, ull(va), f);
                            const FrameKind kind = frames_[f].kind();
                            ++maps[f];
                            ++mappings;
                            if (kind == FrameKind::file) ++rss_file;
                            else if (kind == FrameKind::shmem) ++rss_shmem;
                            else if (kind == FrameKind::anon || kind == FrameKind::huge_head || kind == FrameKind::huge_tail) ++rss_anon;
                            else return bad("mm %zu: PTE at %llx maps a frame of kind %s", id, ull(va), to_string(kind));
                            // A private writable PTE must be exclusively owned (COW write-protects shared ones).
                            if ((e & pte::writable) && !v->is_shared() && frames_.total_mapcount(f) != 1)
                                return bad("mm %zu: writable private PTE at %llx maps frame %u that %u PTEs map", id, ull(va), f, frames_.total_mapcount(f));
                        }
                    }
                }
            }
        }
        for (auto& [addr, f] : mm.deposited) {
            is_table[f] = 1;
            ++pt_pages;
        }
        if (rss_anon != mm.rss_anon || rss_file != mm.rss_file || rss_shmem != mm.rss_shmem)
            return bad("mm %zu: RSS counters anon/file/shmem %llu/%llu/%llu, page tables say %llu/%llu/%llu", id,
                       ull(mm.rss_anon), ull(mm.rss_file), ull(mm.rss_shmem),
                       ull(rss_anon), ull(rss_file), ull(rss_shmem));
        if (pt_pages != mm.pt_pages)
            return bad("mm %zu: VmPTE counts %llu table pages, the tables hold %llu", id, ull(mm.pt_pages), ull(pt_pages));
        for (const Vma& v : mm.vmas) {
            MemStats s;
            account_range(mm, v, s);
            distinct_mms_pss += s.pss_fp;
        }
    }

    // Every frame: counts match the tables, nothing outlives its last mapping.
    std::vector<u8> in_cache(n, 0);
    for (const File& f : files_) {
        for (FrameId fr : f.cache) {
            if (fr == kNoFrame) continue;
            if (in_cache[fr]) return bad("frame %u is in two page caches", fr);
            in_cache[fr] = 1;
        }
        committed += f.committed;
    }
    u64 free_frames = 0, mapped = 0;
    for (FrameId f = 0; f < n; ++f) {
        const Frame& fr = frames_[f];
        const FrameKind k = fr.kind();
        if (fr.mapcount() != maps[f]) return bad("frame %u (%s): mapcount %u but %u PTEs map it", f, to_string(k), fr.mapcount(), maps[f]);
        switch (k) {
            case FrameKind::free: ++free_frames; break;
            case FrameKind::anon:
                if (!maps[f]) return bad("anonymous frame %u is mapped by nobody (leaked)", f);
                ++mapped;
                break;
            case FrameKind::file:
            case FrameKind::shmem:
                if (!in_cache[f]) return bad("%s frame %u is in no page cache", to_string(k), f);
                if (maps[f]) ++mapped;
                break;
            case FrameKind::page_table:
                if (!is_table[f]) return bad("page-table frame %u belongs to no table (leaked)", f);
                break;
            case FrameKind::huge_head: {
                const u32 b = f / kPagesPerHuge;
                if (frames_.pmd_mapcount(f) != pmd_maps[b]) return bad("huge page %u: %u PMD mappings counted, %u found", f, frames_.pmd_mapcount(f), pmd_maps[b]);
                u32 pte_maps = 0;
                for (u32 i = 0; i < kPagesPerHuge; ++i) {
                    pte_maps += maps[f + i];
                    if (pmd_maps[b] || maps[f + i]) ++mapped;
                }
                if (frames_.huge_pte_maps(f) != pte_maps) return bad("huge page %u: %u PTE mappings counted, %u found", f, frames_.huge_pte_maps(f), pte_maps);
                if (!pmd_maps[b] && !pte_maps) return bad("huge page %u is mapped by nobody (leaked)", f);
                break;
            }
            default: break;
        }
    }
    if (free_frames != frames_.free_count()) return bad("%llu frames are free but the allocator counts %llu", ull(free_frames), ull(frames_.free_count()));
    if (committed != committed_) return bad("Committed_AS is %llu pages, the mappings charge %llu", ull(committed_), ull(committed));
    // Pss summed over address spaces is the number of mapped frames, less the
    // truncation of each share (under one byte per mapping).
    const u64 expect = mapped * (kPageSize << kPssShift);
    if (distinct_mms_pss > expect || expect - distinct_mms_pss > mappings * kPagesPerHuge)
        return bad("Pss sums to %llu (<<12) over address spaces, %llu frames are mapped", ull(distinct_mms_pss), ull(mapped));
    u32 live = 0;
    for (Pid p = 1; p < procs_.size(); ++p) live += procs_[p].alive();
    if (live != live_procs_) return bad("%u processes alive, counter says %u", live, live_procs_);
    if (live == 0) {
        for (FrameId f = 0; f < n; ++f) {
            const FrameKind k = frames_[f].kind();
            if (k == FrameKind::anon || k == FrameKind::huge_head || k == FrameKind::page_table || k == FrameKind::shmem)
                return bad("frame %u (%s) is left after every process exited", f, to_string(k));
        }
    }
    return {};
}

}  // namespace cow
