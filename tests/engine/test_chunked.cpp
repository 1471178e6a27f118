// ChunkedArray: copies share chunks until one writes; a write never reaches
// another copy, and an array alone again writes in place.
#include <doctest/doctest.h>

#include "chunked.h"

using namespace cow;

namespace {
using Small = ChunkedArray<u32, 3>;   // chunks of 8

std::vector<u32> values(const Small& a) {
    std::vector<u32> v;
    for (size_t i = 0; i < a.size(); ++i) v.push_back(a[i]);
    return v;
}

size_t shared_chunks(const Small& a, const Small& b) {
    std::vector<const void*> pa, pb;
    a.for_each_chunk([&](const void* p, u64) { pa.push_back(p); });
    b.for_each_chunk([&](const void* p, u64) { pb.push_back(p); });
    size_t n = 0;
    for (size_t i = 0; i < std::min(pa.size(), pb.size()); ++i) n += pa[i] == pb[i];
    return n;
}
}  // namespace

TEST_CASE("a copy of a chunked array shares its chunks until one of them writes") {
    Small a(20, 7);   // 3 chunks, the last one partly used
    CHECK(a.size() == 20);
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i] == 7);
    Small b = a;
    CHECK(shared_chunks(a, b) == 3);

    b.mut(9) = 1;   // chunk 1 of b is copied
    CHECK(a[9] == 7);
    CHECK(b[9] == 1);
    CHECK(shared_chunks(a, b) == 2);

    a.mut(0) = 2;   // chunk 0 of a is copied; b keeps the old one
    CHECK(b[0] == 7);
    CHECK(a[0] == 2);
    CHECK(shared_chunks(a, b) == 1);

    // Growing past the last chunk: the shared partial chunk is copied on write.
    a.push_back(3);
    a.push_back(4);
    CHECK(a.size() == 22);
    CHECK(b.size() == 20);
    CHECK(shared_chunks(a, b) == 0);
    std::vector<u32> want_b(20, 7);
    want_b[9] = 1;
    CHECK(values(b) == want_b);
}

TEST_CASE("an array whose copies are gone writes its chunks in place") {
    Small a(16, 0);
    std::vector<const void*> before;
    a.for_each_chunk([&](const void* p, u64) { before.push_back(p); });
    { Small gone = a; }
    a.mut(3) = 5;
    a.mut(12) = 6;
    std::vector<const void*> after;
    a.for_each_chunk([&](const void* p, u64) { after.push_back(p); });
    CHECK(before == after);   // nothing copied: nobody else held them
    CHECK(a[3] == 5);
    CHECK(a[12] == 6);
}

TEST_CASE("copies of copies, assigned and moved, never see one another's writes") {
    Small a(8, 1);
    Small b = a, c = b;
    Small d;
    d = c;
    c.mut(2) = 30;
    d.mut(2) = 40;
    Small e = std::move(b);
    e.mut(2) = 50;
    CHECK(a[2] == 1);
    CHECK(c[2] == 30);
    CHECK(d[2] == 40);
    CHECK(e[2] == 50);
    const Small& alias = a;
    a = alias;   // self-assignment keeps the array
    CHECK(values(a) == std::vector<u32>(8, 1));
}
