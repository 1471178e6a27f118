// The Redis workload (engine/workloads/redis.h): the dataset's size as the
// layout defines it, and BGSAVE under write load: the child's COW size.
#include "lab.h"
#include "redis.h"

using namespace test;

namespace {

// One key's allocations, as redis.h lays them out: a 32-byte dictEntry, a
// 32-byte key, and a value (embstr up to 44 bytes, else robj + sds).
u64 per_key(u32 value_bytes) {
    auto cls = [](u64 n) {
        for (u64 c : {8, 16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256})
            if (n <= c) return c;
        return u64(0);
    };
    const u64 value = value_bytes <= 44 ? cls(16 + 3 + value_bytes + 1) : 16 + cls(3 + value_bytes + 1);
    return 32 + 32 + value;
}

u64 buckets_bytes(u64 keys) {
    u64 b = 4;
    while (b < keys) b <<= 1;
    return (b * 8 + kPageSize - 1) & ~(kPageSize - 1);
}

}  // namespace

TEST_CASE("loading N keys allocates N times a key's size classes plus the bucket table") {
    for (u32 vb : {20u, 100u}) {
        Lab lab;
        const Pid p = lab.spawn();
        RedisServer r = lab.ok(RedisServer::load(lab.m, p, {10000, vb}));
        CHECK(r.pid() == p);
        CHECK(r.used_memory() == 10000 * per_key(vb) + buckets_bytes(10000));
        CHECK(r.dataset_bytes() == r.used_memory());
        // Every allocated byte was written: the process holds at least that much.
        CHECK(lab.rollup(p).private_dirty >= r.used_memory() - buckets_bytes(10000));
        CHECK(r.arena_bytes() >= 2 * r.used_memory());
    }
}

TEST_CASE("what a dataset will allocate is known before it is loaded, and is what loading it allocates") {
    for (u32 vb : {1u, 44u, 45u, 100u, 4096u, 20000u})
        for (u64 keys : {1ull, 1000ull, 30000ull}) {
            if (keys * vb > 32 * MiB) continue;   // the lab machine's RAM is smaller
            CAPTURE(vb);
            CAPTURE(keys);
            Lab lab;
            const Pid p = lab.spawn();
            RedisServer r = lab.ok(RedisServer::load(lab.m, p, {keys, vb}));
            CHECK(RedisServer::bytes_for({keys, vb}) == r.used_memory());
        }
}

TEST_CASE("a bad dataset or load is an error, not an abort") {
    Lab lab;
    const Pid p = lab.spawn();
    CHECK(RedisServer::load(lab.m, p, {0, 100}).code() == Errc::limit);
    CHECK(RedisServer::load(lab.m, p, {10, 0}).code() == Errc::limit);
    RedisServer r = lab.ok(RedisServer::load(lab.m, p, {1000, 100}));
    CHECK(r.bgsave(lab.m, {.zipf_s = 1.0}).code() == Errc::invalid_argument);
    CHECK(r.bgsave(lab.m, {.samples = 0}).code() == Errc::limit);
    lab.check();
    CHECK(lab.m.pids().size() == 1);   // no child was left behind
}

TEST_CASE("SETs during BGSAVE copy pages in the child: more writes, more COW; none, almost none") {
    u64 peak[3] = {};
    const double rates[3] = {0, 2000, 50000};
    for (int i = 0; i < 3; ++i) {
        Lab lab(small_config(1 * GiB));
        const Pid p = lab.spawn();
        RedisServer r = lab.ok(RedisServer::load(lab.m, p, {50000, 100}));
        BgsaveResult b = lab.ok(r.bgsave(lab.m, {.writes_per_s = rates[i], .save_mb_per_s = 100, .samples = 10}));
        peak[i] = b.cow_peak;
        CHECK(!b.child_killed);
        CHECK(b.samples.size() == 10);
        CHECK(b.save_s == doctest::Approx(double(r.used_memory()) / 100e6));
        CHECK(double(b.writes) == doctest::Approx(rates[i] * b.save_s).epsilon(0.01));
        for (size_t k = 1; k < b.samples.size(); ++k) {
            CHECK(b.samples[k].writes >= b.samples[k - 1].writes);
            CHECK(b.samples[k].t_s > b.samples[k - 1].t_s);
        }
        CHECK(b.cow_last == b.samples.back().child_private_dirty);
        // The child has exited and been reaped: only the server is left, its memory its own again.
        CHECK((!lab.m.process(b.child) || !lab.m.process(b.child)->alive()));
        CHECK(lab.m.pids().size() == 1);
        // INFO's names carry the save's figures.
        for (const auto& [name, v] : b.info())
            if (name == "rdb_last_cow_size") CHECK(v == double(b.cow_last));
    }
    CHECK(peak[0] <= 4 * kPageSize);   // the child's own stack: no SETs, nothing copied
    CHECK(peak[1] > peak[0]);
    CHECK(peak[2] > 4 * peak[1]);
    CHECK(peak[2] > 1000 * kPageSize);
}
