// vma.cpp: mmap, munmap, mprotect, madvise; VMA lookup and layout; files;
// loading an image into an address space.
#include <algorithm>
#include <cstdio>

#include "machine.h"

namespace cow {

namespace {
constexpr u64 kImageBase = 0x555555554000;      // where a PIE's text lands (ASLR off)
constexpr u64 kStackTop = 0x7ffffffff000;
constexpr u64 kMmapBase = 0x7ffff7fff000;       // mmaps grow down from below the stack gap
constexpr u64 kMmapFloor = 0x10000000;
constexpr u64 kMaxMapping = 64 * 1024 * GiB;     // 64 TiB: half the user address space


std::string hex(u64 v) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
    return buf;
}
}  // namespace

const char* to_string(VmaKind k) {
    switch (k) {
        case VmaKind::text: return "text";
        case VmaKind::rodata: return "rodata";
        case VmaKind::data: return "data";
        case VmaKind::bss: return "bss";
        case VmaKind::heap: return "heap";
        case VmaKind::stack: return "stack";
        case VmaKind::anon: return "anon";
        case VmaKind::file_private: return "file_private";
        case VmaKind::shared_anon: return "shared_anon";
        case VmaKind::file_shared: return "file_shared";
    }
    return "?";
}

const char* to_string(Advice a) {
    switch (a) {
        case Advice::dontneed: return "MADV_DONTNEED";
        case Advice::dontfork: return "MADV_DONTFORK";
        case Advice::dofork: return "MADV_DOFORK";
        case Advice::wipeonfork: return "MADV_WIPEONFORK";
        case Advice::keeponfork: return "MADV_KEEPONFORK";
        case Advice::hugepage: return "MADV_HUGEPAGE";
        case Advice::nohugepage: return "MADV_NOHUGEPAGE";
    }
    return "?";
}

Vma* Machine::find_vma(Mm& mm, u64 addr) {
    auto it = std::upper_bound(mm.vmas.begin(), mm.vmas.end(), addr,
                               [](u64 a, const Vma& v) { return a < v.start; });
    if (it == mm.vmas.begin()) return nullptr;
    --it;
    return it->contains(addr) ? &*it : nullptr;
}

const Vma* Machine::find_vma(const Mm& mm, u64 addr) const {
    return const_cast<Machine*>(this)->find_vma(const_cast<Mm&>(mm), addr);
}

void Machine::insert_vma(Mm& mm, Vma v) {
    auto it = std::upper_bound(mm.vmas.begin(), mm.vmas.end(), v.start,
                               [](u64 a, const Vma& x) { return a < x.start; });
    mm.vmas.insert(it, std::move(v));
}

// Highest free range of len bytes below the mmap base, aligned (top-down, as
// the kernel's arch_get_unmapped_area_topdown).
Result<u64> Machine::get_unmapped_area(Mm& mm, u64 len, u64 align) {
    u64 top = mm.mmap_base;
    for (auto it = mm.vmas.rbegin(); it != mm.vmas.rend(); ++it) {
        if (it->start >= top) continue;
        if (it->end <= top) {
            u64 cand = (top - len) & ~(align - 1);
            if (top >= len && cand >= it->end && cand >= kMmapFloor) return cand;
        }
        top = std::min(top, it->start);
    }
    if (top >= len + kMmapFloor) {
        u64 cand = (top - len) & ~(align - 1);
        if (cand >= kMmapFloor) return cand;
    }
    return fail(Errc::no_memory, "mmap: no free range of " + format_bytes(len) + " in the address space");
}

void Machine::split_vma_at(Mm& mm, u64 addr) {
    Vma* v = find_vma(mm, addr);
    if (!v || v->start == addr) return;
    Vma tail = *v;
    tail.start = addr;
    if (tail.file != kNoFile) {
        tail.pgoff += (addr - v->start) >> kPageShift;
        files_[tail.file.v].users++;
    }
    v->end = addr;
    insert_vma(mm, std::move(tail));
}

