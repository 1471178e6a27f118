// system.h: what the sampler, the experiments and calibration share: readers
// of the real machine (what it is, a file's text, a program on PATH, the memory
// available), the error of a failed system call as a Status, and a number option.
#pragma once

#include <string>

#include "recording.h"

namespace cowlab::live {

// What this machine is (uname, page size, CPUs, MemTotal), for a recording's header.
cow::RecHost host_info();
// A whole file's text ("" when it cannot be read).
std::string read_file(const std::string& path);
// A "Name:   123 kB" field of a /proc file's text (meminfo, status, smaps_rollup), in kB; -1 when absent.
long long proc_kb(const std::string& text, const std::string& key);
// An error of the real machine (a failed mmap or fork, a server that went away), as a Status.
inline cow::Status failure(const std::string& what) { return cow::fail(cow::Errc::invalid_argument, what); }
// A whole number in [lo, hi]; false otherwise.
bool parse_count(const std::string& s, long long lo, long long hi, long long& out);
// The executable `name` on PATH (or in /usr/local/bin, /usr/bin, /bin when PATH is unset), or "".
std::string find_program(const std::string& name);
// MemAvailable of /proc/meminfo in bytes, 0 when it cannot be read.
cow::u64 mem_available();

}  // namespace cowlab::live
