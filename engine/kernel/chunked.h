// chunked.h: an array kept in fixed-size chunks that its copies share until
// one of them writes: copy-on-write, as fork shares pages. Copying the array
// copies one pointer per chunk; the first write to a chunk another copy still
// holds copies that chunk alone, and later writes to it are plain stores. The
// machine's big tables (page-table pages, per-frame state) are kept so: the
// lab's player keeps a snapshot of a machine after each step for the cost of
// its chunk pointers, and two snapshots hold one chunk once.
//
//   ChunkedArray<u32, 14> a(100000, 0);   // chunks of 16,384 elements
//   ChunkedArray<u32, 14> b = a;          // shares every chunk
//   b.mut(5) = 1;                         // copies b's chunk 0; a[5] is still 0
//
// Reads (the const operator[]) never copy. A reference from mut() stays valid
// until the array is copied; one from operator[] until its chunk is written
// through mut() of an array that shared it (the writer then has a new chunk).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <memory>
#include <vector>

#include "types.h"

namespace cow {

template <class T, unsigned kLog>
class ChunkedArray {
public:
    static constexpr size_t kChunk = size_t{1} << kLog;
    using Chunk = std::array<T, kChunk>;

    ChunkedArray() = default;
    ChunkedArray(size_t n, const T& value) { resize(n, value); }
    ChunkedArray(const ChunkedArray& o) : slots_(o.slots_), hold_(o.hold_), size_(o.size_) { share(o); }
    ChunkedArray& operator=(const ChunkedArray& o) {
        if (this != &o) {
            slots_ = o.slots_;
            hold_ = o.hold_;
            size_ = o.size_;
            share(o);
        }
        return *this;
    }
    ChunkedArray(ChunkedArray&&) noexcept = default;
    ChunkedArray& operator=(ChunkedArray&&) noexcept = default;

    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

    const T& operator[](size_t i) const { return (*slots_[i >> kLog].chunk)[i & (kChunk - 1)]; }
    T& mut(size_t i) {
        Slot& s = slots_[i >> kLog];
        if (!s.own) claim(i >> kLog);
        return (*s.chunk)[i & (kChunk - 1)];
    }

    void push_back(const T& v) {
        if ((size_ & (kChunk - 1)) == 0) add_chunk();
        mut(size_) = v;
        ++size_;
    }
    // Grows to n elements, the new ones value.
    void resize(size_t n, const T& value) {
        while (size_ < n) {
            if ((size_ & (kChunk - 1)) == 0) add_chunk();
            const size_t from = size_ & (kChunk - 1), to = std::min(kChunk, from + (n - size_));
            for (size_t k = from; k < to; ++k) mut(size_ - from + k) = value;
            size_ += to - from;
        }
    }

    // Chunk c as an identity: two arrays whose chunk c is one object hold the
    // same elements there, since a shared chunk is never written (a reader
    // that keeps a copy learns which chunks changed since: framemap.h).
    size_t chunk_count() const { return slots_.size(); }
    const void* chunk_id(size_t c) const { return slots_[c].chunk; }

    // Host memory: every chunk (shared ones too), and the chunks one by one
    // (fn(chunk address, bytes)), so that copies are counted once.
    u64 host_bytes() const { return slots_.size() * (sizeof(Chunk) + sizeof(Slot) + sizeof(std::shared_ptr<Chunk>)); }
    template <class Fn>
    void for_each_chunk(Fn&& fn) const {
        for (const Slot& s : slots_) fn(static_cast<const void*>(s.chunk), u64(sizeof(Chunk)));
    }

private:
    struct Slot {
        Chunk* chunk = nullptr;   // hold_ keeps it alive
        bool own = false;         // no other array holds it: a write needs no check
    };
    void add_chunk() {
        hold_.push_back(std::shared_ptr<Chunk>(new Chunk));   // default-initialised: filled by the caller
        slots_.push_back(Slot{hold_.back().get(), true});
    }
    // A write to chunk c: copy it first if another array holds it.
    void claim(size_t c) {
        if (hold_[c].use_count() > 1) {
            hold_[c] = std::make_shared<Chunk>(*hold_[c]);
            slots_[c].chunk = hold_[c].get();
        }
        slots_[c].own = true;
    }
    // After a copy: neither this array nor o may write a chunk without the check.
    void share(const ChunkedArray& o) {
        for (Slot& s : slots_) s.own = false;
        for (Slot& s : o.slots_) s.own = false;
    }

    mutable std::vector<Slot> slots_;   // mutable: copying an array makes the source share too
    std::vector<std::shared_ptr<Chunk>> hold_;
    size_t size_ = 0;
};

}  // namespace cow