Status Machine::check_range(u64 addr, u64 len, const char* op) const {
    if (len == 0) return fail(Errc::invalid_argument, std::string(op) + ": length is 0");
    if (addr % kPageSize) return fail(Errc::invalid_argument, std::string(op) + ": address " + hex(addr) + " is not page aligned");
    if (len > kUserTop || addr > kUserTop - len)
        return fail(Errc::bad_address, std::string(op) + ": range " + hex(addr) + " + " + format_bytes(len) +
                                           " is outside the user address space");
    return {};
}

FileId Machine::file_by_name(const std::string& name, u64 pages) {
    for (FileId i; i.v < files_.size(); ++i.v) {
        File& f = files_[i.v];
        if (!f.shmem && f.name == name) {
            if (pages > f.pages) {
                f.pages = pages;
                f.cache.resize(pages, kNoFrame);
            }
            return i;
        }
    }
    File f;
    f.name = name;
    f.pages = pages;
    f.seed = u32(files_.size() + 1);
    f.cache.assign(pages, kNoFrame);
    files_.push_back(std::move(f));
    return FileId(files_.size() - 1);
}

Result<FileId> Machine::create_file(const std::string& name, u64 bytes) {
    if (name.empty()) return fail(Errc::invalid_argument, "create_file: the name is empty");
    if (bytes == 0 || bytes > kMaxMapping)
        return fail(Errc::limit, "create_file: size " + format_bytes(bytes) + " is outside 1 B .. 64 TiB");
    return file_by_name(name, pages_in(bytes));
}

// A VMA goes away: its shmem object loses a user, and is freed with its last one.
void Machine::drop_vma_object(const Vma& v) {
    if (v.file == kNoFile) return;
    File& f = files_[v.file.v];
    if (f.users == 0) invariant_broken("Machine::drop_vma_object", "file without users");
    if (--f.users == 0 && f.shmem) {
        committed_ -= f.committed;
        shmem_committed_ -= f.committed;
        f.committed = 0;
        for (FrameId& fr : f.cache) {
            if (fr == kNoFrame) continue;
            frames_.free(fr);
            emit(EventKind::frame_free, kNoPid, 0, fr);
            fr = kNoFrame;
        }
        f.cache.clear();
        f.cache.shrink_to_fit();
    }
}

Result<u64> Machine::mmap(Pid pid, const MmapArgs& args) {
    if (Status st = check_pid(pid, "mmap"); !st) return st;
    if (args.len == 0) return fail(Errc::invalid_argument, "mmap: length is 0");
    if (args.len > kMaxMapping)
        return fail(Errc::limit, "mmap: length " + format_bytes(args.len) + " is above the model's 64 TiB");
    if (args.prot & ~(prot::read | prot::write | prot::exec))
        return fail(Errc::invalid_argument, "mmap: unknown protection bits");
    u64 len = page_up(args.len);
    Mm& mm = mm_at(proc(pid).mm);
    if (args.file != kNoFile) {
        if (args.file.v >= files_.size() || files_[args.file.v].shmem)
            return fail(Errc::invalid_argument, "mmap: no file " + std::to_string(args.file.v));
        if (args.offset % kPageSize) return fail(Errc::invalid_argument, "mmap: offset is not page aligned");
        if ((args.offset >> kPageShift) + (len >> kPageShift) > files_[args.file.v].pages)
            return fail(Errc::invalid_argument, "mmap: mapping reaches past the end of " + files_[args.file.v].name);
    }
    Vma v;
    v.prot = args.prot;
    bool anon = args.file == kNoFile;
    bool thp_align = anon && !args.shared && cfg_.align_anon_mmap_to_thp && len >= kHugeSize;
    Result<u64> where = get_unmapped_area(mm, len, thp_align ? kHugeSize : kPageSize);
    if (!where) return where.status();
    v.start = *where;
    v.end = v.start + len;
    if (args.shared) v.flags |= vmf::shared;
    if (anon && !args.shared) {
        v.kind = VmaKind::anon;
        v.name = args.name.empty() ? "" : "[anon:" + args.name + "]";
    } else if (anon) {
        v.kind = VmaKind::shared_anon;
        v.name = args.name.empty() ? "/dev/zero (deleted)" : "[anon_shmem:" + args.name + "]";
    } else {
        v.kind = args.shared ? VmaKind::file_shared : VmaKind::file_private;
        v.file = args.file;
        v.pgoff = args.offset >> kPageShift;
        v.name = files_[args.file.v].name;
    }
    // accountable_mapping(): private and writable. A shmem object is charged once, when created.
    bool account = (!args.shared && (args.prot & prot::write)) || (anon && args.shared);
    if (account) {
        if (Status st = charge(mm, len >> kPageShift); !st) return st;
        if (!args.shared) v.flags |= vmf::account;
    }
    if (anon && args.shared) {
        File obj;
        obj.name = v.name;
        obj.pages = len >> kPageShift;
        obj.shmem = true;
        obj.seed = u32(files_.size() + 1);
        obj.cache.assign(obj.pages, kNoFrame);
        files_.push_back(std::move(obj));
        v.file = FileId(files_.size() - 1);
        mm.committed -= len >> kPageShift;           // the object holds this charge, not the mm
        shmem_committed_ += len >> kPageShift;
        files_[v.file.v].committed = len >> kPageShift;
    }
    if (v.file != kNoFile) files_[v.file.v].users++;
    u64 start = v.start;
    insert_vma(mm, std::move(v));
    emit(EventKind::mmap, pid, start, kNoFrame, len);
    return start;
}

