// Typed ids (types.h): a Pid, a FrameId, a FileId and an MmId are distinct
// types, so passing one where another is wanted, or a bare number, does not
// compile. Checked with type traits, so the test fails if one goes back to
// being a plain u32.
#include <map>
#include <type_traits>

#include "lab.h"

using namespace test;

namespace {

// Neither converts to the other, implicitly or explicitly.
template <class A, class B>
constexpr bool unmixable() {
    return !std::is_convertible_v<A, B> && !std::is_convertible_v<B, A> && !std::is_constructible_v<A, B> &&
           !std::is_constructible_v<B, A>;
}

// Made from a number only explicitly, and never turns back into one.
template <class Id>
constexpr bool explicit_id() {
    return !std::is_same_v<Id, u32> && std::is_constructible_v<Id, u32> && !std::is_convertible_v<u32, Id> &&
           !std::is_convertible_v<Id, u32> && !std::is_constructible_v<u32, Id> &&
           !std::is_convertible_v<Id, bool> && std::is_trivially_copyable_v<Id> && sizeof(Id) == sizeof(u32);
}

}  // namespace

TEST_CASE("a pid is its own type: not a number, not a frame, file or address space") {
    CHECK(explicit_id<Pid>());
    CHECK(unmixable<Pid, FileId>());
    CHECK(unmixable<Pid, MmId>());
    CHECK(unmixable<Pid, FrameId>());
    CHECK(std::is_same_v<decltype(kNoPid), const Pid>);
    CHECK(kNoPid.v == 0);
    CHECK(Pid{3} == Pid{3});
    CHECK(Pid{3} != Pid{4});
    CHECK(Pid{3} < Pid{4});
    std::map<Pid, int> by_pid{{Pid{2}, 20}, {Pid{1}, 10}};
    CHECK(by_pid.begin()->first == Pid{1});
}

TEST_CASE("a file id and an address-space id are types of their own") {
    CHECK(explicit_id<FileId>());
    CHECK(explicit_id<MmId>());
    CHECK(unmixable<FileId, MmId>());
    CHECK(std::is_same_v<decltype(kNoFile), const FileId>);
    CHECK(kNoFile.v == 0xffffffffu);
    CHECK(std::is_same_v<decltype(Process::mm), MmId>);
}

TEST_CASE("a frame id is its own type; a subpage is its head plus an offset") {
    CHECK(explicit_id<FrameId>());
    CHECK(unmixable<FrameId, FileId>());
    CHECK(unmixable<FrameId, MmId>());
    CHECK(std::is_same_v<decltype(kNoFrame), const FrameId>);
    CHECK(kNoFrame.v == 0xffffffffu);
    CHECK(std::is_same_v<decltype(FrameId{512} + 3u), FrameId>);
    CHECK((FrameId{512} + 3u).v == 515);
    CHECK(std::is_same_v<decltype(pte::pfn(0)), FrameId>);
    CHECK(pte::pfn(pte::make(FrameId{7}, pte::present)) == FrameId{7});
}
