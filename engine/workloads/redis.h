// redis.h: a Redis-like server as a workload: it lays its dataset out in
// memory the way Redis 7 with jemalloc does, and turns SETs and BGSAVE into
// the engine's operations (mmap, writes, reads, fork, exit). It only emits
// operations: everything it costs is the engine's figures.
//
// The layout, per key (Redis 7 keyspace dict, jemalloc 5 size classes):
//
//   dict buckets   one 8-byte pointer per bucket, 2^k >= keys buckets (a large allocation)
//   dictEntry      {key, value, next}: 24 bytes -> the 32-byte class
//   key            an sds string: 3-byte header + "key:000000000042" + NUL -> 32-byte class
//   value <= 44 B  an embstr object: robj (16) + sds header + bytes + NUL in one allocation
//   value  > 44 B  a raw object: robj (16-byte class) + its own sds allocation
//
// Small allocations come from slabs of their size class (a slab spans
// lcm(size, 4 KiB) bytes, so 48-byte objects pack 256 to 3 pages), handed out
// lowest address first and recycled through a LIFO thread cache of 200 slots
// per class, as jemalloc's tcache does. Slab metadata (which slots are free)
// lives apart from the slabs, so a free does not write the object's page.
//
// A SET of an existing key: the new value is allocated (while parsing the
// command), the dictEntry's value pointer is written, the old value is freed.
// So a write dirties the page of the entry and the page the new value lands
// in: the next free slot, typically the one the previous SET freed.
//
// BGSAVE: fork; the child reads the whole dataset over the save time (dataset
// / save rate) while the parent applies the write load; the child's
// Private_Dirty, sampled as it goes, is what Redis reports as the COW size
// (current_cow_peak, rdb_last_cow_size).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "machine.h"
#include "chunked.h"

namespace cow {

struct RedisDataset {
    u64 keys = 100000;
    u32 value_bytes = 100;
};

struct BgsaveLoad {
    double writes_per_s = 1000;   // SETs per second during the save
    double zipf_s = 0;            // 0: keys chosen uniformly; 0 < s < 1: Zipf skew (YCSB uses 0.99)
    u32 value_bytes = 0;          // size of the new values (0: same as the dataset's)
    double save_mb_per_s = 100;   // how fast the child writes the RDB file (MB/s)
    int samples = 20;             // points of the time series
};

struct BgsaveSample {
    double t_s = 0;               // seconds since the fork (the workload's clock)
    u64 writes = 0;               // SETs applied so far
    u64 child_private_dirty = 0;  // the child's Private_Dirty: the COW size Redis reports
    u64 parent_rss = 0;
    u64 used = 0;                 // machine memory in use
};

struct BgsaveResult {
    Pid child = kNoPid;
    u64 fork_ns = 0;              // latest_fork_usec * 1000 (simulated)
    double save_s = 0;            // rdb_last_bgsave_time_sec
    u64 writes = 0;
    u64 cow_peak = 0;             // current_cow_peak (max of the samples)
    u64 cow_last = 0;             // rdb_last_cow_size (the child's last report)
    bool child_killed = false;    // the OOM killer took the child (or the fork failed: see the status)
    std::vector<BgsaveSample> samples;

    // What Redis's INFO persistence reports after this save, by INFO's names
    // (latest_fork_usec, rdb_last_cow_size, ...), and the save's own figures.
    std::vector<std::pair<std::string, double>> info() const;
};

class RedisServer {
public:
    // Maps the server's arena and loads the dataset into process `pid`.
    static Result<RedisServer> load(Machine& m, Pid pid, const RedisDataset& data);
    // The bytes load() allocates for a dataset, rounded to jemalloc's size
    // classes, its hash table included: known before anything is mapped.
    static u64 bytes_for(const RedisDataset& data);
    // Forks a child that saves the dataset while the parent takes the write load.
    Result<BgsaveResult> bgsave(Machine& m, const BgsaveLoad& load);
    // The same a sample at a time (a lesson runs it in slices): begin, then
    // sample until done(), then end; the result is bgsave()'s.
    struct Bgsave {
        BgsaveLoad load;
        u32 new_bytes = 0;
        double total_writes = 0;
        u64 done_writes = 0;
        int next = 1;                 // the sample taken next, 1 .. load.samples
        std::vector<u64> writes;      // written since the last flush
        BgsaveResult res;
        bool done() const { return next > load.samples; }
    };
    Result<Bgsave> bgsave_begin(Machine& m, const BgsaveLoad& load);
    Status bgsave_sample(Machine& m, Bgsave& b);   // a part of the next sample (at most 512 SETs)
    BgsaveResult bgsave_end(Machine& m, Bgsave& b);

    u64 used_memory() const { return used_memory_; }    // INFO used_memory: bytes allocated
    u64 dataset_bytes() const { return dataset_bytes_; }  // keys and values
    u64 arena_bytes() const { return arena_len_; }
    Pid pid() const { return pid_; }
    RedisServer() = default;

private:
    struct Slab {
        u64 base = 0;
        u32 nslots = 0, nfree = 0;
        std::vector<u64> free_bits;   // 1 = free
    };
    struct SizeClass {
        u32 size = 0;
        u32 slab_pages = 0;
        std::vector<Slab> slabs;
        std::vector<u32> nonfull;     // slabs with free slots, lowest address first
        std::vector<u64> tcache;      // LIFO of freed slots
    };
    struct Value {
        u64 obj = 0, sds = 0;         // sds == 0: embstr
        u8 obj_class = 0, sds_class = 0;
    };

    Result<u64> alloc(u32 bytes, std::vector<u64>& writes);
    void free(u64 addr, u8 cls);
    Result<Value> new_value(u32 bytes, std::vector<u64>& writes);
    void free_value(const Value& v);
    u8 class_of(u32 bytes) const;
    u64 next_key(Rng& rng, double zipf_s);
    Status set_keys(Machine& m, u64 count, double zipf_s, u32 new_bytes, std::vector<u64>& writes);
    Status flush(Machine& m, std::vector<u64>& writes);

    Pid pid_ = kNoPid;
    u64 arena_ = 0, arena_len_ = 0, arena_top_ = 0;   // the mapping slabs are carved from
    u64 meta_ = 0, meta_len_ = 0;                      // slab metadata
    u64 table_ = 0;                                    // dict buckets
    std::vector<SizeClass> classes_;
    // Per key, in chunks that a copy of the server (the lab's snapshot) shares until one writes.
    ChunkedArray<u64, 8> entries_;                     // its dictEntry
    ChunkedArray<Value, 8> values_;                    // its value
    std::vector<u64> meta_writes_;                     // metadata pages written by frees
    u32 value_bytes_ = 0;
    u64 used_memory_ = 0, dataset_bytes_ = 0;
    double zeta_s_ = -1, zeta_n_ = 0, zipf_eta_ = 0, zipf_half_ = 0;   // the Zipf generator's constants for zeta_s_
};

}  // namespace cow