// Removes [addr, addr+len) from the address space: pages unmapped, charges
// returned, page tables freed where no VMA needs them.
Status Machine::munmap(Pid pid, u64 addr, u64 len) {
    if (Status st = check_pid(pid, "munmap"); !st) return st;
    if (Status st = check_range(addr, len, "munmap"); !st) return st;
    Mm& mm = mm_at(proc(pid).mm);
    u64 end = addr + page_up(len);
    split_vma_at(mm, addr);
    split_vma_at(mm, end);
    bool any = false;
    for (size_t i = 0; i < mm.vmas.size();) {
        Vma& v = mm.vmas[i];
        if (v.end <= addr || v.start >= end) {
            ++i;
            continue;
        }
        any = true;
        zap_range(mm, v.start, v.end, pid);
        if (v.flags & vmf::account) uncharge(mm, v.pages());
        drop_vma_object(v);
        mm.vmas.erase(mm.vmas.begin() + long(i));
    }
    if (any) {
        free_unused_tables(mm, addr, end);
        emit(EventKind::munmap, pid, addr, kNoFrame, end - addr);
    }
    return {};
}

// free_pgtables(): PTE tables whose 2 MiB span no VMA touches any more.
void Machine::free_unused_tables(Mm& mm, u64 start, u64 end) {
    for (u64 h = huge_down(start); h < end; h += kHugeSize) {
        u64* pmd = pmd_entry(mm, h);
        if (!pmd || !pte::is_present(*pmd) || (*pmd & pte::huge)) continue;
        auto it = std::lower_bound(mm.vmas.begin(), mm.vmas.end(), h,
                                   [](const Vma& v, u64 a) { return v.end <= a; });
        if (it != mm.vmas.end() && it->start < h + kHugeSize) continue;
        TableId t = pte::table(*pmd);
        FrameId f = tables_.frame(t);
        tables_.destroy(t);
        frames_.free(f);
        mm.pt_pages--;
        emit(EventKind::pt_free, kNoPid, h, f);
        *pmd = 0;
    }
}

// Splits VMAs so that [addr, end) is covered by whole VMAs; fails (ENOMEM, as
// the kernel does) if part of the range is unmapped.
static Status require_mapped(const Mm& mm, u64 addr, u64 end, const char* op) {
    u64 a = addr;
    for (const Vma& v : mm.vmas) {
        if (v.end <= a) continue;
        if (v.start > a) break;
        a = v.end;
        if (a >= end) return {};
    }
    return fail(Errc::no_memory, std::string(op) + ": part of the range is not mapped");
}

