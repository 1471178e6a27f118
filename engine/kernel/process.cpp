// process.cpp: spawn, fork (COW and eager), vfork, posix_spawn, exec, exit, wait.
#include <algorithm>

#include "machine.h"

namespace cow {

const char* to_string(ProcState s) {
    switch (s) {
        case ProcState::running: return "running";
        case ProcState::vfork_wait: return "vfork_wait";
        case ProcState::zombie: return "zombie";
        case ProcState::reaped: return "reaped";
    }
    return "?";
}

Image default_image(const std::string& name) {
    Image im;
    im.name = name;
    im.libs = {
        {"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", 156 * KiB, 40 * KiB, 8 * KiB, 4 * KiB},
        {"/usr/lib/x86_64-linux-gnu/libc.so.6", 1376 * KiB, 352 * KiB, 24 * KiB, 52 * KiB},
    };
    return im;
}

// Reads the text and rodata of the image and its libraries, writes their data
// and the top page of the stack: what the loader and libc start-up touch.
void Machine::warm_image(Pid pid, const Image& im) {
    if (!im.warm) return;
    const Mm& mm = mm_at(proc(pid).mm);
    std::vector<std::pair<u64, u64>> reads, writes;
    for (const Vma& v : mm.vmas) {
        if (v.kind == VmaKind::text || v.kind == VmaKind::rodata ||
            (v.kind == VmaKind::file_private && !(v.prot & prot::write)))
            reads.push_back({v.start, v.end - v.start});
        else if (v.kind == VmaKind::data || (v.kind == VmaKind::file_private && (v.prot & prot::write)))
            writes.push_back({v.start, v.end - v.start});
        else if (v.kind == VmaKind::stack)
            writes.push_back({v.end - kPageSize, kPageSize});
    }
    for (auto [a, n] : reads)
        if (!access(pid, a, n, Access::read)) return;
    for (auto [a, n] : writes)
        if (!access(pid, a, n, Access::write)) return;
}

Result<Pid> Machine::spawn(const Image& image, Pid parent) {
    if (parent != kNoPid)
        if (Status st = check_pid(parent, "spawn"); !st) return st;
    if (live_procs_ >= MachineConfig::kMaxProcesses)
        return fail(Errc::limit, "spawn: the model's limit of " + std::to_string(MachineConfig::kMaxProcesses) +
                                     " processes is reached");
    MmId mmid = new_mm();
    if (Status st = load_image(mm_at(mmid), image); !st) {
        release_mm(mmid);
        return st;
    }
    Pid pid = Pid(procs_.size());
    Process& p = procs_.emplace_back();
    p.pid = pid;
    p.parent = parent;
    p.name = image.name;
    p.mm = mmid;
    p.start_ns = now_ns_;
    if (parent != kNoPid) proc(parent).children.push_back(pid);
    ++live_procs_;
    advance(cfg_.cost.exec_ns);
    emit(EventKind::spawn, pid, 0, kNoFrame, parent.v);
    warm_image(pid, image);
    return pid;
}

Result<ForkResult> Machine::fork(Pid parent) { return fork_whole(parent, false); }
Result<ForkResult> Machine::fork_eager(Pid parent) { return fork_whole(parent, true); }

Result<ForkResult> Machine::fork_whole(Pid parent, bool eager) {
    Result<ForkJob> job = fork_begin(parent, eager);
    if (!job) return job.status();
    while (!job->done)
        if (Status st = fork_step(*job, ~u64{0}); !st) return st;
    return job->r;
}

// dup_mmap(), begun: the child's address space, empty. The process limit is
// checked here; the VMAs, their commit charge and their page tables follow in
// fork_step.
Result<ForkJob> Machine::fork_begin(Pid parent, bool eager) {
    const char* op = eager ? "fork without COW" : "fork";
    if (Status st = check_pid(parent, op); !st) return st;
    if (live_procs_ >= MachineConfig::kMaxProcesses) {
        emit(EventKind::fork_failed, parent);
        return fail(Errc::limit, std::string(op) + ": the model's limit of " +
                                     std::to_string(MachineConfig::kMaxProcesses) + " processes is reached");
    }
    ForkJob j;
    j.parent = parent;
    j.eager = eager;
    j.t0 = now_ns_;
    j.r.child = Pid(procs_.size());
    j.mm = new_mm();
    mm_at(j.mm).users = 0;   // no process uses it until the fork ends
    Mm& cm = mm_at(j.mm);
    const Mm& pm = mm_at(proc(parent).mm);
    cm.brk_start = pm.brk_start;
    cm.brk = pm.brk;
    cm.mmap_base = pm.mmap_base;
    for (const Vma& v : pm.vmas)
        if (!(v.flags & vmf::dontfork) && !(v.flags & vmf::wipeonfork) && (v.flags & vmf::anon_vma)) j.pages_total += v.pages();
    return j;
}

// dup_mmap(), going on: the child gets a copy of every VMA but MADV_DONTFORK
// ones, charged to Committed_AS; the page tables of VMAs with anonymous pages
// are copied (copy_page_range), the others fault in again in the child. Stops
// after max_entries entries (at a 2 MiB boundary); the last step makes the
// child a process. A failure releases what the fork had made.
Status Machine::fork_step(ForkJob& j, u64 max_entries) {
    if (j.done) return fail(Errc::invalid_argument, "fork: this fork is over");
    const char* op = j.eager ? "fork without COW" : "fork";
    Mm& cm = mm_at(j.mm);
    Mm& pm = mm_at(proc(j.parent).mm);
    ForkResult& r = j.r;
    const u64 stop_at = r.ptes_copied + std::min(max_entries, ~u64{0} - r.ptes_copied);
    Status st;
    while (j.vma < pm.vmas.size() && st) {
        const Vma& v = pm.vmas[j.vma];
        const bool copy_tables = !(v.flags & vmf::wipeonfork) && (v.flags & vmf::anon_vma);
        if (v.flags & vmf::dontfork) {
            ++j.vma;
            continue;
        }
        if (!j.in_vma) {   // the VMA itself, once
            Vma c = v;
            if (v.flags & vmf::account) {
                st = charge(cm, v.pages(), &pm);
                if (!st) {
                    c.flags &= u16(~vmf::account);
                    st.message = std::string(op) + ": " + st.message;
                }
            }
            if (v.flags & vmf::wipeonfork) c.flags &= u16(~vmf::anon_vma);
            if (c.file != kNoFile) files_[c.file.v].users++;
            cm.vmas.push_back(c);
            ++j.nvmas;
            if (!st) break;
            j.in_vma = true;
            j.addr = v.start;
        }
        if (copy_tables) {
            r.ptes_copied += copy_range(cm, pm, v, j.eager, r, r.child, st, j.addr, stop_at - std::min(stop_at, r.ptes_copied));
            if (!st) break;
            if (j.addr < v.end) {   // the budget is spent inside this VMA
                j.pages_done = std::min(j.pages_total, j.pages_before_vma + ((j.addr - v.start) >> kPageShift));
                return {};
            }
            j.pages_before_vma += v.pages();
            j.pages_done = j.pages_before_vma;
        }
        j.in_vma = false;
        ++j.vma;
        if (r.ptes_copied >= stop_at && j.vma < pm.vmas.size()) return {};
    }
    if (!st) {
        cm.users = 1;
        release_mm(j.mm);
        emit(EventKind::fork_failed, j.parent);
        j.done = true;
        return st;
    }
    if (cm.pgd != kNoTable) ++r.pt_pages;            // pgd_alloc(): not in VmPTE, but a page
    const CostModel& k = cfg_.cost;
    // A huge PMD (copy_huge_pmd: the entry and the page table deposited beside it) has its own cost.
    advance(k.fork_base_ns + double(j.nvmas) * k.per_vma_ns + double(r.pt_pages - r.huge_pmds) * k.per_pt_page_ns +
            double(r.ptes_copied - r.huge_pmds) * k.per_pte_ns + double(r.huge_pmds) * k.per_huge_pmd_ns);
    const Pid child = r.child;
    if (child.v != procs_.size()) invariant_broken("Machine::fork_step", "a process was made while a fork was under way");
    cm.users = 1;
    Process& p = procs_.emplace_back();
    const Process& pp = proc(j.parent);
    p.pid = child;
    p.parent = j.parent;
    p.name = pp.name;
    p.mm = j.mm;
    p.oom_score_adj = pp.oom_score_adj;
    p.start_ns = now_ns_;
    proc(j.parent).children.push_back(child);
    ++live_procs_;
    r.time_ns = now_ns_ - j.t0;
    emit(j.eager ? EventKind::fork_eager : EventKind::fork, j.parent, 0, kNoFrame, child.v);
    j.done = true;
    j.pages_done = j.pages_total;
    return {};
}

// vfork(): the child runs in the parent's address space (CLONE_VM); the parent
// is suspended until the child execs or exits.
Result<ForkResult> Machine::vfork(Pid parent) {
    if (Status st = check_pid(parent, "vfork"); !st) return st;
    if (live_procs_ >= MachineConfig::kMaxProcesses)
        return fail(Errc::limit, "vfork: the model's limit of processes is reached");
    const u64 t0 = now_ns_;
    Pid child = Pid(procs_.size());
    Process& p = procs_.emplace_back();
    Process& pp = proc(parent);
    p.pid = child;
    p.parent = parent;
    p.name = pp.name;
    p.mm = pp.mm;
    p.oom_score_adj = pp.oom_score_adj;
    p.vfork_parent = parent;
    p.start_ns = now_ns_;
    mm_at(pp.mm).users++;
    pp.children.push_back(child);
    pp.state = ProcState::vfork_wait;
    ++live_procs_;
    advance(cfg_.cost.vfork_ns);
    emit(EventKind::vfork, parent, 0, kNoFrame, child.v);
    ForkResult r;
    r.child = child;
    r.time_ns = now_ns_ - t0;
    return r;
}

// posix_spawn(): glibc's clone(CLONE_VM|CLONE_VFORK) followed by exec in the
// child; the parent's page tables are never copied.
Result<ForkResult> Machine::posix_spawn(Pid parent, const Image& image) {
    if (Status st = check_pid(parent, "posix_spawn"); !st) return st;
    const u64 t0 = now_ns_;
    advance(cfg_.cost.spawn_ns);   // the clone; spawn() adds the exec
    Result<Pid> child = spawn(image, parent);
    if (!child) {
        emit(EventKind::fork_failed, parent);
        return fail(child.code(), "posix_spawn: " + child.message());
    }
    ForkResult r;
    r.child = *child;
    r.time_ns = now_ns_ - t0;
    return r;
}

Status Machine::exec(Pid pid, const Image& image) {
    Result<ExecJob> job = exec_begin(pid, image);
    if (!job) return job.status();
    return exec_step(*job, ~u64{0});
}

// The new image is loaded first (exec fails there, the old address space
// intact); the old one is then unmapped a part at a time and released.
Result<ExecJob> Machine::exec_begin(Pid pid, const Image& image) {
    if (Status st = check_pid(pid, "exec"); !st) return st;
    MmId nmm = new_mm();
    if (Status st = load_image(mm_at(nmm), image); !st) {
        release_mm(nmm);
        return fail(st.err, "exec: " + st.message);
    }
    mm_at(nmm).users = 0;   // no process uses it until the exec ends
    ExecJob j;
    j.pid = pid;
    j.image = image;
    j.mm = nmm;
    j.unmap = unmap_begin(pid);
    return j;
}

Status Machine::exec_step(ExecJob& j, u64 max_pages) {
    if (j.done) return fail(Errc::invalid_argument, "exec: this exec is over");
    if (Status st = check_pid(j.pid, "exec"); !st) return st;
    if (!unmap_step(j.unmap, max_pages)) return {};
    j.done = true;
    const Image& image = j.image;
    const Pid pid = j.pid;
    const MmId nmm = j.mm;
    mm_at(nmm).users = 1;
    Process& p = proc(pid);
    MmId old = p.mm;
    p.mm = nmm;
    p.name = image.name;
    if (p.vfork_parent != kNoPid) {
        mm_at(old).users--;
        Process& parent = proc(p.vfork_parent);
        parent.state = ProcState::running;
        emit(EventKind::vfork_resume, parent.pid);
        p.vfork_parent = kNoPid;
    } else {
        release_mm(old);
    }
    advance(cfg_.cost.exec_ns);
    emit(EventKind::exec, pid);
    warm_image(pid, image);
    return {};
}

void Machine::release_mm(MmId id) {
    Mm& mm = mm_at(id);
    if (mm.users == 0) invariant_broken("Machine::release_mm", "address space without users");
    if (--mm.users) return;
    for (const Vma& v : mm.vmas) {
        zap_range(mm, v.start, v.end, kNoPid);
        drop_vma_object(v);
    }
    if (mm.committed) uncharge(mm, mm.committed);
    mm.vmas.clear();
    free_tables(mm);
    if (mm.rss() || mm.pt_pages || !mm.deposited.empty())
        invariant_broken("Machine::release_mm", "pages or tables left after tearing down an address space");
    mm.live = false;
    free_mms_.push_back(id);
}

// do_exit(): the address space goes (or goes back to a vfork parent), children
// are reparented to init (which reaps them), and the process becomes a zombie
// until its parent waits for it.
void Machine::teardown(Pid pid, int status) {
    Process& p = proc(pid);
    if (p.vfork_parent != kNoPid) {
        mm_at(p.mm).users--;
        Process& parent = proc(p.vfork_parent);
        parent.state = ProcState::running;
        emit(EventKind::vfork_resume, parent.pid);
        p.vfork_parent = kNoPid;
    } else {
        release_mm(p.mm);
    }
    p.state = ProcState::zombie;
    p.exit_status = status;
    --live_procs_;
    for (Pid c : p.children) {
        Process& ch = proc(c);
        ch.parent = kNoPid;
        if (ch.state == ProcState::zombie) {
            ch.state = ProcState::reaped;
            emit(EventKind::reap, kNoPid, 0, kNoFrame, c.v);
        }
    }
    p.children.clear();
    advance(cfg_.cost.exit_base_ns);
    emit(EventKind::exit, pid, 0, kNoFrame, u64(status));
    if (p.parent == kNoPid) {
        p.state = ProcState::reaped;
        emit(EventKind::reap, kNoPid, 0, kNoFrame, pid.v);
    }
}

void Machine::kill_process(Pid pid, int signal) {
    if (proc(pid).alive()) teardown(pid, signal);
}

Status Machine::exit(Pid pid, int code) {
    Result<ExitJob> job = exit_begin(pid, code);
    if (!job) return job.status();
    return exit_step(*job, ~u64{0});
}

Result<ExitJob> Machine::exit_begin(Pid pid, int code) {
    if (Status st = check_pid(pid, "exit"); !st) return st;
    if (code < 0 || code > 255) return fail(Errc::invalid_argument, "exit: status " + std::to_string(code) + " is outside 0..255");
    ExitJob j;
    j.pid = pid;
    j.code = code;
    j.unmap = unmap_begin(pid);
    return j;
}

Status Machine::exit_step(ExitJob& j, u64 max_pages) {
    if (j.done) return fail(Errc::invalid_argument, "exit: this exit is over");
    if (Status st = check_pid(j.pid, "exit"); !st) return st;
    if (!unmap_step(j.unmap, max_pages)) return {};
    teardown(j.pid, j.code << 8);
    j.done = true;
    return {};
}

UnmapJob Machine::unmap_begin(Pid pid) const {
    UnmapJob u;
    u.pid = pid;
    const Process& p = proc(pid);
    if (p.vfork_parent == kNoPid && mm_at(p.mm).users == 1) u.pages_total = mm_at(p.mm).rss();
    else u.zapping = false;   // the address space stays (a vfork parent's): nothing to unmap first
    return u;
}

// exit_mmap()'s unmap, so many pages a step, in the order release_mm unmaps
// them: VMA by VMA, up to one whose object its release would free (the last
// mapping of a shared memory object), where the unmapping stops and the
// release does the rest. true: the release may go on (it finds those pages
// unmapped).
bool Machine::unmap_step(UnmapJob& j, u64 max_entries) {
    Mm& mm = mm_at(proc(j.pid).mm);
    while (j.zapping && j.vma < mm.vmas.size()) {
        const Vma& v = mm.vmas[j.vma];
        if (j.addr < v.start) j.addr = v.start;
        const u64 rss0 = mm.rss();
        u64 work = 0, ranges = 0;   // pages unmapped and 2 MiB ranges looked at
        while (j.addr < v.end && work < max_entries) {
            const u64 to = std::min(v.end, huge_down(j.addr) + kHugeSize);
            zap_range(mm, j.addr, to, kNoPid);
            j.addr = to;
            work = rss0 - mm.rss() + ++ranges;
        }
        j.pages_done += rss0 - mm.rss();
        if (j.addr < v.end) return false;   // this step's pages are unmapped
        const bool frees_object = v.file != kNoFile && files_[v.file.v].shmem && files_[v.file.v].users == 1;
        ++j.vma;
        if (frees_object) j.zapping = false;
    }
    j.zapping = false;
    j.pages_done = j.pages_total;
    return true;
}

Result<WaitResult> Machine::wait(Pid parent, Pid child) {
    if (Status st = check_pid(parent, "wait"); !st) return st;
    Process& pp = proc(parent);
    Pid found = kNoPid;
    for (Pid c : pp.children) {
        if (child != kNoPid && c != child) continue;
        if (proc(c).state == ProcState::zombie) {
            found = c;
            break;
        }
    }
    if (found == kNoPid) {
        if (child != kNoPid) {
            bool mine = std::find(pp.children.begin(), pp.children.end(), child) != pp.children.end();
            if (!mine) return fail(Errc::no_child, "wait: " + std::to_string(child.v) + " is not a child of " + std::to_string(parent.v));
            return fail(Errc::not_running, "wait: child " + std::to_string(child.v) + " has not exited (wait would block)");
        }
        if (pp.children.empty()) return fail(Errc::no_child, "wait: process " + std::to_string(parent.v) + " has no children");
        return fail(Errc::not_running, "wait: no child of " + std::to_string(parent.v) + " has exited (wait would block)");
    }
    Process& c = proc(found);
    c.state = ProcState::reaped;
    pp.children.erase(std::find(pp.children.begin(), pp.children.end(), found));
    emit(EventKind::reap, parent, 0, kNoFrame, found.v);
    return WaitResult{found, c.exit_status};
}

Status Machine::set_oom_score_adj(Pid pid, int adj) {
    if (Status st = check_pid(pid, "oom_score_adj", false); !st) return st;
    if (adj < -1000 || adj > 1000)
        return fail(Errc::invalid_argument, "oom_score_adj: " + std::to_string(adj) + " is outside -1000..1000");
    proc(pid).oom_score_adj = adj;
    return {};
}

}  // namespace cow
