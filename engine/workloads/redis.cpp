// redis.cpp: the Redis-like workload: jemalloc-style slabs, the keyspace
// layout, SETs, and BGSAVE under write load.
#include "redis.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

namespace cow {

namespace {

// jemalloc 5 small size classes (16-byte quantum, 4 KiB pages); larger requests take whole pages.
constexpr u32 kClasses[] = {8,    16,   32,   48,   64,   80,   96,   112,   128,   160,   192,   224,
                            256,  320,  384,  448,  512,  640,  768,  896,   1024,  1280,  1536,  1792,
                            2048, 2560, 3072, 3584, 4096, 5120, 6144, 7168, 8192, 10240, 12288, 14336};
constexpr u8 kLarge = 0xff;
constexpr size_t kTcacheSlots = 200;      // opt.tcache_nslots_small_max
constexpr u64 kMetaBytesPerSlab = 128;    // an edata_t with its slab bitmap
constexpr u32 kKeyLen = 16;               // "key:%012d"

u32 sds_header(u32 len) { return len < 256 ? 3 : len < 65536 ? 5 : 9; }

}  // namespace

namespace {

u64 allocated(u64 bytes) {   // what alloc() takes for so many bytes
    for (u32 size : kClasses)
        if (bytes <= size) return size;
    return page_up(bytes);
}

}  // namespace

u64 RedisServer::bytes_for(const RedisDataset& data) {
    u64 buckets = 4;
    while (buckets < data.keys) buckets <<= 1;
    const u64 vb = data.value_bytes;
    const u64 value = vb <= 44 ? allocated(16 + 3 + vb + 1) : allocated(16) + allocated(sds_header(u32(vb)) + vb + 1);
    return data.keys * (allocated(24) + allocated(3 + kKeyLen + 1) + value) + allocated(buckets * 8);
}

u8 RedisServer::class_of(u32 bytes) const {
    for (u8 i = 0; i < classes_.size(); ++i)
        if (bytes <= classes_[i].size) return i;
    return kLarge;
}

// Allocates `bytes`; records the pages the caller will write (an object is written when created).
Result<u64> RedisServer::alloc(u32 bytes, std::vector<u64>& writes) {
    const u8 c = class_of(bytes);
    u64 addr = 0;
    u64 size = 0;
    if (c == kLarge) {
        size = page_up(u64(bytes));
        if (arena_top_ + size > arena_ + arena_len_) return fail(Errc::no_memory, "redis: the arena is full");
        addr = arena_top_;
        arena_top_ += size;
    } else {
        SizeClass& sc = classes_[c];
        size = sc.size;
        if (!sc.tcache.empty()) {
            addr = sc.tcache.back();
            sc.tcache.pop_back();
        } else {
            if (sc.nonfull.empty()) {
                const u64 len = u64(sc.slab_pages) * kPageSize;
                if (arena_top_ + len > arena_ + arena_len_) return fail(Errc::no_memory, "redis: the arena is full");
                Slab s;
                s.base = arena_top_;
                s.nslots = u32(len / sc.size);
                s.nfree = s.nslots;
                s.free_bits.assign((s.nslots + 63) / 64, ~u64{0});
                if (s.nslots % 64) s.free_bits.back() = (u64{1} << (s.nslots % 64)) - 1;
                arena_top_ += len;
                sc.slabs.push_back(std::move(s));
                sc.nonfull.push_back(u32(sc.slabs.size() - 1));
            }
            // The lowest slab with room, its lowest free slot.
            auto lowest = std::min_element(sc.nonfull.begin(), sc.nonfull.end());
            Slab& s = sc.slabs[*lowest];
            for (size_t w = 0; w < s.free_bits.size(); ++w) {
                if (!s.free_bits[w]) continue;
                const u32 bit = u32(__builtin_ctzll(s.free_bits[w]));
                s.free_bits[w] &= ~(u64{1} << bit);
                addr = s.base + (w * 64 + bit) * u64(sc.size);
                break;
            }
            if (--s.nfree == 0) sc.nonfull.erase(lowest);
        }
    }
    used_memory_ += size;
    for (u64 p = page_down(addr); p < addr + bytes; p += kPageSize) writes.push_back(p);
    return addr;
}

// A free goes to the thread cache; a full cache flushes its older half back to
// the slabs, which writes their metadata, not the objects' pages.
void RedisServer::free(u64 addr, u8 c) {
    if (c == kLarge) return;   // large extents are not reused in this model
    SizeClass& sc = classes_[c];
    used_memory_ -= sc.size;
    sc.tcache.push_back(addr);
    if (sc.tcache.size() < kTcacheSlots) return;
    const size_t flush = kTcacheSlots / 2;
    for (size_t i = 0; i < flush; ++i) {
        const u64 a = sc.tcache[i];
        auto it = std::upper_bound(sc.slabs.begin(), sc.slabs.end(), a, [](u64 x, const Slab& s) { return x < s.base; });
        Slab& s = *(it - 1);
        const u64 slot = (a - s.base) / sc.size;
        s.free_bits[slot / 64] |= u64{1} << (slot % 64);
        if (s.nfree++ == 0) sc.nonfull.push_back(u32(&s - sc.slabs.data()));
        const u64 slab_index = u64(&s - sc.slabs.data()) + u64(c) * 1000003u;   // spreads the classes' metadata
        meta_writes_.push_back(meta_ + (slab_index * kMetaBytesPerSlab) % meta_len_);
    }
    sc.tcache.erase(sc.tcache.begin(), sc.tcache.begin() + long(flush));
}

Result<RedisServer::Value> RedisServer::new_value(u32 bytes, std::vector<u64>& writes) {
    Value v;
    if (bytes <= 44) {   // OBJ_ENCODING_EMBSTR_SIZE_LIMIT
        const u32 size = 16 + 3 + bytes + 1;
        Result<u64> a = alloc(size, writes);
        if (!a) return a.status();
        v.obj = *a;
        v.obj_class = class_of(size);
        return v;
    }
    Result<u64> o = alloc(16, writes);
    if (!o) return o.status();
    const u32 sds = sds_header(bytes) + bytes + 1;
    Result<u64> s = alloc(sds, writes);
    if (!s) return s.status();
    v.obj = *o;
    v.obj_class = class_of(16);
    v.sds = *s;
    v.sds_class = class_of(sds);
    return v;
}

void RedisServer::free_value(const Value& v) {
    free(v.obj, v.obj_class);
    if (v.sds) free(v.sds, v.sds_class);
}

namespace {

// std::sort then std::unique, by an LSD radix sort of the addresses' offsets
// from the lowest, 11 bits a pass: a flush under write load sorts hundreds of
// thousands of addresses, most of them repeats (adjacent ones go first).
void sort_unique(std::vector<u64>& v) {
    constexpr int kBits = 11;
    constexpr u64 kMask = (u64{1} << kBits) - 1;
    v.erase(std::unique(v.begin(), v.end()), v.end());
    if (v.size() < 4096) {
        std::sort(v.begin(), v.end());
    } else {
        const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
        const u64 base = *lo, range = *hi - *lo;
        const size_t n = v.size();
        std::unique_ptr<u64[]> buf(new u64[n]);   // not zeroed: every slot is written
        u64* src = v.data();
        u64* dst = buf.get();
        for (int shift = 0; shift < 64 && (range >> shift) != 0; shift += kBits) {
            std::vector<u64> at(kMask + 2, 0);   // at[d + 1]: how many have digit d; then where d starts
            for (size_t i = 0; i < n; ++i) ++at[(((src[i] - base) >> shift) & kMask) + 1];
            for (u64 d = 1; d < at.size(); ++d) at[d] += at[d - 1];
            for (size_t i = 0; i < n; ++i) dst[at[((src[i] - base) >> shift) & kMask]++] = src[i];
            std::swap(src, dst);
        }
        if (src != v.data()) std::copy(src, src + n, v.data());
    }
    v.erase(std::unique(v.begin(), v.end()), v.end());
}

}  // namespace

Status RedisServer::flush(Machine& m, std::vector<u64>& writes) {
    writes.insert(writes.end(), meta_writes_.begin(), meta_writes_.end());
    meta_writes_.clear();
    if (writes.empty()) return {};
    sort_unique(writes);
    Result<AccessResult> r = m.access_pages(pid_, writes, Access::write);
    writes.clear();
    return r.status();
}

Result<RedisServer> RedisServer::load(Machine& m, Pid pid, const RedisDataset& data) {
    if (data.keys == 0 || data.keys > 50'000'000) return fail(Errc::limit, "redis: keys must be 1 .. 50,000,000");
    if (data.value_bytes == 0 || data.value_bytes > 1'000'000) return fail(Errc::limit, "redis: value_bytes must be 1 .. 1,000,000");
    RedisServer r;
    r.pid_ = pid;
    r.value_bytes_ = data.value_bytes;
    for (u32 size : kClasses) {
        SizeClass sc;
        sc.size = size;
        sc.slab_pages = size / std::gcd(size, u32(kPageSize));
        r.classes_.push_back(std::move(sc));
    }
    u64 buckets = 4;
    while (buckets < data.keys) buckets <<= 1;
    // Room for the dataset twice over (values rewritten larger, fragmentation) and the table.
    const u64 per_key = 32 + 32 + (data.value_bytes <= 44 ? 64 : 16 + u64(data.value_bytes) + 9 + 64);
    r.arena_len_ = huge_up(2 * data.keys * per_key + buckets * 8 + 16 * MiB);
    Result<u64> arena = m.mmap(pid, {.len = r.arena_len_, .name = "jemalloc arena"});
    if (!arena) return fail(arena.code(), "redis: " + arena.message());
    r.arena_ = r.arena_top_ = *arena;
    r.meta_len_ = page_up((r.arena_len_ / kPageSize) * kMetaBytesPerSlab / 8);
    Result<u64> meta = m.mmap(pid, {.len = r.meta_len_, .name = "jemalloc metadata"});
    if (!meta) return fail(meta.code(), "redis: " + meta.message());
    r.meta_ = *meta;

    std::vector<u64> writes;
    Result<u64> table = r.alloc(u32(std::min<u64>(buckets * 8, 0xffffffffu)), writes);
    if (!table) return table.status();
    r.table_ = *table;
    writes.clear();   // buckets are written as keys land in them
    r.entries_.resize(data.keys, 0);
    r.values_.resize(data.keys, Value{});
    for (u64 k = 0; k < data.keys; ++k) {
        Result<u64> e = r.alloc(24, writes);
        Result<u64> key = e ? r.alloc(3 + kKeyLen + 1, writes) : e;
        if (!key) return key.status();
        Result<Value> v = r.new_value(data.value_bytes, writes);
        if (!v) return v.status();
        r.entries_.mut(k) = *e;
        r.values_.mut(k) = *v;
        u64 h = k * 0x9E3779B97F4A7C15ull;
        writes.push_back(page_down(r.table_ + ((h >> 20) & (buckets - 1)) * 8));
        if (writes.size() >= 65536)
            if (Status st = r.flush(m, writes); !st) return fail(st.err, "redis: loading: " + st.message);
    }
    if (Status st = r.flush(m, writes); !st) return fail(st.err, "redis: loading: " + st.message);
    r.dataset_bytes_ = r.used_memory_;
    return r;
}

// A key for the next SET: uniform, or Zipf-distributed ranks (Gray et al.'s
// generator, as YCSB's) scattered over the keyspace.
u64 RedisServer::next_key(Rng& rng, double s) {
    const u64 n = entries_.size();
    const double u = rng.uniform();
    if (s <= 0) return u64(u * double(n)) % n;
    if (s != zeta_s_) {
        zeta_s_ = s;
        zeta_n_ = 0;
        for (u64 i = 1; i <= n; ++i) zeta_n_ += 1.0 / std::pow(double(i), s);
        zipf_half_ = std::pow(0.5, s);
        const double zeta2 = 1.0 + zipf_half_;
        zipf_eta_ = (1 - std::pow(2.0 / double(n), 1 - s)) / (1 - zeta2 / zeta_n_);
    }
    const double uz = u * zeta_n_;
    u64 rank;
    if (uz < 1) rank = 0;
    else if (uz < 1 + zipf_half_) rank = 1;
    else rank = u64(double(n) * std::pow(zipf_eta_ * u - zipf_eta_ + 1, 1 / (1 - s)));
    rank = std::min(rank, n - 1);
    return (rank * 0x9E3779B97F4A7C15ull) % n;   // hot keys are anywhere in memory
}

// `count` SETs of keys drawn from the machine's generator. A batch's keys are
// drawn first, so that their dictEntry and value records (cache misses in a
// large keyspace) come from host memory together; a failed SET leaves the
// generator where SETs drawn one by one would have left it.
Status RedisServer::set_keys(Machine& m, u64 count, double zipf_s, u32 new_bytes, std::vector<u64>& writes) {
    constexpr u64 kBatch = 32;
    constexpr u32 kArgvKey = 16 + 3 + kKeyLen + 1;
    u64 keys[kBatch];
    while (count > 0) {
        const u64 n = std::min(count, kBatch);
        const Rng before = m.rng();
        for (u64 j = 0; j < n; ++j) {
            keys[j] = next_key(m.rng(), zipf_s);
            __builtin_prefetch(&entries_[keys[j]], 1);
            __builtin_prefetch(&values_[keys[j]], 1);
        }
        for (u64 j = 0; j < n; ++j) {
            const u64 k = keys[j];
            // The command's argument objects: the key (freed at once) and the new value.
            Result<u64> argv_key = alloc(kArgvKey, writes);
            Result<Value> nv = argv_key ? new_value(new_bytes, writes) : argv_key.status();
            if (!nv) {
                m.rng() = before;
                for (u64 i = 0; i <= j; ++i) (void)next_key(m.rng(), zipf_s);
                return fail(nv.code(), nv.message());
            }
            free(*argv_key, class_of(kArgvKey));
            writes.push_back(page_down(entries_[k] + 8));   // dictEntry.v = the new value
            free_value(values_[k]);
            values_.mut(k) = *nv;
        }
        count -= n;
    }
    return {};
}

std::vector<std::pair<std::string, double>> BgsaveResult::info() const {
    return {{"latest_fork_usec", double(fork_ns) / 1000.0},
            {"rdb_last_bgsave_time_sec", save_s},
            {"rdb_last_cow_size", double(cow_last)},
            {"current_cow_peak", double(cow_peak)},
            {"bgsave_writes", double(writes)},
            {"bgsave_child_killed", child_killed ? 1.0 : 0.0}};
}

Result<BgsaveResult> RedisServer::bgsave(Machine& m, const BgsaveLoad& load) {
    Result<Bgsave> b = bgsave_begin(m, load);
    if (!b) return b.status();
    while (!b->done())
        if (Status st = bgsave_sample(m, *b); !st) return st;
    return bgsave_end(m, *b);
}

Result<RedisServer::Bgsave> RedisServer::bgsave_begin(Machine& m, const BgsaveLoad& load) {
    if (!(load.writes_per_s >= 0 && load.writes_per_s <= 1e7)) return fail(Errc::limit, "redis: writes_per_s must be 0 .. 10,000,000");
    if (!(load.zipf_s >= 0 && load.zipf_s < 1)) return fail(Errc::invalid_argument, "redis: zipf_s must be in [0, 1)");
    if (!(load.save_mb_per_s > 0 && load.save_mb_per_s <= 1e5)) return fail(Errc::limit, "redis: save_mb_per_s must be above 0");
    if (load.samples < 1 || load.samples > 1000) return fail(Errc::limit, "redis: samples must be 1 .. 1000");
    if (load.value_bytes > 1'000'000) return fail(Errc::limit, "redis: value_bytes must be at most 1,000,000");
    Bgsave b;
    b.load = load;
    b.new_bytes = load.value_bytes ? load.value_bytes : value_bytes_;
    Result<ForkResult> f = m.fork(pid_);
    if (!f) return fail(f.code(), "redis: BGSAVE: " + f.message());
    b.res.child = f->child;
    b.res.fork_ns = f->time_ns;
    b.res.save_s = double(used_memory_) / (load.save_mb_per_s * 1e6);
    b.total_writes = load.writes_per_s * b.res.save_s;
    // The child's own start: its stack and the buffers it writes the file through.
    if (const Mm* cm = m.address_space(b.res.child))
        for (const Vma& v : cm->vmas)
            if (v.kind == VmaKind::stack) (void)m.access(b.res.child, v.end - kPageSize, kPageSize, Access::write);
    return b;
}

// A part of a sample: at most kSetsPerPart of the parent's SETs up to it; the
// last part writes the sample's pages, the child reads, and the figures are
// taken. (A part's SETs copy the chunks of the key tables they touch, fresh
// memory the first time: parts keep that to a slice of a lab's frame. The
// pages are written once per sample, as before parts, so the figures are the same.)
Status RedisServer::bgsave_sample(Machine& m, Bgsave& b) {
    constexpr u64 kSetsPerPart = 512;
    const int i = b.next;
    const BgsaveLoad& load = b.load;
    BgsaveResult& res = b.res;
    const u64 target = u64(std::llround(b.total_writes * i / load.samples));
    if (target > b.done_writes) {
        const u64 n = std::min(target - b.done_writes, kSetsPerPart);
        if (Status st = set_keys(m, n, load.zipf_s, b.new_bytes, b.writes); !st) return st;
        b.done_writes += n;
        if (b.done_writes < target) return {};
    }
    ++b.next;
    if (Status st = flush(m, b.writes); !st) return fail(st.err, "redis: the server " + st.message);
    const Process* child = m.process(res.child);
    if (child && child->alive()) {
        // The child has read its share of the dataset by now.
        const u64 upto = arena_ + (arena_top_ - arena_) * u64(i) / u64(load.samples);
        const u64 from = arena_ + (arena_top_ - arena_) * u64(i - 1) / u64(load.samples);
        if (upto > from) (void)m.access(res.child, from, upto - from, Access::read);
    }
    BgsaveSample s;
    s.t_s = res.save_s * i / load.samples;
    s.writes = b.done_writes;
    if (child && child->alive()) {
        if (Result<MemStats> ms = m.smaps_rollup(res.child); ms) s.child_private_dirty = ms->private_dirty;
    } else {
        res.child_killed = true;
    }
    if (Result<ProcStatus> ps = m.status(pid_); ps) s.parent_rss = ps->vm_rss;
    s.used = m.used_bytes();
    res.cow_peak = std::max(res.cow_peak, s.child_private_dirty);
    if (!res.child_killed) res.cow_last = s.child_private_dirty;
    res.samples.push_back(s);
    return {};
}

BgsaveResult RedisServer::bgsave_end(Machine& m, Bgsave& b) {
    BgsaveResult res = std::move(b.res);
    res.writes = b.done_writes;
    if (const Process* child = m.process(res.child); child && child->alive()) (void)m.exit(res.child, 0);
    (void)m.wait(pid_, res.child);
    return res;
}

}  // namespace cow