Status Machine::mprotect(Pid pid, u64 addr, u64 len, u8 new_prot) {
    if (Status st = check_pid(pid, "mprotect"); !st) return st;
    if (Status st = check_range(addr, len, "mprotect"); !st) return st;
    if (new_prot & ~(prot::read | prot::write | prot::exec))
        return fail(Errc::invalid_argument, "mprotect: unknown protection bits");
    Mm& mm = mm_at(proc(pid).mm);
    u64 end = addr + page_up(len);
    if (Status st = require_mapped(mm, addr, end, "mprotect"); !st) return st;
    // Charge first, so that a refusal changes nothing.
    u64 need = 0;
    for (const Vma& v : mm.vmas)
        if (v.end > addr && v.start < end && !v.is_shared() && (new_prot & prot::write) && !(v.flags & vmf::account))
            need += (std::min(v.end, end) - std::max(v.start, addr)) >> kPageShift;
    if (need) {
        if (Status st = charge(mm, need); !st) return st;
        mm.committed -= need;   // re-added per VMA below
        committed_ -= need;
    }
    split_vma_at(mm, addr);
    split_vma_at(mm, end);
    for (Vma& v : mm.vmas) {
        if (v.end <= addr || v.start >= end) continue;
        if (!v.is_shared() && (new_prot & prot::write) && !(v.flags & vmf::account)) {
            v.flags |= vmf::account;
            mm.committed += v.pages();
            committed_ += v.pages();
        }
        v.prot = new_prot;
        if (!(new_prot & prot::write)) {
            // Write-protect what is mapped; a later write faults (and, if allowed again, reuses).
            for (u64 a = v.start; a < v.end; a += kPageSize) {
                u64* pmd = pmd_entry(mm, a);
                if (!pmd || !pte::is_present(*pmd)) { a = huge_down(a) + kHugeSize - kPageSize; continue; }
                if (*pmd & pte::huge) { *pmd &= ~pte::writable; continue; }
                u64& e = tables_[pte::table(*pmd)][pte_index(a)];
                e &= ~pte::writable;
            }
        }
    }
    emit(EventKind::mprotect, pid, addr, kNoFrame, new_prot);
    return {};
}

Status Machine::madvise(Pid pid, u64 addr, u64 len, Advice advice) {
    if (Status st = check_pid(pid, "madvise"); !st) return st;
    if (Status st = check_range(addr, len, "madvise"); !st) return st;
    if (u8(advice) > u8(Advice::nohugepage)) return fail(Errc::invalid_argument, "madvise: unknown advice");
    Mm& mm = mm_at(proc(pid).mm);
    u64 end = addr + page_up(len);
    if (Status st = require_mapped(mm, addr, end, to_string(advice)); !st) return st;
    if (advice == Advice::wipeonfork) {
        for (const Vma& v : mm.vmas)
            if (v.end > addr && v.start < end && (v.is_shared() || !v.is_anon()))
                return fail(Errc::invalid_argument, "MADV_WIPEONFORK: only private anonymous memory can be wiped on fork");
    }
    if (advice == Advice::dontneed) {
        for (const Vma& v : mm.vmas)
            if (v.end > addr && v.start < end) zap_range(mm, std::max(v.start, addr), std::min(v.end, end), pid);
        emit(EventKind::madvise, pid, addr, kNoFrame, u64(advice));
        return {};
    }
    split_vma_at(mm, addr);
    split_vma_at(mm, end);
    for (Vma& v : mm.vmas) {
        if (v.end <= addr || v.start >= end) continue;
        switch (advice) {
            case Advice::dontfork: v.flags |= vmf::dontfork; break;
            case Advice::dofork: v.flags &= u16(~vmf::dontfork); break;
            case Advice::wipeonfork: v.flags |= vmf::wipeonfork; break;
            case Advice::keeponfork: v.flags &= u16(~vmf::wipeonfork); break;
            case Advice::hugepage: v.flags = u16((v.flags | vmf::hugepage) & ~vmf::nohugepage); break;
            case Advice::nohugepage: v.flags = u16((v.flags | vmf::nohugepage) & ~vmf::hugepage); break;
            case Advice::dontneed: break;
        }
    }
    emit(EventKind::madvise, pid, addr, kNoFrame, u64(advice));
    return {};
}

