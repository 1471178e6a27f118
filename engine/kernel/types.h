// types.h: the engine's vocabulary: sizes, typed ids, and error values.
//
// Ids are small integers, never pointers, so the whole machine can be copied
// (snapshots, rewind) and compared. Operations that can fail on a user's input
// return Result<T> / Status with a message; they never throw or abort. A broken
// invariant (a bug) is reported by invariant_broken, which names the function
// and aborts. (types.cpp, version.cpp)
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace cow {

using u8 = std::uint8_t;
using u16 = std::uint16_t;
using u32 = std::uint32_t;
using u64 = std::uint64_t;
using i64 = std::int64_t;

constexpr u64 kPageShift = 12;
constexpr u64 kPageSize = u64{1} << kPageShift;         // 4 KiB
constexpr u64 kHugeShift = 21;
constexpr u64 kHugeSize = u64{1} << kHugeShift;         // 2 MiB (one PMD entry)
constexpr u64 kPagesPerHuge = kHugeSize / kPageSize;    // 512
constexpr u64 kEntriesPerTable = 512;                   // x86-64: 9 bits per level
constexpr u64 kUserTop = u64{1} << 47;                  // 128 TiB of user address space
constexpr u64 KiB = 1024, MiB = KiB * 1024, GiB = MiB * 1024;

// Rounding to pages and huge pages, the one place it is written.
constexpr u64 page_down(u64 v) { return v & ~(kPageSize - 1); }
constexpr u64 page_up(u64 v) { return (v + kPageSize - 1) & ~(kPageSize - 1); }
constexpr u64 pages_in(u64 bytes) { return page_up(bytes) >> kPageShift; }   // pages that hold `bytes`
constexpr u64 huge_down(u64 v) { return v & ~(kHugeSize - 1); }
constexpr u64 huge_up(u64 v) { return (v + kHugeSize - 1) & ~(kHugeSize - 1); }

// Typed ids, as sokol's handles: each a u32 in a struct of its own, so one
// cannot pass for another or for a plain number. Make one explicitly
// (`Pid{3}`); `.v` is the number, for indexing, printing and JSON.
#define COW_TYPED_ID(Name)                                                        \
    struct Name {                                                                 \
        u32 v = 0;                                                                \
        constexpr Name() = default;                                               \
        constexpr explicit Name(u32 value) : v(value) {}                          \
        friend constexpr bool operator==(Name, Name) = default;                   \
        friend constexpr auto operator<=>(Name, Name) = default;                  \
    }
COW_TYPED_ID(Pid);       // process id; 0 is never a process
COW_TYPED_ID(FileId);    // a file (or shmem object) with a page cache
COW_TYPED_ID(MmId);      // an address space: its slot in the Machine
COW_TYPED_ID(FrameId);   // physical frame number (PFN)
#undef COW_TYPED_ID
// The frame n frames after f (a subpage of a huge page), as a PFN plus n.
constexpr FrameId operator+(FrameId f, u32 n) { return FrameId(f.v + n); }
constexpr FrameId kNoFrame{0xffffffffu};
constexpr Pid kNoPid{0};
constexpr FileId kNoFile{0xffffffffu};

enum class Errc : u8 {
    ok = 0,
    invalid_argument,   // EINVAL: malformed request (size 0, unaligned, unknown flag)
    no_such_process,    // ESRCH
    not_running,        // the process exists but cannot run this (zombie, suspended by vfork)
    no_memory,          // ENOMEM: overcommit refused, address space full, or OOM
    bad_address,        // EFAULT / SIGSEGV: outside every VMA or not permitted
    limit,              // a size beyond the configured limits of the model
    no_child,           // ECHILD: wait with nothing to wait for
    killed,             // the process was killed while doing this (OOM, SIGSEGV)
    not_permitted,      // EACCES / EPERM (live mode: another user's process)
    malformed,          // input that does not parse (live mode: /proc content)
    over_budget,        // parameters asking more than can be run (work past the host's budget, a
                        // dataset larger than the machine): refused before any of it runs
};

const char* errc_name(Errc e);

struct [[nodiscard]] Status {
    Errc err = Errc::ok;
    std::string message;

    bool ok() const { return err == Errc::ok; }
    Errc code() const { return err; }
    explicit operator bool() const { return ok(); }
    static Status success() { return {}; }
};

inline Status fail(Errc code, std::string message) { return Status{code, std::move(message)}; }

template <class T>
class [[nodiscard]] Result {
public:
    Result(T value) : v_(std::move(value)) {}
    Result(Status error) : v_(std::move(error)) {}

    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    const T& value() const { return std::get<0>(v_); }
    T& value() { return std::get<0>(v_); }
    const T& operator*() const { return value(); }
    const T* operator->() const { return &value(); }
    T& operator*() { return value(); }
    T* operator->() { return &value(); }
    Status status() const { return ok() ? Status{} : std::get<1>(v_); }
    Errc code() const { return ok() ? Errc::ok : std::get<1>(v_).err; }
    const std::string& message() const {
        static const std::string empty;
        return ok() ? empty : std::get<1>(v_).message;
    }

private:
    std::variant<T, Status> v_;
};

// A broken engine invariant (a bug, never a user's input): print the function
// and what broke, then abort.
[[noreturn]] void invariant_broken(const char* function, const std::string& what);

// The engine's version ("0.1.0"), set by the build from the project's.
const char* version();

// Human-readable byte count ("4 KiB", "1.5 GiB") for messages.
std::string format_bytes(u64 bytes);

}  // namespace cow
