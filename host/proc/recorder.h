// recorder.h: a recording written to a file as it is made. The format and its
// lines are engine/recording/recording.h's (rec_line::*); this part opens the
// file, flushes each line, and turns /proc samples into the format's rows.
//
//   Result<Recorder> rec = Recorder::open("run.jsonl", "live", "cowlab live -p 1");
//   rec->sample(rec_sample(t_s, rows));    // rows: (pid, what ProcFs::sample said)
//   rec->close();                          // the end line
#pragma once

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "procfs.h"
#include "recording.h"

namespace cowlab::live {

// A process's figures as a recording holds them (or its problem).
cow::RecProc rec_proc(int pid, const Result<ProcSample>& s);
// One sample of processes at t_s.
cow::RecSample rec_sample(double t_s, const std::vector<std::pair<int, Result<ProcSample>>>& rows);

class Recorder {
public:
    // Creates (or truncates) the file and writes the header line (this machine, now).
    static Result<Recorder> open(const std::string& path, const std::string& source, const std::string& command);
    Recorder() = default;
    Recorder(Recorder&& o) noexcept;
    Recorder& operator=(Recorder&& o) noexcept;
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;
    ~Recorder();

    // Each line is flushed as written: an interrupted recording keeps every line so far.
    Status line(const std::string& text);
    Status sample(const cow::RecSample& s);
    Status pages(const cow::RecPages& p) { return line(cow::rec_line::pages(p)); }
    // Writes the end line and closes the file.
    Status close();
    bool is_open() const { return f_ != nullptr; }
    const std::string& path() const { return path_; }

private:
    std::FILE* f_ = nullptr;
    std::string path_;
    u64 samples_ = 0;
};

}  // namespace cowlab::live