// Maps an image's segments, its libraries and its stack into an empty mm.
// Nothing is touched yet (see warm_image); fails if overcommit refuses.
Status Machine::load_image(Mm& mm, const Image& im) {
    const u64 limit = 64 * GiB;
    auto bad = [&](const char* what, u64 v) {
        return fail(Errc::limit, std::string("image ") + im.name + ": " + what + " of " + format_bytes(v) +
                                     " is above the model's " + format_bytes(limit));
    };
    if (im.name.empty()) return fail(Errc::invalid_argument, "image: the name is empty");
    for (auto [what, v] : {std::pair{"text", im.text}, {"rodata", im.rodata}, {"data", im.data},
                           {"bss", im.bss}, {"heap", im.heap}, {"stack", im.stack}})
        if (v > limit) return bad(what, v);
    if (im.text == 0) return fail(Errc::invalid_argument, "image " + im.name + ": text is empty");
    if (im.stack < kPageSize) return fail(Errc::invalid_argument, "image " + im.name + ": stack is below 4 KiB");
    if (im.libs.size() > 1000) return fail(Errc::limit, "image " + im.name + ": more than 1000 libraries");
    for (const Library& l : im.libs) {
        if (l.name.empty()) return fail(Errc::invalid_argument, "image " + im.name + ": a library has no name");
        for (u64 v : {l.text, l.rodata, l.data, l.bss})
            if (v > limit) return bad("a library segment", v);
    }

    mm.mmap_base = kMmapBase;
    std::vector<Vma> vmas;
    u64 charge_pages = 0;
    auto add = [&](u64 start, u64 bytes, u8 p, VmaKind kind, FileId file, u64 pgoff, std::string name, u16 flags) {
        if (bytes == 0) return start;
        Vma v;
        v.start = start;
        v.end = start + page_up(bytes);
        v.prot = p;
        v.kind = kind;
        v.file = file;
        v.pgoff = pgoff;
        v.name = std::move(name);
        v.flags = flags;
        if (!v.is_shared() && (p & prot::write)) {
            v.flags |= vmf::account;
            charge_pages += v.pages();
        }
        vmas.push_back(std::move(v));
        return start + page_up(bytes);
    };
    auto map_object = [&](u64 base, const std::string& name, u64 text, u64 rodata, u64 data, u64 bss, bool main) {
        u64 tp = page_up(text) >> kPageShift, rp = page_up(rodata) >> kPageShift, dp = page_up(data) >> kPageShift;
        FileId f = file_by_name(name, tp + rp + dp);
        u64 a = base;
        a = add(a, text, prot::read | prot::exec, main ? VmaKind::text : VmaKind::file_private, f, 0, name, 0);
        a = add(a, rodata, prot::read, main ? VmaKind::rodata : VmaKind::file_private, f, tp, name, 0);
        a = add(a, data, prot::read | prot::write, main ? VmaKind::data : VmaKind::file_private, f, tp + rp, name, 0);
        a = add(a, bss, prot::read | prot::write, main ? VmaKind::bss : VmaKind::anon, kNoFile, 0, "", 0);
        return a;
    };
    u64 a = map_object(kImageBase, im.name, im.text, im.rodata, im.data, im.bss, true);
    mm.brk_start = mm.brk = a;
    if (im.heap) {
        add(a, im.heap, prot::read | prot::write, VmaKind::heap, kNoFile, 0, "[heap]", 0);
        mm.brk = a + page_up(im.heap);
    }
    add(kStackTop - page_up(im.stack), im.stack, prot::read | prot::write, VmaKind::stack, kNoFile, 0, "[stack]",
        vmf::growsdown);
    for (Vma& v : vmas) insert_vma(mm, std::move(v));
    vmas.clear();
    for (const Library& l : im.libs) {
        u64 total = page_up(l.text) + page_up(l.rodata) + page_up(l.data) + page_up(l.bss);
        if (total == 0) continue;
        Result<u64> where = get_unmapped_area(mm, total, kPageSize);
        if (!where) return where.status();
        map_object(*where, l.name, l.text, l.rodata, l.data, l.bss, false);
        for (Vma& v : vmas) insert_vma(mm, std::move(v));
        vmas.clear();
    }
    for (Vma& v : mm.vmas)
        if (v.file != kNoFile) files_[v.file.v].users++;
    if (charge_pages) {
        if (Status st = charge(mm, charge_pages); !st) {
            for (Vma& v : mm.vmas) v.flags &= u16(~vmf::account);
            return st;
        }
    }
    return {};
}

}  // namespace cow
