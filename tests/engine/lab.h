// lab.h: a machine for tests whose invariants are checked after every
// operation, with short helpers that fail the test on an unexpected error.
#pragma once

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "engine.h"

namespace test {

using namespace cow;

inline MachineConfig small_config(u64 ram = 256 * MiB) {
    MachineConfig c;
    c.ram_bytes = ram;
    return c;
}

inline MachineConfig thp_config() {   // transparent huge pages always
    MachineConfig c = small_config();
    c.thp = ThpMode::always;
    return c;
}

// A bare image: no libraries, nothing touched at start, so tests count exactly.
inline Image bare_image(const std::string& name = "prog", u64 bss = 0) {
    Image im;
    im.name = name;
    im.text = 16 * KiB;
    im.rodata = 0;
    im.data = 4 * KiB;
    im.bss = bss;
    im.heap = 0;
    im.stack = 16 * KiB;
    im.warm = false;
    return im;
}

struct Lab {
    Machine m;

    explicit Lab(const MachineConfig& c = small_config()) {
        Result<Machine> r = Machine::create(c);
        REQUIRE_MESSAGE(r.ok(), r.message());
        m = std::move(r.value());
        check();
    }

    void check() const {
        Status st = m.check_invariants();
        REQUIRE_MESSAGE(st.ok(), st.message);
    }
    template <class T>
    T ok(Result<T> r) {
        REQUIRE_MESSAGE(r.ok(), r.message());
        check();
        return r.value();
    }
    void ok(const Status& st) {
        REQUIRE_MESSAGE(st.ok(), st.message);
        check();
    }

    Pid spawn(const Image& im = bare_image()) { return ok(m.spawn(im)); }
    u64 mmap(Pid p, u64 len, const std::string& name = "buf") { return ok(m.mmap(p, {.len = len, .name = name})); }
    u64 mmap_shared(Pid p, u64 len) { return ok(m.mmap(p, {.len = len, .shared = true})); }
    AccessResult write(Pid p, u64 a, u64 len) { return ok(m.access(p, a, len, Access::write)); }
    AccessResult read(Pid p, u64 a, u64 len) { return ok(m.access(p, a, len, Access::read)); }
    Pid fork(Pid p) { return ok(m.fork(p)).child; }
    void exit(Pid p, int code = 0) { ok(m.exit(p, code)); }
    MemStats rollup(Pid p) const {
        Result<MemStats> r = m.smaps_rollup(p);
        REQUIRE_MESSAGE(r.ok(), r.message());
        return r.value();
    }
    // The smaps of the VMA containing addr.
    MemStats vma_stats(Pid p, u64 addr) const {
        Result<std::vector<VmaStats>> r = m.smaps(p);
        REQUIRE_MESSAGE(r.ok(), r.message());
        for (const VmaStats& v : r.value())
            if (addr >= v.start && addr < v.end) return v.mem;
        FAIL("no VMA at the address");
        return {};
    }
    u32 peek(Pid p, u64 a) const {
        Result<u32> r = m.peek(p, a);
        REQUIRE_MESSAGE(r.ok(), r.message());
        return r.value();
    }
    const ProcCounters& counters(Pid p) const { return m.process(p)->counters; }
};

}  // namespace test
