// events.cpp: the names and descriptions of the event kinds, from the one list in events.h.
#include "events.h"

#include <cstdio>

namespace cow {

const char* to_string(EventKind k) {
    switch (k) {
#define X(name, text) case EventKind::name: return #name;
        COW_EVENT_KINDS(X)
#undef X
    }
    return "?";
}

const char* describe(EventKind k) {
    switch (k) {
#define X(name, text) case EventKind::name: return text;
        COW_EVENT_KINDS(X)
#undef X
    }
    return "?";
}

namespace {

std::string hex(u64 a) {
    char b[24];
    std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(a));
    return b;
}

std::string frame(u64 f) {
    std::string d = std::to_string(f), out;   // 1567 -> "1,567"
    for (size_t i = 0; i < d.size(); ++i) {
        if (i && (d.size() - i) % 3 == 0) out += ',';
        out += d[i];
    }
    return "frame " + out;
}

}  // namespace

bool is_story(EventKind k) {
    switch (k) {
        case EventKind::frame_alloc:
        case EventKind::frame_free:
        case EventKind::pt_alloc:
        case EventKind::pt_free:
            return false;
        default:
            return true;
    }
}

std::string explain(const Event& e, const std::function<std::string(Pid)>& name) {
    const std::string who = e.pid == kNoPid ? "the kernel" : name(e.pid);
    const std::string at = hex(e.addr), f = frame(e.frame.v);
    switch (e.kind) {
        case EventKind::cow_copy:
            return who + " writes " + at + ": its entry is read-only and " + frame(e.arg) +
                   " is mapped by another entry too, so the kernel copies the page to " + f +
                   ", points " + who + "'s entry at the copy, makes it writable, and the old frame's map count drops by one";
        case EventKind::cow_reuse:
            return who + " writes " + at + ": its entry is read-only, but " + f + " is mapped by " + who +
                   " alone now, so the kernel makes the entry writable in place: no copy";
        case EventKind::zero_fill:
            return who + " writes " + at + " for the first time: the kernel takes " + f + ", fills it with zeros and maps it writable";
        case EventKind::zero_page_map:
            return who + " reads " + at + " for the first time: the kernel maps the shared zero page, read-only (a later write copies it)";
        case EventKind::thp_fault:
            return who + " touches " + at + ": the kernel maps a whole 2 MiB huge page (" + f + " and the 511 after it) with one PMD entry";
        case EventKind::thp_split:
            return who + " writes inside a shared huge page at " + at + ": the kernel splits its PMD entry into 512 PTEs, each still read-only";
        case EventKind::thp_copy:
            return who + " writes inside a shared huge page at " + at + ": the kernel copies all 2 MiB to " + f;
        case EventKind::fork:
            return who + " forks " + name(Pid(u32(e.arg))) + ": the kernel copies " + who +
                   "'s page tables, not its pages, and makes every private writable entry read-only in both";
        case EventKind::fork_eager:
            return who + " forks " + name(Pid(u32(e.arg))) + " without copy-on-write: every private page is copied now";
        case EventKind::vfork:
            return who + " vforks " + name(Pid(u32(e.arg))) + ": the child borrows " + who + "'s address space, nothing is copied, " + who + " waits";
        case EventKind::exec:
            return who + " execs: its old entries are unmapped (frames it shared only lose one mapping) and a new image is mapped";
        case EventKind::exit:
            return who + " exits: its entries are unmapped and the frames no one else maps are freed";
        case EventKind::oom_kill:
            return "memory is full: the OOM killer kills " + who;
        case EventKind::file_fault:
            return who + " touches " + at + ": the kernel maps the page-cache page in " + f;
        default:
            return who + ": " + describe(e.kind) + (e.addr ? " at " + at : "");
    }
}

}  // namespace cow
